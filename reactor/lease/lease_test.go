package lease

import "testing"

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{None: "none", Bound: "bound", Renewed: "renewed", Released: "released", Declined: "declined", 99: "unknown"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", k, got, want)
		}
	}
}
