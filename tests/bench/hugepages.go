package bench

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// hpSizes are the frame sizes measured with inboxes on huge pages, those
// up to the largest the run measures: 64 B frames live whole in the
// slots' bookkeeping (Go heap), 200 B frames are copied whole into the
// slot memory, 1500 B frames are lent (their heads in the bookkeeping)
// until half the sender's TX ring is in flight, and copied into slot
// memory past that.
var hpSizes = []int{64, 200, 1500}

// nrHugepages sizes the kernel's pool of 2 MiB pages.
const nrHugepages = "/proc/sys/vm/nr_hugepages"

// hpResult is one size's throughput through NICs A and B of the daemon
// on normal pages and through two NICs of a second daemon started with
// --hugepages=required, runs alternating so that both see the same
// moments of a shared machine.
type hpResult struct {
	Size          int
	Plain, Huge   []throughput
	Note          string
	plainM, hugeM *throughput
}

// reservePages adds n pages to the pool and returns what puts the old
// size back.
func reservePages(n int) (func() error, error) {
	old, err := os.ReadFile(nrHugepages)
	if err != nil {
		return nil, fmt.Errorf("bench: read huge page pool: %w", err)
	}
	total, err := strconv.Atoi(strings.TrimSpace(string(old)))
	if err != nil {
		return nil, fmt.Errorf("bench: %s: %w", nrHugepages, err)
	}
	restore := func() error {
		if err := os.WriteFile(nrHugepages, old, 0o644); err != nil {
			return fmt.Errorf("bench: restore %s: %w", nrHugepages, err)
		}
		return nil
	}
	if err := os.WriteFile(nrHugepages, []byte(strconv.Itoa(total+n)), 0o644); err != nil {
		return nil, errors.Join(fmt.Errorf("bench: reserve %d huge pages: %w", n, err), restore())
	}
	return restore, nil
}

// hpRun measures every size of hpSizes cfg.Rounds times on o's NICs and
// on those of a daemon on huge pages, with o's flags.
func hpRun(o *ourDaemon, nics []nicInfo, cfg Config, w io.Writer) (res []*hpResult, err error) {
	for _, size := range hpSizes {
		if size <= slices.Max(cfg.Sizes) {
			res = append(res, &hpResult{Size: size})
		}
	}
	if len(res) == 0 {
		return nil, nil
	}
	restore, err := reservePages(2)
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, restore()) }()
	h, err := startDaemon(append(slices.Clone(cfg.DaemonArgs), "--hugepages=required"))
	if err != nil {
		return res, fmt.Errorf("daemon on huge pages: %w", err)
	}
	defer func() { err = errors.Join(err, h.stop()) }()
	hnics, err := h.createNetwork("bench-huge", "10.0.0.0/24", 2)
	if err != nil {
		return res, err
	}
	var errs []error
	for range cfg.Rounds {
		for _, s := range res {
			if err := hpOnce(o, nics, h, hnics, s, cfg, w); err != nil {
				s.Note = err.Error()
				errs = append(errs, fmt.Errorf("huge pages %d B: %w", s.Size, err))
			}
		}
	}
	for _, s := range res {
		s.plainM, s.hugeM = medianRun(s.Plain), medianRun(s.Huge)
	}
	return res, errors.Join(errs...)
}

func hpOnce(o *ourDaemon, nics []nicInfo, h *ourDaemon, hnics []nicInfo, s *hpResult, cfg Config, w io.Writer) error {
	plain, err := throughputOnce(socketsOf(nics), endpointsOf(nics), s.Size, cfg, o.cpu)
	if err != nil {
		return err
	}
	progress(w, "4k pages", plain)
	s.Plain = append(s.Plain, plain)
	huge, err := throughputOnce(socketsOf(hnics), endpointsOf(hnics), s.Size, cfg, h.cpu)
	if err != nil {
		return err
	}
	progress(w, "2M pages", huge)
	s.Huge = append(s.Huge, huge)
	return nil
}

// printHP writes one BENCH line per size: the median rate with inboxes
// on huge pages against the median without.
func printHP(w io.Writer, res []*hpResult) {
	for _, s := range res {
		if s.Note != "" {
			fmt.Fprintf(w, "note: huge pages %d B: %s\n", s.Size, s.Note)
		}
		fmt.Fprintf(w, "BENCH hugepages=on size=%d ratio=%s huge_mpps=%s plain_mpps=%s\n", s.Size,
			ratio(s.hugeM, s.plainM, throughput.Mpps), num(s.hugeM, throughput.Mpps), num(s.plainM, throughput.Mpps))
	}
}
