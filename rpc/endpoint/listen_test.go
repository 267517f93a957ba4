package endpoint_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"mvirt-net/rpc/endpoint"
)

func TestParseAddress(t *testing.T) {
	cases := []struct {
		in       string
		unix     bool
		loopback bool
	}{
		{"[::1]:50054", false, true},
		{"127.0.0.1:1", false, true},
		{"localhost:1", false, true},
		{":50054", false, false},
		{"0.0.0.0:50054", false, false},
		{"192.0.2.1:50054", false, false},
		{"unix:/run/mvirt/net/api.sock", true, true},
	}
	for _, c := range cases {
		a, err := endpoint.ParseAddress(c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if a.IsUnix() != c.unix || a.IsLoopback() != c.loopback || a.String() != c.in {
			t.Errorf("%s: unix %v loopback %v string %q", c.in, a.IsUnix(), a.IsLoopback(), a.String())
		}
	}
	for _, bad := range []string{"50054", "unix:relative.sock", "unix:", ""} {
		if _, err := endpoint.ParseAddress(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestListenUnixModeGroupAndStale(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "api.sock")
	a, _ := endpoint.ParseAddress("unix:" + path)
	gid := os.Getgid() + 4242
	if os.Geteuid() != 0 {
		gid = os.Getgid()
	}
	if _, err := endpoint.Listen(a, gid); err != nil {
		t.Fatal(err)
	}
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != endpoint.SocketMode || int(st.Sys().(*syscall.Stat_t).Gid) != gid {
		t.Fatalf("socket %v gid %d, want %v gid %d", st.Mode(), st.Sys().(*syscall.Stat_t).Gid, endpoint.SocketMode, gid)
	}
	// A crashed daemon leaves its socket behind: the next one replaces it.
	second, err := endpoint.Listen(a, -1)
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	go func() {
		if c, err := second.Accept(); err == nil {
			_ = c.Close()
		}
	}()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("dial the replacement: %v", err)
	}
	_ = c.Close()
	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket left after Close: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("left in the socket dir: %v", entries)
	}
}

func TestListenRefusesOtherFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "api.sock")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	a, _ := endpoint.ParseAddress("unix:" + path)
	if _, err := endpoint.Listen(a, -1); !errors.Is(err, os.ErrExist) {
		t.Fatalf("listen over a regular file: %v", err)
	}
}

func TestLookupGroup(t *testing.T) {
	if gid, err := endpoint.LookupGroup(""); err != nil || gid != -1 {
		t.Fatalf("empty: %d %v", gid, err)
	}
	if gid, err := endpoint.LookupGroup("4242"); err != nil || gid != 4242 {
		t.Fatalf("numeric: %d %v", gid, err)
	}
	if gid, err := endpoint.LookupGroup("root"); err != nil || gid != 0 {
		t.Fatalf("root: %d %v", gid, err)
	}
	if _, err := endpoint.LookupGroup("no-such-group-mvirt"); err == nil {
		t.Fatal("unknown group accepted")
	}
}
