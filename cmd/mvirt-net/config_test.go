package main

import (
	"io"
	"path/filepath"
	"strings"
	"testing"

	"mvirt-net/reactor/conntrack"
	"mvirt-net/reactor/hugepage"
)

func TestDefaults(t *testing.T) {
	c, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "[::1]:50054" || c.SocketDir != "/run/mvirt/net" || c.MetadataDir != "/var/lib/mvirt/net" ||
		c.DebugListen != "127.0.0.1:50055" || c.LogLevel != "info" || c.BusyPoll != defaultBusyPoll ||
		c.ConntrackSize != conntrack.DefaultSize {
		t.Fatalf("defaults: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidate(t *testing.T) {
	long := "/" + strings.Repeat("d", 80)
	cases := map[string][]string{
		"bad listen":      {"--listen", "50054"},
		"bad debug":       {"--debug-listen", "localhost"},
		"bad level":       {"--log-level", "loud"},
		"empty sockets":   {"--socket-dir", ""},
		"long socket dir": {"--socket-dir", long},
		"bad cpu list":    {"--reactor-cpus", "3-1"},
		"negative poll":   {"--busy-poll", "-1us"},
		"endless poll":    {"--busy-poll", "1s"},
		"zero batch":      {"--busy-poll-batch", "0"},
		"empty unix":      {"--listen", "unix:"},
		"long uplink":     {"--uplink-name", "a-very-long-name0"},
		"empty uplink":    {"--uplink-name", ""},
		"small mtu":       {"--uplink-mtu", "1000"},
		"bad masquerade":  {"--uplink-masquerade", "eth 0"},
		"masq6 alone":     {"--uplink-masquerade6"},
		"tiny conntrack":  {"--conntrack-size", "1"},
		"huge conntrack":  {"--conntrack-size", "100000000"},
	}
	for name, args := range cases {
		c, err := parseFlags(args, io.Discard)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := parseFlags([]string{"extra"}, io.Discard); err == nil {
		t.Error("positional argument accepted")
	}
}

func TestValidateMakesDirsAbsolute(t *testing.T) {
	c, err := parseFlags([]string{"--socket-dir", "rel/s", "--metadata-dir", "rel/d", "--debug-listen", ""}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(c.SocketDir) || !filepath.IsAbs(c.MetadataDir) {
		t.Fatalf("not absolute: %+v", c)
	}
}

func TestParseCPUList(t *testing.T) {
	got, err := parseCPUList("0,2-4")
	if err != nil || len(got) != 4 || got[0] != 0 || got[3] != 4 {
		t.Fatalf("parseCPUList: %v %v", got, err)
	}
}

func TestValidateUplinkAndUnixListen(t *testing.T) {
	c, err := parseFlags([]string{"--listen", "unix:/run/mvirt/net.sock", "--debug-listen", "unix:/run/mvirt/debug.sock",
		"--uplink-name", "up0", "--uplink-mtu", "9000", "--uplink-masquerade", "eth0", "--uplink-masquerade6", "--uplink-forwarding"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.UplinkName != "up0" || c.UplinkMTU != 9000 || c.UplinkMasquerade != "eth0" || !c.UplinkMasquerade6 || !c.UplinkForwarding {
		t.Fatalf("uplink flags: %+v", c)
	}
}

func TestHugepagesFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want hugepage.Mode
	}{
		{nil, hugepage.Off},
		{[]string{"--hugepages"}, hugepage.On},
		{[]string{"--hugepages=on"}, hugepage.On},
		{[]string{"--hugepages=try"}, hugepage.On},
		{[]string{"--hugepages=required"}, hugepage.Required},
		{[]string{"--hugepages=off"}, hugepage.Off},
		{[]string{"--hugepages=false"}, hugepage.Off},
	} {
		c, err := parseFlags(tc.args, io.Discard)
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if c.Hugepages != tc.want {
			t.Errorf("%v: mode %v, want %v", tc.args, c.Hugepages, tc.want)
		}
	}
	if _, err := parseFlags([]string{"--hugepages=always"}, io.Discard); err == nil {
		t.Error("--hugepages=always accepted")
	}
}
