package persistence

import (
	"fmt"
	"net/netip"
)

// PrefixText is p as text, "" for the zero Prefix (a disabled family).
func PrefixText(p netip.Prefix) string {
	if !p.IsValid() {
		return ""
	}
	return p.String()
}

// AddrText is a as text, "" for the zero Addr (a disabled family).
func AddrText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// Texts is every value as text; nil for none.
func Texts[T fmt.Stringer](vs []T) []string {
	if len(vs) == 0 {
		return nil
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.String()
	}
	return out
}
