package e2e_test

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// console is a guest's serial output (and QEMU's own messages), kept line
// by line with the time each line arrived, so that tests can wait for
// marker lines, time events, and print it all when they fail. It is safe
// for concurrent use.
type console struct {
	start time.Time
	mu    sync.Mutex
	lines []string
	times []time.Time
	eof   bool
	// changed is closed and replaced whenever a line arrives or the
	// output ends.
	changed chan struct{}
}

// newConsole returns an empty console whose clock starts now.
func newConsole() *console {
	return &console{start: time.Now(), changed: make(chan struct{})}
}

// collect reads r until it ends, adding each line without its line end.
func (c *console) collect(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		c.mu.Lock()
		c.lines = append(c.lines, strings.TrimRight(sc.Text(), "\r"))
		c.times = append(c.times, time.Now())
		c.notifyLocked()
		c.mu.Unlock()
	}
	c.mu.Lock()
	c.eof = true
	c.notifyLocked()
	c.mu.Unlock()
}

// notifyLocked wakes the waiters; c.mu must be held.
func (c *console) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// len is the number of lines so far: a mark to wait for later lines.
func (c *console) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.lines)
}

// since returns the lines from index from on.
func (c *console) since(from int) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if from >= len(c.lines) {
		return nil
	}
	return append([]string(nil), c.lines[from:]...)
}

// find returns the index of the first line at index from or later that
// match accepts, or -1.
func (c *console) find(from int, match func(string) bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := from; i < len(c.lines); i++ {
		if match(c.lines[i]) {
			return i
		}
	}
	return -1
}

// waitFor waits up to timeout for a line at index from or later that
// match accepts, and returns its index and text.
func (c *console) waitFor(from int, timeout time.Duration, what string, match func(string) bool) (int, string, error) {
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		for i := from; i < len(c.lines); i++ {
			if match(c.lines[i]) {
				l := c.lines[i]
				c.mu.Unlock()
				return i, l, nil
			}
		}
		eof, changed := c.eof, c.changed
		c.mu.Unlock()
		if eof {
			return 0, "", fmt.Errorf("console ended without %s", what)
		}
		select {
		case <-changed:
		case <-deadline:
			return 0, "", fmt.Errorf("no %s on the console within %s", what, timeout)
		}
	}
}

// at returns when line i arrived.
func (c *console) at(i int) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.times[i]
}

// String returns the whole output so far, each line with the seconds
// since QEMU started.
func (c *console) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	for i, l := range c.lines {
		fmt.Fprintf(&b, "[%7.3f] %s\n", c.times[i].Sub(c.start).Seconds(), l)
	}
	return b.String()
}
