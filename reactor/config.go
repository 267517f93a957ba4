package reactor

import (
	"errors"
	"log/slog"
	"time"

	"mvirt-net/reactor/inbox"
	"mvirt-net/reactor/vhostuser"
)

// Config is what a Reactor is started with.
type Config struct {
	// NicID names the NIC in logs.
	NicID string
	// Listener is the NIC's listening vhost-user socket. It stays the
	// caller's: the Reactor polls and accepts on it but never closes it.
	Listener *vhostuser.Listener
	// Services are what the gateway knows and tells about the NIC.
	Services Services
	// Inbox is where other reactors route frames for this NIC. It stays
	// the caller's, and outlives the reactor so routes to it stay valid.
	Inbox *inbox.Inbox
	// Routes is the route table of the NIC's network.
	Routes *Routes
	// Filter is the NIC's security-group matcher; nil or holding nil
	// filters nothing.
	Filter *Filter
	// Offloads offers the driver vhostuser.OffloadFeatures: checksum and
	// segmentation offload, both ways. Without it the NIC offers none and
	// every frame is a plain, complete one, as a NIC without offloads
	// sends and takes.
	Offloads bool
	// ConntrackSize is the number of connections the NIC's table tracks
	// (0: conntrack.DefaultSize). The table is allocated at Start.
	ConntrackSize int
	// Events receives what the owner must know. It is called on the
	// reactor's thread and must not block.
	Events func(Event)
	// Log is the reactor's logger.
	Log *slog.Logger
	// Stats are the NIC's counters, kept by the owner across restarts.
	Stats *Stats
	// CPUs pins the reactor's thread to these CPUs; empty leaves it
	// unpinned.
	CPUs []int
	// BusyPoll is how long the reactor keeps polling its rings after the
	// last frame before it sleeps on its ring again; 0 never polls.
	BusyPoll time.Duration
	// BusyPollBatch is how many frames one wake-up must bring for polling
	// to start (0: DefaultBusyPollBatch): a NIC with a trickle of traffic
	// sleeps between frames instead of spinning after each one; 1 polls
	// after every frame, for the lowest latency.
	BusyPollBatch int
}

// DefaultBusyPollBatch is the BusyPollBatch of a zero Config.
const DefaultBusyPollBatch = 8

func (c *Config) validate() error {
	switch {
	case c.Listener == nil:
		return errors.New("reactor needs a listener")
	case c.Events == nil:
		return errors.New("reactor needs an events callback")
	case c.Inbox == nil || c.Routes == nil:
		return errors.New("reactor needs an inbox and a route table")
	case c.Stats == nil:
		return errors.New("reactor needs stats")
	case c.Log == nil:
		return errors.New("reactor needs a logger")
	case c.BusyPoll < 0:
		return errors.New("reactor busy-poll time must not be negative")
	case c.ConntrackSize < 0:
		return errors.New("reactor conntrack size must not be negative")
	case c.BusyPollBatch < 0:
		return errors.New("reactor busy-poll batch must not be negative")
	}
	return nil
}

// State is the connection state of a NIC as its reactor sees it.
type State uint8

// States a reactor reports.
const (
	// StateIdle: no frontend connected, or its rings are not running.
	StateIdle State = iota
	// StateActive: a frontend is connected and both rings run.
	StateActive
	// StateError: the guest broke the virtio rules; the rings are stopped
	// until the frontend resets the device (reconnects or restarts rings).
	StateError
)

// String names the state.
func (s State) String() string {
	switch s {
	case StateIdle:
		return "idle"
	case StateActive:
		return "active"
	case StateError:
		return "error"
	}
	return "unknown"
}

// Event is something a Reactor tells its owner.
type Event interface{ isEvent() }

// StateChanged reports a new connection state.
type StateChanged struct {
	State  State
	Reason string
}

// Crashed reports that the reactor panicked and has stopped; the owner
// starts a new one.
type Crashed struct {
	Value any
	Stack []byte
}

func (StateChanged) isEvent() {}
func (Crashed) isEvent()      {}
