package bench

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"

	"mvirt-net/reactor/vhostuser"
)

// The TSO mode's rings: the generator's transmit ring has the 256 entries
// of QEMU's default, the sink's receive buffers are the page-sized ones
// Linux's mergeable buffers grow to under bulk TCP.
const (
	tsoTxQueue   = 256
	tsoRxBufSize = 4096
)

// tsoMode is one way the sink takes the stream.
type tsoMode struct {
	Name string
	// Sink are the virtio features the sink negotiates.
	Sink uint64
}

// tsoModes: the sink takes super-frames and partial checksums whole
// (pass-through), or neither, so the back-end segments and checksums.
var tsoModes = []tsoMode{
	{Name: "passthrough", Sink: featureGuestCSUM | featureGuestTSO4},
	{Name: "segmented"},
}

// tsoResult is one mode's rounds on both back-ends (DPDK only in
// pass-through: testpmd's mac fwd does not segment) and their medians.
type tsoResult struct {
	Mode               tsoMode
	Ours, DPDK         []tsoThroughput
	OursNote, DPDKNote string
	oursM, dpdkM       *tsoThroughput
	// OursDrops are the daemon's drop counters of both NICs over ours'
	// runs, by reason.
	OursDrops map[string]uint64
}

// tsoPorts connects the generator's TSO port to sockets[0] and the
// sink's port, with mode's features, to sockets[1].
func tsoPorts(sockets [2]string, mode tsoMode, cfg Config) (a, b *port, err error) {
	ac := portConfig{
		QueueSize: tsoTxQueue, RxBufSize: rxBufSize, TSO: true,
		Need: featureCSUM | featureHostTSO4, Want: vhostuser.FeatureIndirectDesc,
	}
	bc := portConfig{QueueSize: cfg.QueueSize, RxBufSize: tsoRxBufSize, TxBufSize: rxBufSize, Need: mode.Sink}
	if a, err = dialPort(sockets[0], ac); err != nil {
		return nil, nil, err
	}
	if b, err = dialPort(sockets[1], bc); err != nil {
		a.close()
		return nil, nil, err
	}
	return a, b, nil
}

// tsoOnce measures one mode through the back-end at sockets.
func tsoOnce(sockets [2]string, ends [2]endpoint, mode tsoMode, cfg Config, cpu cpuFunc) (tsoThroughput, error) {
	a, b, err := tsoPorts(sockets, mode, cfg)
	if err != nil {
		return tsoThroughput{}, err
	}
	defer a.close()
	defer b.close()
	return runTSO(a, b, ends[0], ends[1], cfg.window(), cpu)
}

// tsoRun measures every mode cfg.Rounds times through NICs A and B of o
// and, in pass-through, through a fresh testpmd with tso=1 before each.
// A back-end that does not offer the offloads (ours with
// --offloads=false) is a note, not an error.
func tsoRun(o *ourDaemon, nics []nicInfo, cfg Config, w io.Writer) ([]*tsoResult, error) {
	var res []*tsoResult
	for _, m := range tsoModes {
		res = append(res, &tsoResult{Mode: m})
	}
	var errs []error
	note := func(who string, r *tsoResult, err error) {
		if !errors.Is(err, errFeatures) {
			errs = append(errs, fmt.Errorf("tso %s %s: %w", r.Mode.Name, who, err))
		}
		if who == "ours" {
			r.OursNote = err.Error()
		} else {
			r.DPDKNote = err.Error()
		}
	}
	for range cfg.Rounds {
		for _, r := range res {
			if r.Mode.Sink != 0 {
				if t, err := dpdkTSO(r.Mode, cfg); err != nil {
					note("dpdk", r, err)
				} else {
					r.DPDK = append(r.DPDK, t)
					tsoProgress(w, "DPDK", r.Mode, t)
				}
			}
			if t, err := oursTSO(o, nics, r, cfg); err != nil {
				note("ours", r, err)
			} else {
				r.Ours = append(r.Ours, t)
				tsoProgress(w, "ours", r.Mode, t)
			}
		}
	}
	for _, r := range res {
		r.oursM, r.dpdkM = medianTSO(r.Ours), medianTSO(r.DPDK)
	}
	return res, errors.Join(errs...)
}

// oursTSO measures r's mode through NICs A and B of o and adds the
// daemon's drop counters over the run to r.
func oursTSO(o *ourDaemon, nics []nicInfo, r *tsoResult, cfg Config) (tsoThroughput, error) {
	before, err := o.dropCounts(nics[0].ID, nics[1].ID)
	if err != nil {
		return tsoThroughput{}, err
	}
	t, err := tsoOnce(socketsOf(nics), endpointsOf(nics), r.Mode, cfg, o.cpu)
	if err != nil {
		return t, err
	}
	after, err := o.dropCounts(nics[0].ID, nics[1].ID)
	if err != nil {
		return t, err
	}
	if r.OursDrops == nil {
		r.OursDrops = map[string]uint64{}
	}
	for k := range after {
		r.OursDrops[k] += after[k] - before[k]
	}
	return t, nil
}

// dpdkTSO measures one mode through a fresh testpmd whose vhost ports
// offer TSO (tso=1).
func dpdkTSO(mode tsoMode, cfg Config) (tsoThroughput, error) {
	b, err := startDPDKBackend(cfg.Testpmd, ",tso=1")
	if err != nil {
		return tsoThroughput{}, err
	}
	defer b.stop()
	return tsoOnce(b.sockets, [2]endpoint{endA, endB}, mode, cfg, b.pmd.cpu)
}

func medianTSO(runs []tsoThroughput) *tsoThroughput {
	if len(runs) == 0 {
		return nil
	}
	sorted := slices.SortedFunc(slices.Values(runs), func(a, b tsoThroughput) int { return cmp.Compare(a.Gbps(), b.Gbps()) })
	return &sorted[len(sorted)/2]
}

// tsoProgress prints one TSO run as it completes.
func tsoProgress(w io.Writer, who string, m tsoMode, t tsoThroughput) {
	fmt.Fprintf(w, "%-8s tso %-11s: %7.3f Gbit/s TCP payload, %d super-frames sent, %d frames delivered (%d super-frames), %s CPU s/GB, %d of %d checked frames bad%s, harness %.0f ns/super-frame + %.0f ns/frame\n",
		who, m.Name, t.Gbps(), t.Sent, t.Frames, t.GSO, tsoNum(&t, tsoThroughput.CPUPerGB), t.Bad, t.Checked, firstBad(t), t.GenNs, t.SinkNs)
}

func firstBad(t tsoThroughput) string {
	s := ""
	if t.FirstBad != "" {
		s = " (first: " + t.FirstBad + ")"
	}
	if t.Stall != "" {
		s += ", stalled: " + t.Stall
	}
	return s
}

// printTSO writes the notes and one BENCH line per mode.
func printTSO(w io.Writer, res []*tsoResult) {
	for _, r := range res {
		if r.OursNote != "" {
			fmt.Fprintf(w, "note: tso %s ours: %s\n", r.Mode.Name, r.OursNote)
		}
		if r.DPDKNote != "" {
			fmt.Fprintf(w, "note: tso %s DPDK: %s\n", r.Mode.Name, r.DPDKNote)
		}
		if len(r.OursDrops) > 0 {
			fmt.Fprintf(w, "note: tso %s ours: daemon drops by reason over all rounds: %s\n", r.Mode.Name, formatCounts(r.OursDrops))
		}
		for _, s := range []struct {
			who string
			t   *tsoThroughput
		}{{"ours", r.oursM}, {"DPDK", r.dpdkM}} {
			if s.t != nil && s.t.Bad > 0 {
				fmt.Fprintf(w, "note: tso %s %s: %d of %d checked frames bad, first: %s\n", r.Mode.Name, s.who, s.t.Bad, s.t.Checked, s.t.FirstBad)
			}
		}
		if d := r.dpdkM; d != nil && d.GSO == 0 && d.Frames > 0 {
			fmt.Fprintf(w, "note: tso %s DPDK: no super-frame reached the sink, %.2f frames per super-frame sent: testpmd's mac fwd clears the mbuf offload flags, so its vhost PMD writes a zero virtio header and delivers each super-frame as one linear frame, its checksum completed in software\n",
				r.Mode.Name, d.FramesPerSuper())
		}
		extra := fmt.Sprintf("ours_cpu_s_per_gb=%s ours_frames_per_super=%s ours_super_frames=%s",
			tsoNum(r.oursM, tsoThroughput.CPUPerGB), tsoNum(r.oursM, tsoThroughput.FramesPerSuper), tsoNum(r.oursM, superShare))
		if r.Mode.Sink == 0 {
			fmt.Fprintf(w, "BENCH tso mode=%s ours_gbps=%s %s\n", r.Mode.Name, tsoNum(r.oursM, tsoThroughput.Gbps), extra)
			continue
		}
		fmt.Fprintf(w, "BENCH tso mode=%s ours_gbps=%s dpdk_gbps=%s ratio=%s %s dpdk_cpu_s_per_gb=%s dpdk_frames_per_super=%s dpdk_super_frames=%s\n",
			r.Mode.Name, tsoNum(r.oursM, tsoThroughput.Gbps), tsoNum(r.dpdkM, tsoThroughput.Gbps), tsoRatio(r.oursM, r.dpdkM), extra,
			tsoNum(r.dpdkM, tsoThroughput.CPUPerGB), tsoNum(r.dpdkM, tsoThroughput.FramesPerSuper), tsoNum(r.dpdkM, superShare))
	}
}

// superShare is the share of delivered frames that were super-frames.
func superShare(t tsoThroughput) float64 {
	if t.Frames == 0 {
		return 0
	}
	return float64(t.GSO) / float64(t.Frames)
}

func tsoNum(t *tsoThroughput, f func(tsoThroughput) float64) string {
	if t == nil {
		return "-"
	}
	return fmtNum(f(*t))
}

func tsoRatio(ours, dpdk *tsoThroughput) string {
	if ours == nil || dpdk == nil || dpdk.Gbps() <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f", ours.Gbps()/dpdk.Gbps())
}
