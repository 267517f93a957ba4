package reactor

import (
	"net/netip"

	"mvirt-net/reactor/conntrack"
)

// Connection is one tracked connection of a NIC, as the debug endpoint
// lists it. Local is the VM's side.
type Connection struct {
	Proto      uint8          `json:"proto"`
	Local      netip.AddrPort `json:"local"`
	Remote     netip.AddrPort `json:"remote"`
	Egress     bool           `json:"opened_by_vm"`
	State      string         `json:"state"`
	ExpiresSec float64        `json:"expires_in_seconds"`
}

// cmdConnections asks the reactor for a copy of its connection table.
type cmdConnections struct{ reply chan []Connection }

func (cmdConnections) isCommand() {}

// Connections returns a copy of the NIC's tracked connections, made on
// the reactor's thread; the channel gets nothing if the reactor ends first
// (select on Done too).
func (r *Reactor) Connections() <-chan []Connection {
	c := cmdConnections{reply: make(chan []Connection, 1)}
	r.send(c)
	return c.reply
}

func (r *Reactor) listConnections(c cmdConnections) {
	now := nanotime()
	out := []Connection{}
	if r.fw.table == nil { // never filtered: nothing tracked
		c.reply <- out
		return
	}
	r.fw.table.Each(now, func(e *conntrack.Entry) {
		d := e.ExpiresIn(now)
		out = append(out, Connection{
			Proto:  e.Key.Proto,
			Local:  netip.AddrPortFrom(e.Key.LocalAddr(), e.Key.LocalPort),
			Remote: netip.AddrPortFrom(e.Key.RemoteAddr(), e.Key.RemotePort),
			Egress: e.Egress, State: e.State.String(), ExpiresSec: d.Seconds(),
		})
	})
	c.reply <- out
}
