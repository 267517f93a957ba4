package actors

import (
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gaissmai/bart"
)

func TestClip(t *testing.T) {
	long := strings.Repeat("a", 63) + "é" + strings.Repeat("b", 100)
	cases := []struct{ in, want string }{
		{"", ""},
		{"short", "short"},
		{strings.Repeat("x", maxEcho), strings.Repeat("x", maxEcho)},
		{strings.Repeat("x", maxEcho+1), strings.Repeat("x", maxEcho) + "…"},
		{long, strings.Repeat("a", 63) + "…"},
		{strings.Repeat("\xff", 200), strings.Repeat("\xff", maxEcho) + "…"},
	}
	for _, tc := range cases {
		got := clip(tc.in)
		if got != tc.want {
			t.Errorf("clip(%.20q…) = %q, want %q", tc.in, got, tc.want)
		}
		if utf8.ValidString(tc.in) && !utf8.ValidString(got) {
			t.Errorf("clip(%.20q…) cut a rune: %q", tc.in, got)
		}
	}
}

// TestParseRoutesOverlaps checks the LPM-table overlap check against the
// pairwise one on prefixes that nest in every order.
func TestParseRoutesOverlaps(t *testing.T) {
	cases := []struct {
		list    []string
		overlap bool
	}{
		{[]string{"10.1.0.0/24", "10.2.0.0/24", "10.1.1.0/24"}, false},
		{[]string{"10.1.0.0/16", "10.1.7.0/24"}, true},
		{[]string{"10.1.7.0/24", "10.1.0.0/16"}, true},
		{[]string{"10.1.7.5/32", "10.1.7.4/31"}, true},
		{[]string{"10.1.7.4/31", "10.1.7.6/31"}, false},
		{[]string{"10.1.7.0/24", "10.1.7.0/24"}, true},
		{[]string{"10.0.0.0/8", "11.0.0.0/8", "10.255.255.255/32"}, true},
	}
	for _, tc := range cases {
		_, err := parseRoutes("routed_ipv4_prefixes", tc.list, true)
		if (err != nil) != tc.overlap {
			t.Errorf("parseRoutes(%v) = %v, want overlap %v", tc.list, err, tc.overlap)
		}
	}
}

// hostPrefixes returns n /32 or /128 prefixes counting up from base.
func hostPrefixes(base string, n int) []netip.Prefix {
	a := netip.MustParseAddr(base)
	out := make([]netip.Prefix, n)
	for i := range out {
		a = a.Next()
		out[i] = netip.PrefixFrom(a, a.BitLen())
	}
	return out
}

// BenchmarkRouteCheck measures what a CreateNic with maxRoutes prefixes
// costs against a network whose 63 other NICs route maxRoutes each: parse
// and check the request, and look each prefix up in the others' table.
func BenchmarkRouteCheck(b *testing.B) {
	var others bart.Table[string]
	for _, p := range hostPrefixes("fd10::", 63*maxRoutes) {
		others.Insert(p, "other")
	}
	req := make([]string, maxRoutes)
	for i, p := range hostPrefixes("fd20::", maxRoutes) {
		req[i] = p.String()
	}
	b.ReportAllocs()
	for b.Loop() {
		routes, err := parseRoutes("routed_ipv6_prefixes", req, false)
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range routes {
			if _, _, ok := overlapOf(&others, p); ok {
				b.Fatal("overlap")
			}
		}
	}
}

// BenchmarkTakenTable measures building the table of 64 NICs' maxRoutes
// prefixes each, which every CreateNic and UpdateNic on that network does.
func BenchmarkTakenTable(b *testing.B) {
	ps := hostPrefixes("fd10::", 64*maxRoutes)
	b.ReportAllocs()
	for b.Loop() {
		var t bart.Table[string]
		for _, p := range ps {
			t.Insert(p, "other")
		}
	}
}
