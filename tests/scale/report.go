package scale

import (
	"fmt"
	"io"
	"time"
)

// Report prints the figures as a table and as machine-readable BENCH
// lines.
func Report(w io.Writer, cfg Config, r *Result) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	fmt.Fprintf(w, "\nCreateNic on one network\n")
	fmt.Fprintf(w, "  %-12s %6s %10s %10s %10s %14s\n", "concurrency", "nics", "p50 ms", "p99 ms", "nics/s", "daemon CPU/nic")
	for _, l := range []Latency{r.Sequential, r.Concurrent} {
		fmt.Fprintf(w, "  %-12d %6d %10.2f %10.2f %10.0f %11.0f µs\n", l.Concurrency, l.N, ms(l.P50), ms(l.P99), l.Rate, float64(l.CPU)/1e3)
		fmt.Fprintf(w, "BENCH createnic_c%d_p50_ms=%.2f createnic_c%d_p99_ms=%.2f createnic_c%d_per_s=%.0f createnic_c%d_cpu_us=%.0f\n",
			l.Concurrency, ms(l.P50), l.Concurrency, ms(l.P99), l.Concurrency, l.Rate, l.Concurrency, float64(l.CPU)/1e3)
	}
	fmt.Fprintf(w, "\n%d NICs, idle CPU over %s\n", cfg.NICs, cfg.IdleTime)
	fmt.Fprintf(w, "  %-10s %10s %8s %6s %10s\n", "", "RSS MiB", "threads", "fds", "CPU %core")
	for _, row := range []struct {
		name string
		f    Footprint
		cpu  float64
	}{{"created", r.Created, r.IdleCreated}, {"connected", r.Connected, r.IdleConnected}} {
		fmt.Fprintf(w, "  %-10s %10.1f %8d %6d %10.2f\n", row.name, float64(row.f.RSSKiB)/1024, row.f.Threads, row.f.Fds, row.cpu)
		fmt.Fprintf(w, "BENCH %s_rss_mib=%.1f %s_threads=%d %s_fds=%d %s_idle_cpu_pct=%.2f\n",
			row.name, float64(row.f.RSSKiB)/1024, row.name, row.f.Threads, row.name, row.f.Fds, row.name, row.cpu)
	}
	fmt.Fprintf(w, "\nstart with %d NICs in the store, until serving: %.0f ms\n", cfg.NICs, ms(r.Start))
	fmt.Fprintf(w, "BENCH start_ms=%.0f\n", ms(r.Start))
}
