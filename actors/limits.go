package actors

import "unicode/utf8"

// Limits on what one request may carry, so that no request can hold a
// NetworkActor for long or make an answer as large as itself.
const (
	// maxNameLen bounds network and NIC names, in bytes.
	maxNameLen = 63
	// maxServers bounds a network's DNS servers, and separately its NTP
	// servers.
	maxServers = 64
	// maxRoutes bounds a NIC's routed prefixes, IPv4 and IPv6 together.
	maxRoutes = 1024
	// maxEcho is how many bytes of a client's value an error message
	// repeats.
	maxEcho = 64
)

// clip returns s cut to at most maxEcho bytes, at a rune boundary, with
// "…" appended when it was cut: error messages quote client input only
// through clip.
func clip(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	end := maxEcho
	for back := 0; back < utf8.UTFMax-1 && !utf8.RuneStart(s[end]); back++ {
		end--
	}
	return s[:end] + "…"
}
