package reactor

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"mvirt-net/reactor/gateway"
	"mvirt-net/reactor/packet"
	"mvirt-net/reactor/packet/packettest"
	"mvirt-net/tests/vmm"
)

// The veth path of TestUplinkOffloadsTCPFromOutside: the rig's namespace
// and a host's namespace behind it, documentation addresses outside the
// public networks.
var (
	vethRig4  = netip.MustParsePrefix("198.51.100.225/30")
	vethHost4 = netip.MustParsePrefix("198.51.100.226/30")
)

// tcpSeg is a TCP/IPv4 frame from the NIC b to dst with a complete
// checksum; opts are its TCP options (a multiple of 4 bytes).
func tcpSeg(b *testNic, dst netip.AddrPort, sport uint16, seq, ack uint32, flags uint8, opts []byte) []byte {
	l4 := make([]byte, 20+len(opts))
	binary.BigEndian.PutUint16(l4[0:], sport)
	binary.BigEndian.PutUint16(l4[2:], dst.Port())
	binary.BigEndian.PutUint32(l4[4:], seq)
	binary.BigEndian.PutUint32(l4[8:], ack)
	l4[12] = byte(len(l4)/4) << 4
	l4[13] = flags
	binary.BigEndian.PutUint16(l4[14:], 65535)
	copy(l4[20:], opts)
	binary.BigEndian.PutUint16(l4[16:], packet.TransportChecksum(packet.ProtoTCP, b.ip, dst.Addr(), l4))
	return packettest.IPv4(b.mac, gateway.MAC, b.ip, dst.Addr(), packet.ProtoTCP, 64, l4)
}

// checkTCP parses a frame the NIC received with header h: a frame with
// NEEDS_CSUM carries the pseudo-header sum in its checksum, every other
// frame must carry a complete one.
func checkTCP(t testing.TB, h vmm.NetHeader, f []byte) packet.Parsed {
	t.Helper()
	if h.Flags&vmm.NetHdrFNeedsCsum == 0 {
		return packettest.Check(t, f)
	}
	var p packet.Parsed
	packet.Parse(f, &p)
	if p.Reason != packet.ReasonNone {
		t.Fatalf("frame does not parse: %v", p.Reason)
	}
	return p
}

// TestUplinkOffloadsTCPFromOutside: a TCP connection from a socket in a
// namespace behind a veth (kernel TSO on the veth, forwarding into the
// TUN) to a NIC whose TCP the test plays: the kernel's super-frames reach
// a NIC with GUEST_TSO4 whole, with their GSO header, and a NIC without
// offloads as valid segments; the stream arrives byte for byte.
func TestUplinkOffloadsTCPFromOutside(t *testing.T) {
	t.Run("guest_tso4", func(t *testing.T) { tcpFromOutside(t, offloadFeatures) })
	t.Run("no offloads", func(t *testing.T) { tcpFromOutside(t, 0) })
}

func tcpFromOutside(t *testing.T, bFeat uint64) {
	rig := newUplinkRigWith(t, uplinkRigOpts{Offloads: true, BFeat: bFeat})
	requireTunOffloads(t, rig)
	host := newTestNS(t)
	rigEnd, hostEnd := uniqueName("mvr"), uniqueName("mvh")
	rig.ns.run(t, "ip", "link", "add", rigEnd, "type", "veth", "peer", "name", hostEnd, "netns", host.name)
	rig.ns.run(t, "ip", "addr", "add", vethRig4.String(), "dev", rigEnd)
	rig.ns.run(t, "ip", "link", "set", rigEnd, "up")
	host.run(t, "ip", "addr", "add", vethHost4.String(), "dev", hostEnd)
	host.run(t, "ip", "link", "set", hostEnd, "up")
	host.run(t, "ip", "route", "add", "default", "via", vethRig4.Addr().String())

	// The host's socket connects, non-blocking, to the NIC's port.
	const port = 7400
	var fd int
	host.do(t, func() {
		var err error
		if fd, err = unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0); err != nil {
			t.Fatal(err)
		}
		if err = unix.Connect(fd, &unix.SockaddrInet4{Port: port, Addr: nicB4.As4()}); err != unix.EINPROGRESS {
			t.Fatalf("connect: %v", err)
		}
	})
	conn, err := net.FileConn(os.NewFile(uintptr(fd), "tcp"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })

	b := rig.b
	var peer netip.AddrPort
	const iss = 5000
	var next uint32
	// The SYN: answered with MSS 1460 and window scaling.
	for peer == (netip.AddrPort{}) {
		hdrs, got := recvFrames(t, rig.a, b, 1)
		if len(got) == 0 {
			t.Fatalf("no SYN reached the NIC; uplink %+v", rig.up.Stats().Snapshot())
		}
		for i, f := range got {
			p := checkTCP(t, hdrs[i], f)
			l4 := f[p.L4Off:]
			if p.IPProto != packet.ProtoTCP || binary.BigEndian.Uint16(l4[2:]) != port || l4[13]&0x02 == 0 {
				continue
			}
			peer = netip.AddrPortFrom(p.Src, binary.BigEndian.Uint16(l4[0:]))
			next = binary.BigEndian.Uint32(l4[4:]) + 1
		}
	}
	synAck := tcpSeg(b, peer, port, iss, next, 0x12, []byte{2, 4, 0x05, 0xb4, 1, 3, 3, 7})
	fill(t, b, synAck, 1)
	b.r.processTx()

	payload := streamPayload(200000)
	werr := make(chan error, 1)
	go func() {
		_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		_, err := conn.Write(payload)
		werr <- err
	}()
	var stream []byte
	supers, frames := 0, 0
	deadline := time.Now().Add(10 * time.Second)
	for len(stream) < len(payload) && time.Now().Before(deadline) {
		hdrs, got := recvFrames(t, rig.a, b, 1)
		for i, f := range got {
			p := checkTCP(t, hdrs[i], f)
			frames++
			if p.IPProto != packet.ProtoTCP || p.Src != peer.Addr() {
				continue
			}
			l4 := f[p.L4Off:]
			data := l4[int(l4[12]>>4)*4:]
			if binary.BigEndian.Uint32(l4[4:]) == next && len(data) > 0 {
				stream = append(stream, data...)
				next += uint32(len(data))
				if h := hdrs[i]; h.GSOType == vmm.NetHdrGSOTCPv4 {
					if h.GSOSize != 1460 || len(data) <= 1460 {
						t.Fatalf("super-frame of %d bytes with header %+v", len(data), h)
					}
					supers++
				}
			}
		}
		if len(got) > 0 {
			fill(t, b, tcpSeg(b, peer, port, iss+1, next, tcpACK, nil), 1)
			b.r.processTx()
		}
	}
	if err := <-werr; err != nil {
		t.Fatalf("write: %v", err)
	}
	if !bytes.Equal(stream, payload) {
		t.Fatalf("the NIC received %d bytes of the %d sent, or other bytes; uplink %+v, B drops %v",
			len(stream), len(payload), rig.up.Stats().Snapshot(), b.r.cfg.Stats.Snapshot().Drops)
	}
	if bFeat != 0 && supers == 0 {
		t.Fatal("no super-frame reached the NIC whole")
	}
	if bFeat == 0 && supers != 0 {
		t.Fatalf("%d super-frames reached a NIC without offloads", supers)
	}
	t.Logf("%d bytes in %d frames, %d of them super-frames", len(stream), frames, supers)
}
