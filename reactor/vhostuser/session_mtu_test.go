package vhostuser_test

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"mvirt-net/reactor/vhostuser"
	"mvirt-net/tests/vmm"
)

// TestNetSetMTU offers VIRTIO_NET_F_MTU and NET_MTU, and acknowledges
// NET_SET_MTU from 68 up to the network's MTU, which may change while the
// session lives; others are refused with a non-zero ack and the
// connection stays.
func TestNetSetMTU(t *testing.T) {
	var limit atomic.Int64
	limit.Store(9000)
	f, b := startSession(t, vhostuser.SessionConfig{MaxMTU: func() int { return int(limit.Load()) }})
	if got, err := f.GetFeatures(); err != nil || got&vhostuser.FeatureMTU == 0 {
		t.Fatalf("features %#x (%v) lack VIRTIO_NET_F_MTU", got, err)
	}
	if got, err := f.GetProtocolFeatures(); err != nil || got&vhostuser.ProtocolNetMTU == 0 {
		t.Fatalf("protocol features %#x (%v) lack NET_MTU", got, err)
	}
	cfg := guestSetup(t, vhostuser.DefaultFeatures, qemuProtocol|vhostuser.ProtocolNetMTU)
	if err := f.Handshake(cfg); err != nil {
		t.Fatal(err)
	}
	b.dev.takeEvents()
	for _, c := range []struct {
		limit int64
		mtu   uint64
		ok    bool
	}{
		{9000, 9000, true}, {9000, 1500, true}, {9000, 68, true},
		{9000, 9001, false}, {9000, 67, false}, {9000, 0, false}, {9000, 1 << 40, false},
		{1400, 1500, false}, {1400, 1400, true},
	} {
		limit.Store(c.limit)
		err := f.SetNetMTU(c.mtu)
		if c.ok && err != nil {
			t.Errorf("NET_SET_MTU %d with the network at %d: %v", c.mtu, c.limit, err)
		}
		if !c.ok && !errors.Is(err, vmm.ErrNack) {
			t.Errorf("NET_SET_MTU %d with the network at %d: %v, want ErrNack", c.mtu, c.limit, err)
		}
	}
	// The rings keep running through it all.
	equalEvents(t, b.dev.takeEvents())
	if _, err := f.GetFeatures(); err != nil {
		t.Fatalf("connection lost after refusals: %v", err)
	}
}

// TestNetSetMTUWithoutReplyAck: an MTU accepted needs no answer; one
// refused without REPLY_ACK cannot be told to the front-end, so the
// session ends, naming the request.
func TestNetSetMTUWithoutReplyAck(t *testing.T) {
	f, b := startSession(t, vhostuser.SessionConfig{MaxMTU: func() int { return 1500 }})
	if err := f.SetNetMTU(1500); err != nil {
		t.Fatal(err)
	}
	if _, err := f.GetFeatures(); err != nil {
		t.Fatalf("connection lost after an accepted MTU: %v", err)
	}
	if err := f.SetNetMTU(9000); err != nil {
		t.Fatal(err)
	}
	err := b.wait(t)
	if err == nil || !strings.Contains(err.Error(), "NET_SET_MTU") || !errors.Is(err, vhostuser.ErrBadValue) {
		t.Fatalf("session ended with %v, want a refused NET_SET_MTU", err)
	}
}
