package inbox

import (
	"errors"
	"fmt"
)

// SlotSize is the size of one slot: a frame of a 1500-byte MTU (1514 bytes
// of Ethernet frame) plus a virtio-net header fits in one.
const SlotSize = 1 << slotShift

const slotShift = 11

// Defaults for a zero Config field.
const (
	// DefaultSlots matches a typical virtio RX queue of 256 entries:
	// 512 KiB of slots.
	DefaultSlots = 256
	// DefaultMaxFrame admits everything a reactor accepts from its guest:
	// a 64 KiB IP packet and its Ethernet header.
	DefaultMaxFrame = 65535 + 14
)

// Config sizes an inbox.
type Config struct {
	// Slots is the number of slots, a power of two of at least 2.
	Slots int
	// MaxFrame is the longest frame Reserve accepts, in bytes; it must fit
	// in Slots slots. Memory is Slots*SlotSize plus MaxFrame (see
	// DataSize).
	MaxFrame int
	// Hugepages backs the slot memory with 2 MiB huge pages, rounded up
	// to whole pages (see package hugepage).
	Hugepages bool
}

// DataSize returns the bytes of slot memory an inbox of cfg takes, 0 if
// cfg is invalid.
func DataSize(cfg Config) int {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return 0
	}
	return dataSize(cfg)
}

// dataSize is the slot memory of a valid cfg: its slots and an overflow
// tail for a frame of MaxFrame that starts in the last one.
func dataSize(cfg Config) int {
	return int((uint64(cfg.Slots) + spanOf(cfg.MaxFrame) - 1) * SlotSize)
}

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("invalid inbox config")

func (c Config) withDefaults() (Config, error) {
	if c.Slots == 0 {
		c.Slots = DefaultSlots
	}
	if c.MaxFrame == 0 {
		c.MaxFrame = DefaultMaxFrame
	}
	if c.Slots < 2 || c.Slots&(c.Slots-1) != 0 {
		return c, fmt.Errorf("%w: slots %d is not a power of two >= 2", ErrConfig, c.Slots)
	}
	if c.MaxFrame < 1 || spanOf(c.MaxFrame) > uint64(c.Slots) || spanOf(c.MaxFrame) > maxSpan {
		return c, fmt.Errorf("%w: max frame %d does not fit in %d slots", ErrConfig, c.MaxFrame, c.Slots)
	}
	return c, nil
}

// maxSpan is the most slots one frame may take (slot.span is 16 bits).
const maxSpan = 1<<16 - 1

// spanOf returns the number of slots a frame of n bytes takes.
func spanOf(n int) uint64 {
	return uint64(n+SlotSize-1) >> slotShift
}
