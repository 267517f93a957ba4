package reactor

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netns"
)

// testNS is a network namespace of the test's own, deleted at cleanup
// (also on failure): nothing the test does to the kernel leaves it.
type testNS struct {
	name string
	h    netns.NsHandle
}

var nsSeq atomic.Int32

// uniqueName is a name no concurrent test (of another engineer, another
// package) uses: a prefix, the pid and a sequence number, within IFNAMSIZ.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s%d-%d", prefix, os.Getpid()%100000, nsSeq.Add(1))
}

func newTestNS(t testing.TB) *testNS {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	name := uniqueName("mvu")
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v\n%s", name, err, out)
	}
	ns := &testNS{name: name}
	t.Cleanup(func() {
		if ns.h.IsOpen() {
			_ = ns.h.Close()
		}
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v\n%s", name, err, out)
		}
	})
	h, err := netns.GetFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	ns.h = h
	ns.run(t, "ip", "link", "set", "lo", "up")
	return ns
}

// run runs a command inside the namespace.
func (ns *testNS) run(t testing.TB, args ...string) {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns.name}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("in %s: %s: %v\n%s", ns.name, strings.Join(args, " "), err, out)
	}
}

// do runs f on a thread inside the namespace: a TUN device or socket it
// creates belongs to the namespace.
func (ns *testNS) do(t testing.TB, f func()) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	if err := netns.Set(ns.h); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := netns.Set(orig); err != nil {
			panic(fmt.Sprintf("back to the test's network namespace: %v", err))
		}
	}()
	f()
}

// awaitIPv6 waits until no IPv6 address in the namespace is tentative:
// until then the kernel neither delivers to nor sends from it.
func (ns *testNS) awaitIPv6(t testing.TB) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		out, err := exec.Command("ip", "-n", ns.name, "-6", "addr", "show", "tentative").CombinedOutput()
		if err != nil {
			t.Fatalf("ip addr in %s: %v\n%s", ns.name, err, out)
		}
		if len(strings.TrimSpace(string(out))) == 0 {
			return
		}
	}
	t.Fatalf("IPv6 addresses in %s still tentative after 5s", ns.name)
}
