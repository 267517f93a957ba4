package e2e_test

import "strings"

// Marker line kinds the guest's /init prints (see guest/init).
const (
	markCheck = "MVIRT-CHECK"
	markReady = "MVIRT-READY"
	markPing  = "MVIRT-PING"
	markEvent = "MVIRT-EVENT"
	markDone  = "MVIRT-DONE"
)

// marker is one parsed marker line: its kind, its bare words (a check's
// ok or fail, a ping loop's up or down) and its key=value fields.
type marker struct {
	kind   string
	words  []string
	fields map[string]string
	line   string
}

// parseMarker parses a console line holding a marker of kind. Output of
// the firmware or the kernel may precede the marker on the same line.
func parseMarker(line, kind string) (marker, bool) {
	i := strings.Index(line, kind+" ")
	if i < 0 {
		return marker{}, false
	}
	m := marker{kind: kind, fields: map[string]string{}, line: line[i:]}
	for _, w := range strings.Fields(line[i+len(kind):]) {
		if k, v, ok := strings.Cut(w, "="); ok {
			m.fields[k] = v
		} else {
			m.words = append(m.words, w)
		}
	}
	return m, true
}

// is reports whether a line holds a marker of kind whose fields include
// want.
func is(kind string, want map[string]string) func(string) bool {
	return func(line string) bool {
		m, ok := parseMarker(line, kind)
		if !ok {
			return false
		}
		for k, v := range want {
			if m.fields[k] != v {
				return false
			}
		}
		return true
	}
}

// ok reports whether a check marker says ok.
func (m marker) ok() bool {
	return len(m.words) == 1 && m.words[0] == "ok"
}
