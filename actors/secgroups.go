package actors

import (
	"maps"
	"slices"

	"mvirt-net/persistence"
	"mvirt-net/reactor"
)

// secGroups is the NetManager's security-group state: every group, which
// NICs each is attached to, and where each rule lives. The NetManager owns
// it because it already knows every NIC by id and name, in the order NICs
// come and go; it writes every change through to the store before it
// answers, and publishes each affected NIC's compiled matcher.
type secGroups struct {
	groups map[string]*sgEntry // by id
	names  map[string]string   // name → id
	rules  map[string]string   // rule id → group id
	// byNic is the set of groups attached to each NIC.
	byNic map[string]map[string]bool
}

type sgEntry struct {
	rec  *persistence.SecurityGroupRecord
	nics map[string]bool
}

// loadSecurityGroups rebuilds the state from the store and publishes every
// NIC's matcher. It runs before any NetworkActor starts, so a NIC's reactor
// filters from its first frame.
func (m *manager) loadSecurityGroups() {
	m.sg = secGroups{
		groups: map[string]*sgEntry{}, names: map[string]string{},
		rules: map[string]string{}, byNic: map[string]map[string]bool{},
	}
	stored, err := m.Store.LoadSecurityGroups()
	if err != nil {
		panic(err)
	}
	for _, g := range stored.Groups {
		m.sg.add(g)
	}
	for _, a := range stored.Attachments {
		m.sg.attach(a.NicID, a.GroupID)
	}
	for nic := range m.sg.byNic {
		m.publishFilter(nic)
	}
	m.Log.Info("loaded security groups", "groups", len(stored.Groups), "attachments", len(stored.Attachments))
}

func (s *secGroups) add(g *persistence.SecurityGroupRecord) *sgEntry {
	e := &sgEntry{rec: g, nics: map[string]bool{}}
	s.groups[g.ID] = e
	s.names[g.Name] = g.ID
	for _, r := range g.Rules {
		s.rules[r.ID] = g.ID
	}
	return e
}

// attach records the attachment; it reports false if it already was.
func (s *secGroups) attach(nicID, groupID string) bool {
	e := s.groups[groupID]
	if e == nil || e.nics[nicID] {
		return false
	}
	e.nics[nicID] = true
	if s.byNic[nicID] == nil {
		s.byNic[nicID] = map[string]bool{}
	}
	s.byNic[nicID][groupID] = true
	return true
}

// detach forgets the attachment; it reports false if there was none.
func (s *secGroups) detach(nicID, groupID string) bool {
	e := s.groups[groupID]
	if e == nil || !e.nics[nicID] {
		return false
	}
	delete(e.nics, nicID)
	delete(s.byNic[nicID], groupID)
	if len(s.byNic[nicID]) == 0 {
		delete(s.byNic, nicID)
	}
	return true
}

func (s *secGroups) lookup(idOrName string) *sgEntry {
	if e := s.groups[idOrName]; e != nil {
		return e
	}
	if id, ok := s.names[idOrName]; ok {
		return s.groups[id]
	}
	return nil
}

// publishFilter compiles the union of the rules of the NIC's groups and
// publishes it to the NIC's reactor; a NIC without groups gets nil (no
// filtering).
func (m *manager) publishFilter(nicID string) {
	groups := m.sg.byNic[nicID]
	if len(groups) == 0 {
		m.dp.PublishFilter(nicID, nil)
		return
	}
	var rules []reactor.FilterRule
	for _, id := range slices.Sorted(maps.Keys(groups)) {
		for _, r := range m.sg.groups[id].rec.Rules {
			rules = append(rules, compiledRule(r))
		}
	}
	m.dp.PublishFilter(nicID, reactor.CompileFilter(rules))
}

// publishGroup republishes the matchers of every NIC the group is
// attached to.
func (m *manager) publishGroup(e *sgEntry) {
	for nic := range e.nics {
		m.publishFilter(nic)
	}
}

// forgetNicGroups drops a deleted NIC's attachments (the store dropped
// them with the NIC) and its matcher slot.
func (m *manager) forgetNicGroups(nicID string) {
	for id := range m.sg.byNic[nicID] {
		m.sg.detach(nicID, id)
	}
	m.dp.DropFilter(nicID)
}
