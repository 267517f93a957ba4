package reactor

import (
	"sync/atomic"

	"mvirt-net/reactor/offload"
)

// DropReason says why a frame was dropped.
type DropReason uint8

// Reasons for drops. "TX" is the guest's transmit queue (frames from the
// VM), "RX" its receive queue (frames to the VM).
const (
	// DropMalformed: a TX frame that does not parse.
	DropMalformed DropReason = iota
	// DropUnrouted: a TX frame for an address nobody answers.
	DropUnrouted
	// DropOversize: a TX chain longer than the largest frame.
	DropOversize
	// DropSegmentLimit: a TX chain with more segments than a chain holds.
	DropSegmentLimit
	// DropNoRxBuffer: the guest had no RX buffer for a frame (for one
	// routed from another NIC: not for maxRxWait).
	DropNoRxBuffer
	// DropRxTooBig: the frame did not fit the guest's RX buffer.
	DropRxTooBig
	// DropSpoofedMAC: a TX frame from a MAC that is not the NIC's.
	DropSpoofedMAC
	// DropSpoofedIPv4: an IPv4 source that is neither the NIC's /32 nor in
	// its routed prefixes (0.0.0.0 is allowed for DHCP only).
	DropSpoofedIPv4
	// DropSpoofedIPv6: an IPv6 source that is neither the NIC's /128, a
	// link-local address, nor in its routed prefixes.
	DropSpoofedIPv6
	// DropToGateway: addressed to the gateway but nothing it answers.
	DropToGateway
	// DropServiceError: a DHCP message the server could not answer.
	DropServiceError
	// DropInboxFull: the destination NIC's inbox was full.
	DropInboxFull
	// DropTooBig: larger than the destination's MTU.
	DropTooBig
	// DropNotPublic: a packet from the uplink to an address of no public
	// network.
	DropNotPublic
	// DropOffload: a packet from the uplink that asks for an offload
	// (segmentation, a partial checksum) the uplink does not do.
	DropOffload
	// DropUplinkWrite: the kernel refused a packet written to the uplink,
	// or no write buffer was free for it.
	DropUplinkWrite
	// DropSGIngressDenied: a new connection to the VM that no rule of its
	// security groups allows.
	DropSGIngressDenied
	// DropSGEgressDenied: a new connection from the VM that no egress rule
	// of its security groups allows.
	DropSGEgressDenied
	// DropConntrackFull: a new connection the NIC's connection table had
	// no room for.
	DropConntrackFull
	// DropLentFault: a frame lent by another NIC whose bytes faulted as
	// they were copied out of that NIC's guest memory (its VMM shrank
	// the memory under it).
	DropLentFault
	// dropOffloadBase is the first of the drops of frames whose offload
	// header was refused, one per offload.Reason (see offloadDrop),
	// named "offload_" and the reason: "offload_gso_size_zero", ...
	dropOffloadBase
	// NumDropReasons is the number of reasons.
	NumDropReasons = dropOffloadBase + DropReason(offload.NumReasons) - 1
)

// offloadDrop is the drop reason of an offload header refused for why
// (not offload.ReasonNone).
func offloadDrop(why offload.Reason) DropReason {
	return dropOffloadBase + DropReason(why) - 1
}

var dropNames = [dropOffloadBase]string{
	"malformed", "unrouted", "oversize", "segment_limit", "no_rx_buffer", "rx_too_big",
	"spoofed_mac", "spoofed_ipv4", "spoofed_ipv6", "to_gateway", "service_error",
	"inbox_full", "too_big", "not_public", "offload", "uplink_write",
	"sg_ingress_denied", "sg_egress_denied", "conntrack_full", "lent_fault",
}

// String names the reason as metrics label it.
func (r DropReason) String() string {
	switch {
	case r < dropOffloadBase:
		return dropNames[r]
	case r < NumDropReasons:
		return "offload_" + offload.Reason(r-dropOffloadBase+1).String()
	}
	return "unknown"
}

// Stats are a NIC's data-plane counters. The owner keeps them across
// reactor restarts; the reactor adds to them and anyone may read them.
type Stats struct {
	TxPackets atomic.Uint64 // frames the guest sent
	TxBytes   atomic.Uint64
	RxPackets atomic.Uint64 // frames delivered to the guest
	RxBytes   atomic.Uint64
	Kicks     atomic.Uint64 // notifications from the guest
	Calls     atomic.Uint64 // interrupts sent to the guest
	Drops     [NumDropReasons]atomic.Uint64
	// RefusedFrontends counts connections refused because the NIC's
	// frontend was connected and alive.
	RefusedFrontends atomic.Uint64
}

// StatsSnapshot is a copy of Stats at one moment.
type StatsSnapshot struct {
	TxPackets, TxBytes, RxPackets, RxBytes, Kicks, Calls uint64
	RefusedFrontends                                     uint64
	Drops                                                map[string]uint64
}

// Snapshot copies the counters.
func (s *Stats) Snapshot() StatsSnapshot {
	out := StatsSnapshot{
		TxPackets: s.TxPackets.Load(), TxBytes: s.TxBytes.Load(),
		RxPackets: s.RxPackets.Load(), RxBytes: s.RxBytes.Load(),
		Kicks: s.Kicks.Load(), Calls: s.Calls.Load(),
		RefusedFrontends: s.RefusedFrontends.Load(),
		Drops:            make(map[string]uint64, NumDropReasons),
	}
	for r := range NumDropReasons {
		out.Drops[r.String()] = s.Drops[r].Load()
	}
	return out
}

// batchStats accumulates one batch's counts on the reactor's thread, so the
// shared atomics are touched once per batch, not per packet.
type batchStats struct {
	txPackets, txBytes, rxPackets, rxBytes uint64
}

func (b *batchStats) flush(s *Stats) {
	if b.txPackets != 0 {
		s.TxPackets.Add(b.txPackets)
		s.TxBytes.Add(b.txBytes)
	}
	if b.rxPackets != 0 {
		s.RxPackets.Add(b.rxPackets)
		s.RxBytes.Add(b.rxBytes)
	}
	*b = batchStats{}
}
