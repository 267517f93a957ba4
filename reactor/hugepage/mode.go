package hugepage

import "fmt"

// Mode says whether packet memory is backed by huge pages.
type Mode int

const (
	// Off backs packet memory with normal pages.
	Off Mode = iota
	// On backs packet memory with huge pages where the pool has them and
	// falls back to normal pages, with a warning, where it does not.
	On
	// Required backs packet memory with huge pages or fails: the daemon
	// does not start, a new NIC is refused.
	Required
)

// ParseMode parses a --hugepages value: off (or false), on (or true,
// try), required.
func ParseMode(s string) (Mode, error) {
	switch s {
	case "off", "false":
		return Off, nil
	case "on", "true", "try":
		return On, nil
	case "required":
		return Required, nil
	}
	return Off, fmt.Errorf("huge page mode %q: want off, on or required", s)
}

// String returns the mode as ParseMode reads it.
func (m Mode) String() string {
	switch m {
	case On:
		return "on"
	case Required:
		return "required"
	}
	return "off"
}
