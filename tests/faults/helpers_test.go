// Package faults_test runs the real mvirt-net daemon into faults an
// operator meets: a metadata disk that fills up, a socket directory that
// cannot be written, a reactor that cannot start, and SIGKILLs in the
// middle of concurrent creates and deletes. Each checks that the daemon
// answers with a clear code, changes nothing it did not acknowledge, and
// comes back with everything it did.
package faults_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// wantCode fails the test unless err has code and a message containing
// every one of words.
func wantCode(t *testing.T, what string, err error, code codes.Code, words ...string) {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("%s: got %v, want code %v", what, err, code)
	}
	for _, w := range words {
		if !strings.Contains(status.Convert(err).Message(), w) {
			t.Fatalf("%s: message %q does not say %q", what, status.Convert(err).Message(), w)
		}
	}
}

// shortDir returns a fresh directory under a short path (unix socket paths
// are limited to 107 bytes), removed at cleanup.
func shortDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "mvf")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(d) })
	return d
}

// mountTmpfs mounts a tmpfs with opts (e.g. "size=8m") on a new directory
// dir and unmounts it at cleanup, after the cleanups registered later
// (such as the daemon's).
func mountTmpfs(t *testing.T, dir, opts string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	mount(t, "-t", "tmpfs", "-o", opts, "tmpfs", dir)
	t.Cleanup(func() {
		var out []byte
		var err error
		for range 50 {
			if out, err = exec.Command("umount", dir).CombinedOutput(); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond) // busy: a process that held it is still exiting
		}
		_ = exec.Command("umount", "-l", dir).Run()
		t.Errorf("umount %s: %v: %s", dir, err, out)
	})
}

// remount changes the options of the tmpfs on dir.
func remount(t *testing.T, dir, opts string) {
	t.Helper()
	mount(t, "-o", "remount,"+opts, dir)
}

func mount(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("mount", args...).CombinedOutput(); err != nil {
		t.Fatalf("mount %v: %v: %s", args, err, out)
	}
}

// socketListens reports whether a unix socket accepts a connection.
func socketListens(path string) bool {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// socketFiles lists the files in a socket directory.
func socketFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, filepath.Join(dir, e.Name()))
	}
	sort.Strings(out)
	return out
}

// state is everything the daemon lists.
type state struct {
	nets *netpb.ListNetworksResponse
	nics *netpb.ListNicsResponse
}

func snapshot(t *testing.T, c netpb.NetServiceClient) state {
	t.Helper()
	nets, err := c.ListNetworks(ctx(t), &netpb.ListNetworksRequest{})
	if err != nil {
		t.Fatalf("ListNetworks: %v", err)
	}
	nics, err := c.ListNics(ctx(t), &netpb.ListNicsRequest{})
	if err != nil {
		t.Fatalf("ListNics: %v", err)
	}
	return state{nets, nics}
}

// sameState fails the test unless the daemon lists exactly want.
func sameState(t *testing.T, when string, c netpb.NetServiceClient, want state) {
	t.Helper()
	got := snapshot(t, c)
	if !proto.Equal(want.nets, got.nets) || !proto.Equal(want.nics, got.nics) {
		t.Fatalf("%s: state differs:\nwant %v\n     %v\ngot  %v\n     %v", when, want.nets, want.nics, got.nets, got.nics)
	}
}

// nicSockets are the socket paths of the listed NICs, sorted.
func nicSockets(s state) []string {
	var out []string
	for _, n := range s.nics.Nics {
		out = append(out, n.SocketPath)
	}
	sort.Strings(out)
	return out
}

// waitFds waits until the daemon holds want open file descriptors and
// fails the test if it does not within a few seconds (a closed socket's
// descriptor may be released by another goroutine a moment later).
func waitFds(t *testing.T, d *daemon.Daemon, want int) {
	t.Helper()
	got := -1
	for range 100 {
		n, err := d.OpenFds()
		if err != nil {
			t.Fatal(err)
		}
		if got = n; got == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("daemon holds %d fds, want %d", got, want)
}
