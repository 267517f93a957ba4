package virtq_test

import (
	"bytes"
	"fmt"
	"testing"

	"mvirt-net/reactor/virtq"
	"mvirt-net/tests/vmm"
)

// TestTxFrames sends frames from driver to device under every ring
// option and checks each chain's header and bytes.
func TestTxFrames(t *testing.T) {
	for _, eventIdx := range []bool{false, true} {
		for _, indirect := range []bool{false, true} {
			for _, odd := range []bool{false, true} {
				name := fmt.Sprintf("eventidx=%v/indirect=%v/availodd=%v", eventIdx, indirect, odd)
				t.Run(name, func(t *testing.T) {
					dc := vmm.DriverQueueConfig{Size: 64, EventIdx: eventIdx, Indirect: indirect, AvailOddWord: odd, BufSize: 1024}
					p := newPair(t, dc, features(dc, 0), virtq.DeviceReads)
					c := virtq.NewChain(16)
					seq := 0
					for round := range 50 {
						var sent [][]byte
						for range 1 + round%10 {
							f := frameFor(seq, frameLen(seq, 2000))
							hdr := vmm.NetHeader{Flags: vmm.NetHdrFNeedsCsum, CsumStart: uint16(seq)}
							if _, err := p.drv.AddTX(hdr, f); err != nil {
								t.Fatal(err)
							}
							sent = append(sent, append(hdr.Append(nil), f...))
							seq++
						}
						p.drv.Publish()
						for i, want := range sent {
							ok, f := p.dev.Pop(&c)
							if !ok || f != virtq.FaultNone {
								t.Fatalf("round %d frame %d: Pop = %v, %v", round, i, ok, f)
							}
							if c.Readable != len(c.Segs) || c.WriteLen != 0 || c.ReadLen != len(want) {
								t.Fatalf("chain shape: %d of %d readable, %d/%d bytes", c.Readable, len(c.Segs), c.ReadLen, c.WriteLen)
							}
							if got := gather(c.ReadSegs()); !bytes.Equal(got, want) {
								t.Fatalf("round %d frame %d: bytes differ", round, i)
							}
							p.dev.AddUsed(c.Head, 0)
						}
						if ok, f := p.dev.Pop(&c); ok || f != virtq.FaultNone {
							t.Fatalf("Pop on empty queue = %v, %v", ok, f)
						}
						p.dev.Publish()
						for range sent {
							u, ok, err := p.drv.GetUsed()
							if !ok || err != nil || u.Len != 0 {
								t.Fatalf("GetUsed = %+v, %v, %v", u, ok, err)
							}
						}
					}
					if p.drv.FreeDescs() != 64 {
						t.Fatalf("%d descriptors free at the end, want 64", p.drv.FreeDescs())
					}
				})
			}
		}
	}
}

// TestMixedChain pops a chain with readable and writable buffers and
// returns a length the driver checks.
func TestMixedChain(t *testing.T) {
	for _, indirect := range []bool{false, true} {
		dc := vmm.DriverQueueConfig{Size: 8, Indirect: indirect}
		p := newPair(t, dc, features(dc, 0), virtq.AnyDirection)
		head, err := p.drv.AddChain([][]byte{[]byte("request"), []byte("more")}, []int{100, 50})
		if err != nil {
			t.Fatal(err)
		}
		p.drv.Publish()
		c := virtq.NewChain(8)
		if ok, f := p.dev.Pop(&c); !ok || f != virtq.FaultNone {
			t.Fatalf("Pop = %v, %v", ok, f)
		}
		if c.Head != head || c.Readable != 2 || c.ReadLen != 11 || c.WriteLen != 150 || len(c.Segs) != 4 {
			t.Fatalf("chain %+v", c)
		}
		if string(gather(c.ReadSegs())) != "requestmore" {
			t.Fatalf("read %q", gather(c.ReadSegs()))
		}
		w := c.WriteSegs()
		copy(w[0], bytes.Repeat([]byte{'a'}, 100))
		copy(w[1], "bb")
		p.dev.AddUsed(c.Head, 102)
		p.dev.Publish()
		u, ok, err := p.drv.GetUsed()
		if !ok || err != nil || u.Head != head || string(u.Data) != string(bytes.Repeat([]byte{'a'}, 100))+"bb" {
			t.Fatalf("GetUsed = %+v, %v, %v", u, ok, err)
		}
	}
}

// TestSegmentLimit pops a chain with more buffers than the Chain holds:
// it is consumed, truncated, reported as non-fatal and can be given back.
func TestSegmentLimit(t *testing.T) {
	dc := vmm.DriverQueueConfig{Size: 16}
	p := newPair(t, dc, features(dc, 0), virtq.DeviceReads)
	out := [][]byte{[]byte("a"), []byte("b"), []byte("c"), []byte("d"), []byte("e")}
	head, _ := p.drv.AddChain(out, nil)
	next, _ := p.drv.AddChain(out[:2], nil)
	p.drv.Publish()
	c := virtq.NewChain(3)
	ok, f := p.dev.Pop(&c)
	if !ok || f != virtq.FaultSegmentLimit || f.Fatal() || c.Head != head || len(c.Segs) != 3 || string(gather(c.Segs)) != "abc" {
		t.Fatalf("Pop = %v, %v, chain %+v", ok, f, c)
	}
	p.dev.AddUsed(c.Head, 0)
	if ok, f := p.dev.Pop(&c); !ok || f != virtq.FaultNone || c.Head != next {
		t.Fatalf("next Pop = %v, %v", ok, f)
	}
	p.dev.AddUsed(c.Head, 0)
	p.dev.Publish()
	for range 2 {
		if _, ok, err := p.drv.GetUsed(); !ok || err != nil {
			t.Fatalf("GetUsed: %v %v", ok, err)
		}
	}
}

// TestResumeFromBase restarts the device queue mid-stream, as after a
// back-end reconnect with GET_VRING_BASE / SET_VRING_BASE.
func TestResumeFromBase(t *testing.T) {
	dc := vmm.DriverQueueConfig{Size: 16, EventIdx: true}
	feat := features(dc, 0)
	p := newPair(t, dc, feat, virtq.DeviceReads)
	c := virtq.NewChain(4)
	for i := range 5 {
		p.drv.AddTX(vmm.NetHeader{}, frameFor(i, 60))
	}
	p.drv.Publish()
	for range 3 {
		p.dev.Pop(&c)
		p.dev.AddUsed(c.Head, 0)
	}
	p.dev.Publish()
	base := p.dev.LastAvail()
	p.setup(t, feat, virtq.DeviceReads, base)
	if p.dev.UsedIdx() != 3 || p.dev.LastAvail() != 3 {
		t.Fatalf("after restart used %d last avail %d, want 3 3", p.dev.UsedIdx(), p.dev.LastAvail())
	}
	for i := 3; i < 5; i++ {
		if ok, f := p.dev.Pop(&c); !ok || f != virtq.FaultNone {
			t.Fatalf("Pop after restart = %v, %v", ok, f)
		}
		if got := gather(c.Segs)[vmm.NetHeaderLen:]; !bytes.Equal(got, frameFor(i, 60)) {
			t.Fatalf("frame %d differs after restart", i)
		}
	}
}

// TestSetupErrors feeds Setup bad sizes and ring addresses.
func TestSetupErrors(t *testing.T) {
	dc := vmm.DriverQueueConfig{Size: 8}
	p := newPair(t, dc, 0, virtq.DeviceReads)
	d, a, u := p.drv.Addrs()
	end := p.mem.Base() + p.mem.Size()
	good := virtq.Config{Size: 8, Dir: virtq.DeviceReads, Space: virtq.GuestPhys, Desc: d, Avail: a, Used: u}
	if err := p.dev.Setup(p.tbl, good); err != nil {
		t.Fatalf("guest-physical setup: %v", err)
	}
	tests := []struct {
		name   string
		modify func(*virtq.Config)
	}{
		{"size 0", func(c *virtq.Config) { c.Size = 0 }},
		{"size 12", func(c *virtq.Config) { c.Size = 12 }},
		{"size 65536/2+1", func(c *virtq.Config) { c.Size = virtq.MaxSize + 1 }},
		{"no direction", func(c *virtq.Config) { c.Dir = 0 }},
		{"no address space", func(c *virtq.Config) { c.Space = 0 }},
		{"desc misaligned", func(c *virtq.Config) { c.Desc += 8 }},
		{"avail misaligned", func(c *virtq.Config) { c.Avail++ }},
		{"used misaligned", func(c *virtq.Config) { c.Used += 2 }},
		{"desc outside memory", func(c *virtq.Config) { c.Desc = 0x1000 }},
		{"avail crosses memory end", func(c *virtq.Config) { c.Avail = end - 16 }},
		{"used crosses memory end", func(c *virtq.Config) { c.Used = end - 64 }},
		{"user address as guest-physical", func(c *virtq.Config) { c.Space = virtq.UserAddrs }},
	}
	for _, tc := range tests {
		cfg := good
		tc.modify(&cfg)
		if err := p.dev.Setup(p.tbl, cfg); err == nil {
			t.Errorf("%s: Setup succeeded", tc.name)
		}
	}
	// A 4-aligned used ring can end 2 bytes before the end of memory; the
	// word holding avail_event still fits.
	cfg := good
	cfg.Used = end - 72
	if err := p.dev.Setup(p.tbl, cfg); err != nil {
		t.Errorf("used ring near the end of memory: %v", err)
	}
}
