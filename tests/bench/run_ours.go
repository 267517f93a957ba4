package bench

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// virtioUserSizes are the sizes of the virtio_user cross-check.
var virtioUserSizes = []int{64, 1500}

// minProfile is the shortest daemon profile worth taking.
const minProfile = 5 * time.Second

func socketsOf(nics []nicInfo) [2]string { return [2]string{nics[0].Socket, nics[1].Socket} }

func endpointsOf(nics []nicInfo) [2]endpoint { return [2]endpoint{nics[0].endpoint, nics[1].endpoint} }

// oursAt measures one size through NICs A and B of the daemon and adds
// the daemon's drop counters over the run to s.
func oursAt(o *ourDaemon, nics []nicInfo, s *sizeResult, cfg Config, w io.Writer) error {
	before, err := o.dropCounts(nics[0].ID, nics[1].ID)
	if err != nil {
		return err
	}
	t, err := throughputOnce(socketsOf(nics), endpointsOf(nics), s.Size, cfg, o.cpu)
	if err != nil {
		return err
	}
	after, err := o.dropCounts(nics[0].ID, nics[1].ID)
	if err != nil {
		return err
	}
	if s.OursDrops == nil {
		s.OursDrops = map[string]uint64{}
	}
	for k := range after {
		s.OursDrops[k] += after[k] - before[k]
	}
	s.OursRuns = append(s.OursRuns, t)
	progress(w, "ours", t)
	return nil
}

// oursExtras runs what only our daemon gets: the profile, the virtio_user
// cross-check and the idle cost.
func oursExtras(o *ourDaemon, nics []nicInfo, cfg Config, res *results, w io.Writer) error {
	var errs []error
	if cfg.Profile != "" {
		if err := profileRun(o, nics, cfg.Profile, cfg); err != nil {
			errs = append(errs, fmt.Errorf("ours profile: %w", err))
		} else {
			fmt.Fprintf(w, "daemon CPU profile of a %d B run: %s\n", slices.Min(cfg.Sizes), cfg.Profile)
		}
	}
	if err := virtioUserCheck(o, nics, cfg, res, w); err != nil {
		res.VirtioUserNote = err.Error()
		errs = append(errs, fmt.Errorf("virtio_user: %w", err))
	}
	if res.IdleNICs = cfg.IdleNICs; cfg.IdleNICs > 0 {
		var err error
		idleProfile := ""
		if cfg.Profile != "" {
			idleProfile = strings.TrimSuffix(cfg.Profile, ".pprof") + "-idle.pprof"
		}
		if res.IdlePct, err = idleCost(o, cfg.IdleNICs, cfg.IdleTime, idleProfile); err != nil {
			res.IdleNote = err.Error()
			errs = append(errs, fmt.Errorf("idle: %w", err))
		} else if idleProfile != "" {
			fmt.Fprintf(w, "daemon CPU profile of %d idle NICs: %s\n", cfg.IdleNICs, idleProfile)
		}
	}
	return errors.Join(errs...)
}

// profileRun runs the smallest size once more while fetching a CPU
// profile of the daemon, and writes it to path.
func profileRun(o *ourDaemon, nics []nicInfo, path string, cfg Config) error {
	d := max(cfg.Measure, minProfile)
	errc := make(chan error, 1)
	go func() {
		time.Sleep(cfg.Warmup)
		errc <- o.profile(path, d)
	}()
	ctl := cfg
	ctl.Measure = d + time.Second
	_, err := throughputOnce(socketsOf(nics), endpointsOf(nics), slices.Min(cfg.Sizes), ctl, o.cpu)
	return errors.Join(err, <-errc)
}

// virtioUserCheck sends into NIC A with testpmd's virtio_user front-end
// while the harness sinks NIC B.
func virtioUserCheck(o *ourDaemon, nics []nicInfo, cfg Config, res *results, w io.Writer) error {
	for _, size := range virtioUserSizes {
		if !slices.Contains(cfg.Sizes, size) {
			continue
		}
		b, err := dialPort(nics[1].Socket, cfg.port())
		if err != nil {
			return err
		}
		v, err := runVirtioUser(cfg.Testpmd, nics[0].Socket, nics[0].endpoint, nics[1].endpoint, size, b, cfg.window(), o.cpu)
		b.close()
		if err != nil {
			return err
		}
		res.VirtioUser = append(res.VirtioUser, v)
		fmt.Fprintf(w, "virtio_user %5d B: testpmd sent %.3f Mpps into the daemon, %.3f Mpps delivered\n", size, v.TxMpps, v.Delivered.Mpps())
	}
	return nil
}
