package main

import (
	"slices"
	"testing"
)

// TestSplitRoutes checks that routes are sorted by family and that
// anything but a CIDR prefix is a usage error.
func TestSplitRoutes(t *testing.T) {
	v4, v6, err := splitRoutes([]string{"10.1.0.0/24", "fd00:1::/64", "192.0.2.0/28", "::ffff:10.0.0.0/104"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"10.1.0.0/24", "192.0.2.0/28"}; !slices.Equal(v4, want) {
		t.Errorf("IPv4 routes = %q, want %q", v4, want)
	}
	if want := []string{"fd00:1::/64", "::ffff:10.0.0.0/104"}; !slices.Equal(v6, want) {
		t.Errorf("IPv6 routes = %q, want %q", v6, want)
	}

	for _, bad := range []string{"10.1.0.0", "10.1.0.0/33", "prod", ""} {
		if _, _, err := splitRoutes([]string{bad}); !isUsage(err) {
			t.Errorf("splitRoutes(%q) = %v, want a usage error", bad, err)
		}
	}
}

// TestIsUUID checks which references are taken as ids rather than names.
func TestIsUUID(t *testing.T) {
	for ref, want := range map[string]bool{
		"0b7c6f1e-3c1a-4f5e-9d2a-6a8e4b1c2d3f":          true,
		"0B7C6F1E-3C1A-4F5E-9D2A-6A8E4B1C2D3F":          true,
		"0b7c6f1e3c1a4f5e9d2a6a8e4b1c2d3f":              false,
		"{0b7c6f1e-3c1a-4f5e-9d2a-6a8e4b1c2d3f}":        false,
		"urn:uuid:0b7c6f1e-3c1a-4f5e-9d2a-6a8e4b1c2d3f": false,
		"prod":     false,
		"vm1-eth0": false,
		"":         false,
	} {
		if got := isUUID(ref); got != want {
			t.Errorf("isUUID(%q) = %v, want %v", ref, got, want)
		}
	}
}
