package vhostuser_test

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"mvirt-net/reactor/vhostuser"
	"mvirt-net/tests/vmm"
)

func TestHandshakeQEMUOrder(t *testing.T) {
	f, b := startSession(t, vhostuser.SessionConfig{})
	cfg := guestSetup(t, vhostuser.DefaultFeatures, qemuProtocol)
	if err := f.Handshake(cfg); err != nil {
		t.Fatal(err)
	}
	equalEvents(t, b.dev.takeEvents(), "add 0x0", "start 0", "start 1")
	for q, v := range cfg.Vrings {
		running, rc := b.dev.ring(q)
		if !running {
			t.Fatalf("queue %d not running", q)
		}
		if rc.Size != v.Size || rc.Desc != v.Desc || rc.Avail != v.Avail || rc.Used != v.Used || rc.Base != 0 {
			t.Errorf("queue %d config %+v, want %+v", q, rc, v)
		}
		if rc.Features != vhostuser.DefaultFeatures || rc.Kick < 0 || rc.Call < 0 || rc.Err != -1 {
			t.Errorf("queue %d config %+v", q, rc)
		}
	}
	b.dev.set(func(d *fakeDevice) { d.nextAvail = [2]uint16{7, 9} })
	bases, err := f.StopVrings(2)
	if err != nil {
		t.Fatal(err)
	}
	if bases[0] != 7 || bases[1] != 9 {
		t.Errorf("bases %v, want [7 9]", bases)
	}
	equalEvents(t, b.dev.takeEvents(), "stop 0", "stop 1")

	// QEMU's restart: the same memory table again, then each ring anew.
	cfg.Features = vhostuser.DefaultFeatures
	if err := f.SetMemTable(cfg.Regions); err != nil {
		t.Fatal(err)
	}
	for q, v := range cfg.Vrings {
		for _, err := range []error{
			f.SetVringBase(uint32(q), uint32(bases[q])),
			f.SetVringKick(uint32(q), v.Kick),
			f.SetVringEnable(uint32(q), true),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	equalEvents(t, b.dev.takeEvents(), "start 0", "start 1")
	if _, rc := b.dev.ring(1); rc.Base != 9 {
		t.Errorf("restarted queue 1 at %d, want 9", rc.Base)
	}
}

func TestHandshakeMemSlots(t *testing.T) {
	f, b := startSession(t, vhostuser.SessionConfig{})
	cfg := guestSetup(t, vhostuser.DefaultFeatures, qemuProtocol|vhostuser.ProtocolConfigureMemSlots)
	extra := vmm.MemRegion{GuestPhysAddr: 1 << 32, Size: 1 << 16, UserspaceAddr: userBase + 1<<30, Fd: memfd(t, 1<<16)}
	cfg.Regions = append(cfg.Regions, extra)
	if err := f.Handshake(cfg); err != nil {
		t.Fatal(err)
	}
	equalEvents(t, b.dev.takeEvents(), "add 0x0", "add 0x100000000", "start 0", "start 1")

	if err := f.RemMemReg(extra); err != nil {
		t.Fatal(err)
	}
	equalEvents(t, b.dev.takeEvents(), "stop 0", "stop 1", "remove 0x100000000", "start 0", "start 1")
	if err := f.RemMemReg(extra); !errors.Is(err, vmm.ErrNack) {
		t.Errorf("removing an unknown region: %v, want ErrNack", err)
	}
	overlapping := extra
	overlapping.GuestPhysAddr = 0x8000
	if err := f.AddMemReg(overlapping); !errors.Is(err, vmm.ErrNack) {
		t.Errorf("adding an overlapping region: %v, want ErrNack", err)
	}
	if err := f.AddMemReg(extra); err != nil {
		t.Fatal(err)
	}
	equalEvents(t, b.dev.takeEvents(), "add 0x100000000")
	if n, err := f.GetMaxMemSlots(); err != nil || n != vhostuser.MaxMemSlots {
		t.Errorf("GetMaxMemSlots = %d, %v", n, err)
	}
}

func TestWithoutProtocolFeatures(t *testing.T) {
	f, b := startSession(t, vhostuser.SessionConfig{})
	features := vhostuser.FeatureVersion1 | vhostuser.FeatureMrgRxbuf
	cfg := guestSetup(t, features, 0)
	if err := f.Handshake(cfg); err != nil {
		t.Fatal(err)
	}
	roundTrip(t, f)
	// Rings run from their kick on, without SET_VRING_ENABLE; the call
	// eventfd QEMU sends after the kick restarts each.
	equalEvents(t, b.dev.takeEvents(), "add 0x0", "start 0", "stop 0", "start 0", "start 1", "stop 1", "start 1")
	if _, rc := b.dev.ring(0); rc.Features != features {
		t.Errorf("features %#x, want %#x", rc.Features, features)
	}
}

func TestPollingRingWithoutEventfds(t *testing.T) {
	f, b := startSession(t, vhostuser.SessionConfig{})
	cfg := guestSetup(t, vhostuser.DefaultFeatures, qemuProtocol)
	for q := range cfg.Vrings {
		cfg.Vrings[q].Kick, cfg.Vrings[q].Call = -1, -1
	}
	if err := f.Handshake(cfg); err != nil {
		t.Fatal(err)
	}
	if running, rc := b.dev.ring(0); !running || rc.Kick != -1 || rc.Call != -1 {
		t.Errorf("queue 0 running %t with %+v, want polling", running, rc)
	}
}

func TestRingsWaitForEnable(t *testing.T) {
	f, b := startSession(t, vhostuser.SessionConfig{})
	cfg := guestSetup(t, vhostuser.DefaultFeatures, qemuProtocol)
	cfg.Vrings = cfg.Vrings[:1]
	if err := f.Handshake(cfg); err != nil {
		t.Fatal(err)
	}
	b.dev.takeEvents()
	v := guestSetup(t, vhostuser.DefaultFeatures, 0).Vrings[1]
	for _, err := range []error{
		f.SetVringNum(1, uint32(v.Size)),
		f.SetVringAddr(1, v.Desc, v.Avail, v.Used),
		f.SetVringKick(1, v.Kick),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	equalEvents(t, b.dev.takeEvents())
	if err := f.SetVringEnable(1, true); err != nil {
		t.Fatal(err)
	}
	equalEvents(t, b.dev.takeEvents(), "start 1")
	if err := f.SetVringEnable(1, false); err != nil {
		t.Fatal(err)
	}
	equalEvents(t, b.dev.takeEvents(), "stop 1")
}

func TestChangesRestartRunningRing(t *testing.T) {
	f, b := startSession(t, vhostuser.SessionConfig{})
	cfg := guestSetup(t, vhostuser.DefaultFeatures, qemuProtocol)
	if err := f.Handshake(cfg); err != nil {
		t.Fatal(err)
	}
	b.dev.takeEvents()
	b.dev.set(func(d *fakeDevice) { d.nextAvail[0] = 42 })
	call := eventfd(t)
	if err := f.SetVringCall(0, call); err != nil {
		t.Fatal(err)
	}
	equalEvents(t, b.dev.takeEvents(), "stop 0", "start 0")
	_, rc := b.dev.ring(0)
	if rc.Base != 42 {
		t.Errorf("restarted at %d, want 42", rc.Base)
	}
	if !sameFile(t, rc.Call, call) {
		t.Error("new call eventfd not in use")
	}
	// The same memory table again changes nothing.
	if err := f.SetMemTable(cfg.Regions); err != nil {
		t.Fatal(err)
	}
	equalEvents(t, b.dev.takeEvents())
	if err := f.SetFeatures(vhostuser.DefaultFeatures &^ vhostuser.FeatureEventIdx); err != nil {
		t.Fatal(err)
	}
	equalEvents(t, b.dev.takeEvents(), "stop 0", "stop 1", "start 0", "start 1")
}

func sameFile(t *testing.T, a, b int) bool {
	t.Helper()
	var sa, sb unix.Stat_t
	if unix.Fstat(a, &sa) != nil || unix.Fstat(b, &sb) != nil {
		return false
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

func TestStartFailureSignalsErrFd(t *testing.T) {
	f, b := startSession(t, vhostuser.SessionConfig{})
	cfg := guestSetup(t, vhostuser.DefaultFeatures, qemuProtocol)
	errfd := eventfd(t)
	if err := f.SetVringErr(0, errfd); err != nil {
		t.Fatal(err)
	}
	b.dev.set(func(d *fakeDevice) { d.startErr = errors.New("address not in guest memory") })
	if err := f.Handshake(cfg); err != nil {
		t.Fatal(err)
	}
	var buf [8]byte
	if n, err := unix.Read(errfd, buf[:]); n != 8 || err != nil {
		t.Errorf("error eventfd not signalled: %d, %v", n, err)
	}
	equalEvents(t, b.dev.takeEvents(), "add 0x0", "start-fail 0", "start-fail 1")
	// Not retried until something changes.
	if _, err := f.GetFeatures(); err != nil {
		t.Fatal(err)
	}
	equalEvents(t, b.dev.takeEvents())
	b.dev.set(func(d *fakeDevice) { d.startErr = nil })
	v := cfg.Vrings[0]
	if err := f.SetVringAddr(0, v.Desc, v.Avail, v.Used); err != nil {
		t.Fatal(err)
	}
	equalEvents(t, b.dev.takeEvents(), "start 0")
}

func TestReplyAck(t *testing.T) {
	f, b := startSession(t, vhostuser.SessionConfig{})
	if err := f.SetProtocolFeatures(vhostuser.ProtocolReplyAck); err != nil {
		t.Fatal(err)
	}
	if err := f.SetOwner(); err != nil {
		t.Fatalf("acked request: %v", err)
	}
	for _, c := range []struct {
		name string
		err  error
	}{
		{"unoffered feature", f.SetFeatures(vhostuser.FeatureLogAll)},
		{"queue out of range", f.SetVringNum(2, 256)},
		{"ring size not a power of two", f.SetVringNum(0, 100)},
		{"misaligned ring", f.SetVringAddr(0, userBase+8, userBase+0x1000, userBase+0x2000)},
		{"base beyond 16 bits", f.SetVringBase(0, 1<<16)},
		{"zero-sized region", f.AddMemReg(vmm.MemRegion{Fd: memfd(t, 4096)})},
	} {
		if !errors.Is(c.err, vmm.ErrNack) {
			t.Errorf("%s: %v, want ErrNack", c.name, c.err)
		}
	}
	if _, err := f.GetFeatures(); err != nil {
		t.Fatalf("connection lost after refusals: %v", err)
	}
	equalEvents(t, b.dev.takeEvents())
}

func TestResetOwner(t *testing.T) {
	f, b := startSession(t, vhostuser.SessionConfig{})
	cfg := guestSetup(t, vhostuser.DefaultFeatures, qemuProtocol)
	if err := f.Handshake(cfg); err != nil {
		t.Fatal(err)
	}
	b.dev.takeEvents()
	if err := f.ResetOwner(); err != nil {
		t.Fatal(err)
	}
	equalEvents(t, b.dev.takeEvents(), "stop 0", "stop 1", "remove 0x0")
	// Everything is configured anew, protocol features included.
	if err := f.Handshake(cfg); err != nil {
		t.Fatal(err)
	}
	equalEvents(t, b.dev.takeEvents(), "add 0x0", "start 0", "start 1")
}

func TestMemoryRefusals(t *testing.T) {
	f, b := startSession(t, vhostuser.SessionConfig{})
	if err := f.SetProtocolFeatures(vhostuser.ProtocolReplyAck); err != nil {
		t.Fatal(err)
	}
	mem := memfd(t, 1<<16)
	good := vmm.MemRegion{Size: 1 << 16, UserspaceAddr: userBase, Fd: mem}
	unmappable := vmm.MemRegion{GuestPhysAddr: 1 << 20, Size: 1 << 12, MmapOffset: 1, Fd: mem}
	overlapping := vmm.MemRegion{GuestPhysAddr: 0x8000, Size: 1 << 16, Fd: mem}
	wrapping := vmm.MemRegion{GuestPhysAddr: ^uint64(0) - 10, Size: 1 << 12, Fd: mem}
	for _, regions := range [][]vmm.MemRegion{
		{good, unmappable},
		{good, overlapping},
		{wrapping},
	} {
		if err := f.SetMemTable(regions); !errors.Is(err, vmm.ErrNack) {
			t.Errorf("table %+v: %v, want ErrNack", regions, err)
		}
	}
	// The refused table with an unmappable region left no memory behind.
	equalEvents(t, b.dev.takeEvents(), "add 0x0", "add 0x100000", "remove 0x0")
	if err := f.SetMemTable([]vmm.MemRegion{good}); err != nil {
		t.Fatal(err)
	}
	equalEvents(t, b.dev.takeEvents(), "add 0x0")
}

func TestNeedReplyWithoutReplyAck(t *testing.T) {
	f, _ := startSession(t, vhostuser.SessionConfig{})
	sendRaw(t, f, vhostuser.ReqSetOwner, vhostuser.FlagNeedReply, nil, nil)
	if st := expectAck(t, f, vhostuser.ReqSetOwner); st != 0 {
		t.Errorf("SET_OWNER refused: %d", st)
	}
}

func TestOfferedFeatures(t *testing.T) {
	f, _ := startSession(t, vhostuser.SessionConfig{Features: vhostuser.FeatureVersion1 | vhostuser.FeatureLogAll})
	got, err := f.GetFeatures()
	if err != nil {
		t.Fatal(err)
	}
	if want := vhostuser.FeatureVersion1 | vhostuser.FeatureProtocolFeatures; got != want {
		t.Errorf("offered %#x, want %#x", got, want)
	}
	p, err := f.GetProtocolFeatures()
	if err != nil {
		t.Fatal(err)
	}
	if p != vhostuser.SupportedProtocolFeatures || p&vhostuser.ProtocolLogShmfd != 0 {
		t.Errorf("protocol features %#x", p)
	}
	if n, err := f.GetQueueNum(); err != nil || n != 2 {
		t.Errorf("GET_QUEUE_NUM = %d, %v", n, err)
	}
}
