package vhostuser_test

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"mvirt-net/reactor/vhostuser"
	"mvirt-net/tests/vmm"
)

// fakeDevice is a Device that maps the regions it is given, records every
// call, and checks the order the Session promises.
type fakeDevice struct {
	mu         sync.Mutex
	events     []string
	violations []string
	regions    map[uint64][]byte
	running    [vhostuser.NumQueues]bool
	cfg        [vhostuser.NumQueues]vhostuser.RingConfig
	nextAvail  [vhostuser.NumQueues]uint16
	startErr   error
}

func newFakeDevice() *fakeDevice {
	return &fakeDevice{regions: map[uint64][]byte{}}
}

func (d *fakeDevice) violate(format string, args ...any) {
	d.violations = append(d.violations, fmt.Sprintf(format, args...))
}

func fdValid(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err == nil
}

func (d *fakeDevice) AddRegion(r vhostuser.Region) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.events = append(d.events, fmt.Sprintf("add %#x", r.GuestPhysAddr))
	if _, dup := d.regions[r.GuestPhysAddr]; dup {
		d.violate("region %#x added twice", r.GuestPhysAddr)
	}
	mem, err := unix.Mmap(r.Fd, int64(r.MmapOffset), int(r.Size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("mmap: %w", err)
	}
	d.regions[r.GuestPhysAddr] = mem
	return nil
}

func (d *fakeDevice) RemoveRegion(r vhostuser.Region) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.events = append(d.events, fmt.Sprintf("remove %#x", r.GuestPhysAddr))
	for q, run := range d.running {
		if run {
			d.violate("region %#x removed while queue %d runs", r.GuestPhysAddr, q)
		}
	}
	mem, ok := d.regions[r.GuestPhysAddr]
	if !ok {
		d.violate("unknown region %#x removed", r.GuestPhysAddr)
		return
	}
	_ = unix.Munmap(mem)
	delete(d.regions, r.GuestPhysAddr)
}

func (d *fakeDevice) StartRing(q int, cfg vhostuser.RingConfig) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.startErr != nil {
		d.events = append(d.events, fmt.Sprintf("start-fail %d", q))
		return d.startErr
	}
	d.events = append(d.events, fmt.Sprintf("start %d", q))
	if d.running[q] {
		d.violate("queue %d started twice", q)
	}
	if len(d.regions) == 0 {
		d.violate("queue %d started without memory", q)
	}
	for _, fd := range []int{cfg.Kick, cfg.Call, cfg.Err} {
		if fd >= 0 && !fdValid(fd) {
			d.violate("queue %d started with closed fd %d", q, fd)
		}
	}
	d.running[q], d.cfg[q] = true, cfg
	return nil
}

func (d *fakeDevice) StopRing(q int) uint16 {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.events = append(d.events, fmt.Sprintf("stop %d", q))
	if !d.running[q] {
		d.violate("queue %d stopped while not running", q)
	}
	for _, fd := range []int{d.cfg[q].Kick, d.cfg[q].Call, d.cfg[q].Err} {
		if fd >= 0 && !fdValid(fd) {
			d.violate("queue %d: fd %d closed before stop", q, fd)
		}
	}
	d.running[q] = false
	return d.nextAvail[q]
}

// takeEvents returns the events since the last call.
func (d *fakeDevice) takeEvents() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	ev := d.events
	d.events = nil
	return ev
}

func (d *fakeDevice) ring(q int) (bool, vhostuser.RingConfig) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.running[q], d.cfg[q]
}

func (d *fakeDevice) set(f func(d *fakeDevice)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f(d)
}

func (d *fakeDevice) check(t *testing.T) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, v := range d.violations {
		t.Errorf("device contract: %s", v)
	}
}

// backend runs a Session on one end of a socketpair the way a reactor
// would: poll, then HandleReadable, until an error.
type backend struct {
	dev  *fakeDevice
	done chan error
	stop chan struct{}
}

// wait returns the error that ended the session.
func (b *backend) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-b.done:
		b.done <- err
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("session did not end")
		return nil
	}
}

func startSession(t *testing.T, cfg vhostuser.SessionConfig) (*vmm.Frontend, *backend) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.SetNonblock(fds[1], true); err != nil {
		t.Fatal(err)
	}
	b := &backend{dev: newFakeDevice(), done: make(chan error, 1), stop: make(chan struct{})}
	s := vhostuser.NewSession(fds[1], b.dev, cfg)
	go b.run(s)
	f := vmm.NewFrontend(fds[0])
	f.SetTimeout(2 * time.Second)
	t.Cleanup(func() {
		close(b.stop)
		_ = f.Close()
		b.wait(t)
		b.dev.check(t)
	})
	return f, b
}

func (b *backend) run(s *vhostuser.Session) {
	pfd := []unix.PollFd{{Fd: int32(s.Fd()), Events: unix.POLLIN}}
	var err error
	for err == nil {
		select {
		case <-b.stop:
			err = errors.New("stopped")
			continue
		default:
		}
		if _, perr := unix.Poll(pfd, 20); perr != nil && !errors.Is(perr, unix.EINTR) {
			err = perr
			continue
		}
		err = s.HandleReadable()
	}
	_ = s.Close()
	b.done <- err
}

// openFds counts this process's open descriptors.
func openFds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents) - 1 // the directory being read
}

func memfd(t *testing.T, size int) int {
	t.Helper()
	fd, err := unix.MemfdCreate("guest", unix.MFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Close(fd) })
	return fd
}

func eventfd(t *testing.T) int {
	t.Helper()
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Close(fd) })
	return fd
}

// guest is a small guest: one 1 MiB region at guest address 0, mapped by
// the "VMM" at userBase, with both rings inside it.
const (
	guestSize = 1 << 20
	userBase  = 0x7f0000000000
)

func guestSetup(t *testing.T, features, protocol uint64) vmm.HandshakeConfig {
	t.Helper()
	mem := memfd(t, guestSize)
	cfg := vmm.HandshakeConfig{
		Features:         features,
		ProtocolFeatures: protocol,
		Regions: []vmm.MemRegion{{
			GuestPhysAddr: 0, Size: guestSize, UserspaceAddr: userBase, Fd: mem,
		}},
	}
	for q := range vhostuser.NumQueues {
		base := uint64(userBase + q*0x10000)
		cfg.Vrings = append(cfg.Vrings, vmm.VringSetup{
			Size: 256, Desc: base, Avail: base + 0x1000, Used: base + 0x2000,
			Kick: eventfd(t), Call: eventfd(t),
		})
	}
	return cfg
}

const qemuProtocol = vhostuser.ProtocolMQ | vhostuser.ProtocolReplyAck

func equalEvents(t *testing.T, got []string, want ...string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("device events %q, want %q", got, want)
	}
}

// roundTrip waits until the back-end has handled everything sent so far.
func roundTrip(t *testing.T, f *vmm.Frontend) {
	t.Helper()
	if _, err := f.GetFeatures(); err != nil {
		t.Fatal(err)
	}
}
