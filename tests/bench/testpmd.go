package bench

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// testpmdStartTimeout bounds how long testpmd may take to show its prompt.
const testpmdStartTimeout = 30 * time.Second

// testpmd is an interactive dpdk-testpmd process driven through its
// standard input, with options that work without hugepages or devices:
// no PCI, 512 MB of plain memory, no shared runtime files, one
// forwarding lcore beside the main lcore, which only reads commands.
type testpmd struct {
	cmd    *exec.Cmd
	prefix string
	stdin  io.WriteCloser
	out    *syncBuffer
	done   chan struct{}
}

// startTestpmd runs bin with the given virtual devices and testpmd
// options and waits for its prompt. prefix keeps its runtime files apart
// from any other DPDK process. testpmd forwards on CPU fwdCPU (0 or 1)
// and reads commands on the other.
func startTestpmd(bin, prefix string, fwdCPU int, vdevs, opts []string) (*testpmd, error) {
	// stdbuf makes its standard output line-buffered: a pipe would hold
	// the answers to commands back until exit.
	args := []string{"-oL", bin, "-l", "0,1", "--main-lcore", strconv.Itoa(1 - fwdCPU), "--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--file-prefix", prefix}
	for _, v := range vdevs {
		args = append(args, "--vdev", v)
	}
	args = append(args, "--", "-i", "--nb-cores=1", "--total-num-mbufs=16384")
	args = append(args, opts...)
	t := &testpmd{cmd: exec.Command("stdbuf", args...), prefix: prefix, out: &syncBuffer{}, done: make(chan struct{})}
	t.cmd.Stdout, t.cmd.Stderr = t.out, t.out
	var err error
	if t.stdin, err = t.cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("bench: testpmd stdin: %w", err)
	}
	if err := t.cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: start %s: %w", bin, err)
	}
	go func() { _ = t.cmd.Wait(); close(t.done) }()
	if err := t.await("testpmd> ", 1, testpmdStartTimeout); err != nil {
		t.kill()
		return nil, err
	}
	return t, nil
}

// pid returns the process id.
func (t *testpmd) pid() int { return t.cmd.Process.Pid }

// cpu returns the process's CPU time so far.
func (t *testpmd) cpu() (time.Duration, error) { return processCPU(t.pid()) }

// run sends one command line and waits until testpmd prompts again.
func (t *testpmd) run(command string) error {
	prompts := strings.Count(t.out.String(), "testpmd> ")
	if _, err := io.WriteString(t.stdin, command+"\n"); err != nil {
		return fmt.Errorf("bench: testpmd %q: %w", command, err)
	}
	return t.await("testpmd> ", prompts+1, 10*time.Second)
}

// await waits until the output holds n copies of s.
func (t *testpmd) await(s string, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for strings.Count(t.out.String(), s) < n {
		select {
		case <-t.done:
			return fmt.Errorf("bench: testpmd exited: %v\n%s", t.cmd.ProcessState, t.tail())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("bench: testpmd: no %q within %s\n%s", strings.TrimSpace(s), timeout, t.tail())
		}
	}
	return nil
}

// txPackets returns port's TX-packets counter from "show port stats".
func (t *testpmd) txPackets(port int) (uint64, error) {
	if err := t.run(fmt.Sprintf("show port stats %d", port)); err != nil {
		return 0, err
	}
	m := txPacketsRe.FindAllStringSubmatch(t.out.String(), -1)
	if len(m) == 0 {
		return 0, errors.New("bench: testpmd printed no TX-packets")
	}
	n, err := strconv.ParseUint(m[len(m)-1][1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bench: testpmd TX-packets: %w", err)
	}
	return n, nil
}

var txPacketsRe = regexp.MustCompile(`TX-packets:\s+(\d+)`)

// stop quits testpmd, killing it if it does not exit in time.
func (t *testpmd) stop() error {
	_, _ = io.WriteString(t.stdin, "stop\nquit\n")
	select {
	case <-t.done:
		t.removeRuntimeDir()
		return nil
	case <-time.After(15 * time.Second):
		t.kill()
		return fmt.Errorf("bench: testpmd did not quit\n%s", t.tail())
	}
}

func (t *testpmd) kill() {
	_ = t.cmd.Process.Kill()
	<-t.done
	t.removeRuntimeDir()
}

// removeRuntimeDir removes the (empty, with --no-shconf) folder DPDK's
// EAL makes for the file prefix when run as root.
func (t *testpmd) removeRuntimeDir() {
	_ = os.Remove(filepath.Join("/var/run/dpdk", t.prefix))
}

// tail returns the end of testpmd's output, for errors.
func (t *testpmd) tail() string {
	s := t.out.String()
	return s[max(0, len(s)-2000):]
}

// syncBuffer is a bytes.Buffer safe for one writer and other readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
