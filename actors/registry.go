package actors

import (
	"sort"
	"sync"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"

	"mvirt-net/reactor"
)

// Kinds of actors in the tree.
const (
	KindManager = "NetManager"
	KindNetwork = "NetworkActor"
	KindNic     = "NicActor"
	KindUplink  = "UplinkActor"
)

// ActorInfo is one node of the live actor tree, as /debug/actors shows it.
type ActorInfo struct {
	PID       string `json:"pid"`
	Kind      string `json:"kind"`
	NetworkID string `json:"network_id,omitempty"`
	NicID     string `json:"nic_id,omitempty"`
	Restarts  int64  `json:"restarts"`
	// ReactorRestarts counts the reactor crashes a NicActor recovered.
	ReactorRestarts int64 `json:"reactor_restarts,omitempty"`
	// Stats are a NicActor's or the UplinkActor's data-plane counters.
	Stats *reactor.StatsSnapshot `json:"stats,omitempty"`
	// Uplink is the UplinkActor's device and state.
	Uplink     *UplinkState `json:"uplink,omitempty"`
	MailboxLen int          `json:"mailbox_len"`
	Children   []*ActorInfo `json:"children"`
}

// probe is what an actor shares with the registry across its restarts: the
// producer closure keeps it, so a restarted instance keeps counting.
type probe struct {
	kind      string
	networkID string
	nicID     string
	restarts  atomic.Int64
	// reactorRestarts and stats are a NicActor's or the UplinkActor's.
	reactorRestarts atomic.Int64
	stats           atomic.Pointer[reactor.Stats]
	// uplink is the UplinkActor's.
	uplink  *uplinkHandle
	mailbox atomic.Pointer[actor.Mailbox]
}

// props builds Props whose mailbox the probe can measure.
func (p *probe) props(produce func() actor.Actor, opts ...actor.PropsOption) *actor.Props {
	opts = append(opts, actor.WithMailbox(func() actor.Mailbox {
		mb := actor.Unbounded()()
		p.mailbox.Store(&mb)
		return mb
	}))
	return actor.PropsFromProducer(produce, opts...)
}

// registry tracks live actors for introspection. Only observability reads
// it; no actor takes decisions from it.
type registry struct {
	mu     sync.Mutex
	nodes  map[string]*regNode
	rootID string
}

type regNode struct {
	pid    *actor.PID
	parent string
	probe  *probe
}

func newRegistry() *registry { return &registry{nodes: map[string]*regNode{}} }

func (r *registry) add(self, parent *actor.PID, p *probe) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := &regNode{pid: self, probe: p}
	if parent != nil {
		n.parent = parent.Id
	}
	if p.kind == KindManager {
		r.rootID = self.Id
	}
	r.nodes[self.Id] = n
}

func (r *registry) remove(self *actor.PID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.nodes, self.Id)
}

// tree returns the live actor tree, children sorted by PID.
func (r *registry) tree() *ActorInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	infos := map[string]*ActorInfo{}
	for id, n := range r.nodes {
		info := &ActorInfo{
			PID: n.pid.String(), Kind: n.probe.kind,
			NetworkID: n.probe.networkID, NicID: n.probe.nicID,
			Restarts: n.probe.restarts.Load(), Children: []*ActorInfo{},
		}
		info.ReactorRestarts = n.probe.reactorRestarts.Load()
		if st := n.probe.stats.Load(); st != nil {
			snap := st.Snapshot()
			info.Stats = &snap
		}
		if n.probe.uplink != nil {
			info.Uplink = n.probe.uplink.state.Load()
		}
		if mb := n.probe.mailbox.Load(); mb != nil {
			info.MailboxLen = (*mb).UserMessageCount()
		}
		infos[id] = info
	}
	for id, n := range r.nodes {
		if parent, ok := infos[n.parent]; ok {
			parent.Children = append(parent.Children, infos[id])
		}
	}
	for _, info := range infos {
		sort.Slice(info.Children, func(i, j int) bool { return info.Children[i].PID < info.Children[j].PID })
	}
	return infos[r.rootID]
}
