package scale

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"mvirt-net/tests/daemon"
)

// profiler fetches a profile from the daemon's /debug/pprof (the daemon
// must run with --debug-pprof) into a file.
type profiler struct {
	d    *daemon.Daemon
	done chan error
}

// startCPUProfile starts a CPU profile of d over dur, written to file
// when it ends; wait for it with wait.
func startCPUProfile(d *daemon.Daemon, file string, dur time.Duration) *profiler {
	p := &profiler{d: d, done: make(chan error, 1)}
	go func() {
		p.done <- fetch(d, fmt.Sprintf("/debug/pprof/profile?seconds=%d", max(1, int(dur.Seconds()))), file)
	}()
	return p
}

// wait returns the profile's error, once it is written.
func (p *profiler) wait() error {
	if p == nil {
		return nil
	}
	return <-p.done
}

// fetch writes the daemon's debug path to file.
func fetch(d *daemon.Daemon, path, file string) error {
	res, err := d.HTTPClient().Get(d.DebugURL(path))
	if err != nil {
		return fmt.Errorf("scale: fetch %s: %w", path, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("scale: fetch %s: %s (is --debug-pprof given?)", path, res.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("scale: profile file: %w", err)
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		_ = f.Close()
		return fmt.Errorf("scale: write %s: %w", file, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("scale: write %s: %w", file, err)
	}
	return nil
}

// memoryProfile writes the daemon's heap profile to file, its runtime
// memory statistics to file.txt and its /proc smaps_rollup to file.smaps.
func memoryProfile(d *daemon.Daemon, file string) error {
	if err := fetch(d, "/debug/pprof/heap", file); err != nil {
		return err
	}
	if err := fetch(d, "/debug/pprof/heap?debug=1", file+".txt"); err != nil {
		return err
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", d.Pid()))
	if err != nil {
		return fmt.Errorf("scale: read smaps_rollup: %w", err)
	}
	if err := os.WriteFile(file+".smaps", b, 0o644); err != nil {
		return fmt.Errorf("scale: write smaps: %w", err)
	}
	return nil
}
