package bench

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// sizeResult is everything measured at one frame size. A nil run failed
// or was skipped; its note says why.
type sizeResult struct {
	Size    int
	Harness *throughput
	// OursRuns and DPDKRuns are the rounds; Ours and DPDK the median.
	OursRuns, DPDKRuns []throughput
	Ours, DPDK         *throughput
	OursNote, DPDKNote string
	// OursDrops are the daemon's drop counters of both NICs over the run,
	// by reason.
	OursDrops map[string]uint64
}

// latencyResult is a ping-pong run or why there is none.
type latencyResult struct {
	Lat  *latency
	Note string
}

// results is a whole benchmark run.
type results struct {
	Machine          string
	Sizes            []*sizeResult
	LatOurs, LatDPDK latencyResult
	VirtioUser       []virtioUserRun
	VirtioUserNote   string
	IdleNICs         int
	IdlePct          float64
	IdleNote         string
	// SG are the runs with and without a security group.
	SG []*sgResult
	// HP are the runs with and without huge pages.
	HP []*hpResult
	// TSO are the TSO mode's runs.
	TSO []*tsoResult
}

// pickMedians picks the round with the median delivered rate of each
// back-end at each size.
func (r *results) pickMedians() {
	median := func(runs []throughput) *throughput {
		if len(runs) == 0 {
			return nil
		}
		sorted := slices.SortedFunc(slices.Values(runs), func(a, b throughput) int { return cmp.Compare(a.Mpps(), b.Mpps()) })
		return &sorted[len(sorted)/2]
	}
	for _, s := range r.Sizes {
		s.Ours, s.DPDK = median(s.OursRuns), median(s.DPDKRuns)
	}
}

// skipEmpty marks the runs of a back-end that delivered nothing at a size
// where it delivered something at another: it refuses that size (a frame
// above its MTU), which is a note, not a measurement.
func (r *results) skipEmpty() {
	for _, pick := range []func(*sizeResult) (**throughput, *string){
		func(s *sizeResult) (**throughput, *string) { return &s.Ours, &s.OursNote },
		func(s *sizeResult) (**throughput, *string) { return &s.DPDK, &s.DPDKNote },
	} {
		delivered := false
		for _, s := range r.Sizes {
			t, _ := pick(s)
			delivered = delivered || (*t != nil && (*t).Frames > 0)
		}
		for _, s := range r.Sizes {
			if t, note := pick(s); delivered && *t != nil && (*t).Frames == 0 {
				*note = fmt.Sprintf("skipped: none of the %d frames taken was delivered, the back-end refuses %d B frames", (*t).Sent, s.Size)
				*t = nil
			}
		}
	}
}

// print writes the notes, the table and the BENCH lines.
func (r *results) print(w io.Writer) {
	fmt.Fprintf(w, "\nmachine: %s\n", r.Machine)
	for _, s := range r.Sizes {
		if s.OursNote != "" {
			fmt.Fprintf(w, "note: %d B ours: %s\n", s.Size, s.OursNote)
		}
		if s.DPDKNote != "" {
			fmt.Fprintf(w, "note: %d B DPDK: %s\n", s.Size, s.DPDKNote)
		}
		if len(s.OursDrops) > 0 {
			fmt.Fprintf(w, "note: %d B ours: daemon drops by reason: %s\n", s.Size, formatCounts(s.OursDrops))
		}
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "size B\tours Mpps\tDPDK Mpps\tratio\tours Gbit/s\tDPDK Gbit/s\tratio\tours drop %\tDPDK drop %\tours CPU s/Mpkt\tDPDK CPU s/Mpkt\t")
	for _, s := range r.Sizes {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", s.Size,
			num(s.Ours, throughput.Mpps), num(s.DPDK, throughput.Mpps), ratio(s.Ours, s.DPDK, throughput.Mpps),
			num(s.Ours, throughput.Gbps), num(s.DPDK, throughput.Gbps), ratio(s.Ours, s.DPDK, throughput.Gbps),
			num(s.Ours, dropPct), num(s.DPDK, dropPct),
			num(s.Ours, throughput.CPUPerMpkt), num(s.DPDK, throughput.CPUPerMpkt))
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "\nharness: one core running generator, trivial device and sink in lockstep (self),")
	fmt.Fprintln(w, "and CPU ns per frame of the generator and sink threads in the runs above")
	fmt.Fprintln(tw, "size B\tself Mpps/core\tself ns/frame\tgen ns ours\tgen ns DPDK\tsink ns ours\tsink ns DPDK\t")
	for _, s := range r.Sizes {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", s.Size, num(s.Harness, throughput.Mpps), num(s.Harness, nsPerFrame),
			num(s.Ours, genNs), num(s.DPDK, genNs), num(s.Ours, sinkNs), num(s.DPDK, sinkNs))
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
	for _, s := range r.Sizes {
		fmt.Fprintf(w, "BENCH size=%d ours_mpps=%s dpdk_mpps=%s ratio=%s\n", s.Size,
			num(s.Ours, throughput.Mpps), num(s.DPDK, throughput.Mpps), ratio(s.Ours, s.DPDK, throughput.Mpps))
		fmt.Fprintf(w, "BENCH size=%d ours_gbps=%s dpdk_gbps=%s ratio=%s\n", s.Size,
			num(s.Ours, throughput.Gbps), num(s.DPDK, throughput.Gbps), ratio(s.Ours, s.DPDK, throughput.Gbps))
		fmt.Fprintf(w, "BENCH size=%d ours_drops=%s dpdk_drops=%s ours_cpu_s_per_mpkt=%s dpdk_cpu_s_per_mpkt=%s\n", s.Size,
			dropCount(s.Ours), dropCount(s.DPDK), num(s.Ours, throughput.CPUPerMpkt), num(s.DPDK, throughput.CPUPerMpkt))
		fmt.Fprintf(w, "BENCH harness size=%d self_mpps_per_core=%s gen_ns_ours=%s gen_ns_dpdk=%s sink_ns_ours=%s sink_ns_dpdk=%s\n", s.Size,
			num(s.Harness, throughput.Mpps), num(s.Ours, genNs), num(s.DPDK, genNs), num(s.Ours, sinkNs), num(s.DPDK, sinkNs))
	}
	printTSO(w, r.TSO)
	printSG(w, r.SG)
	printHP(w, r.HP)
	r.printLatency(w, "ours", r.LatOurs)
	r.printLatency(w, "dpdk", r.LatDPDK)
	for _, v := range r.VirtioUser {
		fmt.Fprintf(w, "BENCH virtio_user size=%d tx_mpps=%.3f delivered_mpps=%.3f daemon_cpu_s_per_mpkt=%s\n",
			v.Size, v.TxMpps, v.Delivered.Mpps(), num(&v.Delivered, throughput.CPUPerMpkt))
	}
	if r.VirtioUserNote != "" {
		fmt.Fprintf(w, "note: virtio_user: %s\n", r.VirtioUserNote)
	}
	switch {
	case r.IdleNote != "":
		fmt.Fprintf(w, "note: idle: %s\n", r.IdleNote)
	case r.IdleNICs > 0:
		fmt.Fprintf(w, "BENCH idle_nics=%d cpu_pct=%.2f\n", r.IdleNICs, r.IdlePct)
	}
}

func (r *results) printLatency(w io.Writer, who string, l latencyResult) {
	if l.Lat == nil {
		fmt.Fprintf(w, "BENCH latency backend=%s size=64 none: %s\n", who, l.Note)
		return
	}
	us := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Nanoseconds())/1e3) }
	fmt.Fprintf(w, "BENCH latency backend=%s size=64 p50_us=%s p99_us=%s p999_us=%s samples=%d lost=%d\n",
		who, us(l.Lat.P50), us(l.Lat.P99), us(l.Lat.P999), l.Lat.Samples, l.Lat.Lost)
}

// num formats f of t, or "-" without a measurement or where f is not
// defined (NaN).
func num(t *throughput, f func(throughput) float64) string {
	if t == nil {
		return "-"
	}
	return fmtNum(f(*t))
}

// fmtNum formats v with three decimals, none from 100 up, or "-" for NaN.
func fmtNum(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3f", v)
}

// dropCount formats t's drops, or "-" without a measurement.
func dropCount(t *throughput) string {
	if t == nil {
		return "-"
	}
	return fmt.Sprint(t.Drops())
}

// ratio formats f(ours)/f(dpdk).
func ratio(ours, dpdk *throughput, f func(throughput) float64) string {
	if ours == nil || dpdk == nil || f(*dpdk) <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f", f(*ours)/f(*dpdk))
}

func dropPct(t throughput) float64 {
	if t.Sent == 0 {
		return math.NaN()
	}
	return 100 * float64(t.Drops()) / float64(t.Sent)
}

func genNs(t throughput) float64 { return t.GenNs }

func nsPerFrame(t throughput) float64 { return 1e3 / t.Mpps() }

func sinkNs(t throughput) float64 { return t.SinkNs }

// formatCounts writes non-zero counters as name=value, sorted by name.
func formatCounts(m map[string]uint64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] != 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}
