package bench

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// guestMemory is each benchmark guest's RAM, shared with the back-end
// through memfd.
const guestMemory = "256M"

// guestImage is the kernel and initramfs of tests/e2e/guest/build.sh.
type guestImage struct{ kernel, initrd string }

// buildGuestImage runs tests/e2e/guest/build.sh into .cache/e2e of the
// module root, as the e2e tests do (it rebuilds only what changed).
func buildGuestImage() (guestImage, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return guestImage{}, fmt.Errorf("bench: go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	cache := filepath.Join(root, ".cache", "e2e")
	if out, err := exec.Command(filepath.Join(root, "tests", "e2e", "guest", "build.sh"), cache).CombinedOutput(); err != nil {
		return guestImage{}, fmt.Errorf("bench: guest/build.sh: %w\n%s", err, out)
	}
	return guestImage{kernel: filepath.Join(cache, "vmlinuz"), initrd: filepath.Join(cache, "initramfs.cpio.gz")}, nil
}

// guestVM is one QEMU (TCG) guest running the e2e guest's /init on a
// vhost-user socket, driven through its serial console.
type guestVM struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	mu     sync.Mutex
	lines  []string
	exited chan struct{}
}

// startGuest boots img on socket with MAC mac and the kernel command line
// cmdline, with the QEMU options of the e2e tests (memfd memory, MSI-X
// off) and QEMU's default virtio-net device, which offers the guest every
// offload the back-end offers.
func startGuest(img guestImage, socket, mac, cmdline string) (*guestVM, error) {
	cmd := exec.Command("qemu-system-x86_64",
		"-accel", "tcg", "-m", guestMemory, "-smp", "1",
		"-object", "memory-backend-memfd,id=mem,size="+guestMemory+",share=on",
		"-numa", "node,memdev=mem",
		"-kernel", img.kernel, "-initrd", img.initrd, "-append", cmdline,
		"-chardev", "socket,id=c0,path="+socket+",reconnect=1",
		"-netdev", "vhost-user,id=n0,chardev=c0",
		"-device", "virtio-net-pci,netdev=n0,mac="+mac+",vectors=0,romfile=",
		"-nographic", "-nodefaults", "-serial", "stdio", "-no-reboot")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("bench: qemu stdin: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("bench: qemu output: %w", err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		_ = r.Close()
		_ = w.Close()
		return nil, fmt.Errorf("bench: start qemu: %w", err)
	}
	_ = w.Close()
	g := &guestVM{cmd: cmd, stdin: stdin, exited: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			g.mu.Lock()
			g.lines = append(g.lines, strings.TrimRight(sc.Text(), "\r"))
			g.mu.Unlock()
		}
		_ = r.Close()
	}()
	go func() { _ = cmd.Wait(); close(g.exited) }()
	return g, nil
}

// waitFor waits up to timeout for a console line holding s and returns
// it from s on.
func (g *guestVM) waitFor(s string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		g.mu.Lock()
		for _, l := range g.lines {
			if i := strings.Index(l, s); i >= 0 {
				g.mu.Unlock()
				return l[i:], nil
			}
		}
		g.mu.Unlock()
		select {
		case <-g.exited:
			return "", fmt.Errorf("bench: guest exited before %q\n%s", s, g.console())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("bench: no %q on the guest console within %s\n%s", s, timeout, g.console())
		}
	}
}

// console returns the end of the console, for errors.
func (g *guestVM) console() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return strings.Join(g.lines[max(0, len(g.lines)-30):], "\n")
}

// tell writes a line to the guest's console.
func (g *guestVM) tell(line string) error {
	if _, err := io.WriteString(g.stdin, line+"\n"); err != nil {
		return fmt.Errorf("bench: write to guest console: %w", err)
	}
	return nil
}

// stop tells the guest to power off, waiting for its /init's last line,
// and kills QEMU if it does not exit in time.
func (g *guestVM) stop() {
	_ = g.tell("bye")
	select {
	case <-g.exited:
	case <-time.After(20 * time.Second):
		_ = g.cmd.Process.Kill()
		<-g.exited
	}
}

// kill stops QEMU at once.
func (g *guestVM) kill() {
	if err := g.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return
	}
	<-g.exited
}
