package dpdk_test

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"mvirt-net/tests/daemon"
)

const (
	// testpmdBinary is the DPDK test application; Debian's dpdk-dev
	// package has it and tests/setup/install-deps.sh installs it.
	testpmdBinary = "dpdk-testpmd"
	// dpdkRuntimeDir is where DPDK's EAL makes its runtime directory,
	// one per --file-prefix, when run as root. With --no-shconf it stays
	// empty and is removed after the run.
	dpdkRuntimeDir = "/var/run/dpdk"
	// quitGrace is how long testpmd may take to stop its ports and exit.
	quitGrace = 5 * time.Second
)

// testpmd is one running dpdk-testpmd in non-interactive mode: it
// forwards from its start until its standard input is closed, then stops
// its ports and exits.
type testpmd struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	out     *daemon.LockedBuffer
	done    chan struct{}
	waitErr error
	// killed is set by kill: the exit it causes is no failure.
	killed bool
}

// testpmdPath returns the path of dpdk-testpmd, and fails the test if it
// is not installed: make test installs it, so its absence is a failure.
func testpmdPath(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath(testpmdBinary)
	if err != nil {
		t.Fatalf("%v: install Debian's dpdk-dev (tests/setup/install-deps.sh does)", err)
	}
	return bin
}

// startTestpmd runs the testpmd at bin with EAL arguments eal and
// application arguments app. It adds what every run here needs: no
// hugepages, no PCI scan, no shared configuration files and a file prefix
// of its own, so that parallel runs do not meet. At cleanup testpmd is
// stopped if still running, and its output logged if the test failed.
func startTestpmd(t *testing.T, bin string, eal, app []string) *testpmd {
	t.Helper()
	prefix := fmt.Sprintf("mvirt-net-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	args := append([]string{"--no-huge", "-m", "512", "--no-pci", "--no-shconf", "--file-prefix=" + prefix}, eal...)
	args = append(append(args, "--"), app...)
	p := &testpmd{cmd: exec.Command(bin, args...), out: &daemon.LockedBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatalf("testpmd stdin: %v", err)
	}
	t.Logf("running %s", p.cmd)
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start testpmd: %v", err)
	}
	go func() { p.waitErr = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		if err := p.quit(); err != nil {
			t.Error(err)
		}
		_ = os.Remove(filepath.Join(dpdkRuntimeDir, prefix))
		if t.Failed() {
			t.Logf("testpmd output:\n%s", p.output())
		}
	})
	return p
}

// kill sends testpmd SIGKILL, as a crashing VMM dies: it stops in the
// middle of whatever it did, and only the kernel closes its sockets and
// frees its memory. It returns once testpmd has exited.
func (p *testpmd) kill() error {
	p.killed = true
	if err := p.cmd.Process.Kill(); err != nil {
		return fmt.Errorf("kill testpmd: %w", err)
	}
	<-p.done
	return nil
}

// exited is closed when testpmd has exited.
func (p *testpmd) exited() <-chan struct{} { return p.done }

// output returns what testpmd printed so far. Its own messages on
// standard output reach the pipe when its stdio buffer fills or at exit;
// DPDK's log lines on standard error come at once.
func (p *testpmd) output() string { return p.out.String() }

// quit closes testpmd's standard input, which makes it stop forwarding,
// stop its ports and exit, and waits for that. It returns an error unless
// testpmd exits with status 0 within quitGrace; one that does not is
// interrupted, then killed. Called again, it reports how testpmd exited.
func (p *testpmd) quit() error {
	_ = p.stdin.Close()
	if p.killed {
		<-p.done
		return nil
	}
	select {
	case <-p.done:
	case <-time.After(quitGrace):
		_ = p.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-p.done:
		case <-time.After(quitGrace):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		return fmt.Errorf("testpmd did not exit within %s of its input closing: %v", quitGrace, p.waitErr)
	}
	if p.waitErr != nil {
		return fmt.Errorf("testpmd: %w", p.waitErr)
	}
	return nil
}
