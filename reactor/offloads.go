package reactor

import "mvirt-net/reactor/packet"

// hostOffloads reports whether the driver may hand this NIC frames with
// an offload header.
func (r *Reactor) hostOffloads() bool { return false }

// checkOffload validates the offload header of the TX frame parsed.
func (r *Reactor) checkOffload([]byte) (DropReason, bool) { return 0, true }

// packetSize is the size of the IP packets the TX frame parsed puts on
// the wire.
func (r *Reactor) packetSize() int { return r.parsed.End - packet.EthernetHeaderLen }
