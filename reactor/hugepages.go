package reactor

import (
	"errors"
	"fmt"

	"mvirt-net/reactor/hugepage"
	"mvirt-net/reactor/inbox"
)

// HugepageMode says whether the NICs' packet memory is on huge pages
// (hugepage.Off, hugepage.On or hugepage.Required).
type HugepageMode = hugepage.Mode

// ErrNoHugepages is what a NIC's port answers when huge pages are required
// and the pool has none left for it.
var ErrNoHugepages = hugepage.ErrNoPages

// nicInbox sizes every NIC's inbox (see inboxSlots).
var nicInbox = inbox.Config{Slots: inboxSlots, MaxFrame: inboxMaxFrame}

// HugepagesPerNIC is the number of 2 MiB pages one NIC's inbox takes with
// huge pages on.
var HugepagesPerNIC = hugepage.Pages(inbox.DataSize(nicInbox))

// InboxMemory returns the bytes of packet memory the NICs' inboxes have
// mapped, on huge or normal pages; it is resident only where touched.
func InboxMemory() int64 { return inbox.MappedBytes() }

// CheckHugepages compares what nics NICs need from the huge page pool
// with what it has, at start: with huge pages on, a short pool is a
// warning (the NICs that find no page fall back to normal pages); with
// huge pages required, it is an error wrapping hugepage.ErrNoPages. The
// message says how many pages are needed and how to reserve them.
func (d *Dataplane) CheckHugepages(nics int) error {
	if d.cfg.Hugepages == hugepage.Off {
		return nil
	}
	pool, err := hugepage.ReadPool()
	if err != nil {
		if d.cfg.Hugepages == hugepage.Required {
			return fmt.Errorf("huge pages required: %w", err)
		}
		d.cfg.Log.Warn("huge pages: pool unreadable; NIC inboxes may fall back to normal pages", "err", err)
		return nil
	}
	need := nics * HugepagesPerNIC
	advice := pool.Advice(need)
	switch {
	case need <= pool.Available():
		d.cfg.Log.Info("huge pages for NIC inboxes", "nics", nics, "pages", need, "available", pool.Available())
		return nil
	case d.cfg.Hugepages == hugepage.Required:
		return fmt.Errorf("huge pages required for %d NICs: %w: %s", nics, hugepage.ErrNoPages, advice)
	}
	d.cfg.Log.Warn("huge pages: pool too small, NIC inboxes without a page fall back to normal pages: "+advice,
		"nics", nics, "pages", need, "available", pool.Available())
	return nil
}

// newInbox allocates a NIC's inbox, on huge pages if so configured. With
// huge pages on and the pool exhausted, the inbox falls back to normal
// pages with a warning; with huge pages required, the error wraps
// hugepage.ErrNoPages.
func (d *Dataplane) newInbox(nicID string) (*inbox.Inbox, error) {
	cfg := nicInbox
	cfg.Hugepages = d.cfg.Hugepages != hugepage.Off
	ib, err := inbox.New(cfg)
	if err == nil || d.cfg.Hugepages != hugepage.On || !errors.Is(err, hugepage.ErrNoPages) {
		return ib, err
	}
	d.cfg.Log.Warn("huge pages: falling back to normal pages for a NIC inbox: "+err.Error(), "nic", nicID)
	cfg.Hugepages = false
	return inbox.New(cfg)
}
