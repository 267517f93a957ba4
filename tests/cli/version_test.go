package cli_test

import (
	"strings"
	"testing"
)

// TestVersion checks that version shows the daemon's version.
func TestVersion(t *testing.T) {
	out := mvirt(t, "version")
	if v, ok := strings.CutPrefix(out, "Server version:"); !ok || strings.TrimSpace(v) == "" {
		t.Errorf("version = %q, want \"Server version: <version>\"", out)
	}
	var fields map[string]string
	decodeJSON(t, mvirt(t, "version", "-o", "json"), &fields)
	if fields["version"] == "" || len(fields) != 1 {
		t.Errorf("version -o json = %q, want one non-empty \"version\"", fields)
	}
}
