package cli_test

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

// TestCallerIDs gives a network and a vNIC their UUIDs with --id.
func TestCallerIDs(t *testing.T) {
	const netID = "7a1e0c3d-2b4f-4a6e-8d9c-0f1e2d3c4b5a"
	const nicID = "8b2f1d4e-3c5a-4b7f-9e0d-1a2b3c4d5e6f"
	var n netpb.Network
	mvirtJSON(t, &n, "network", "create", "--name", "cli-ids", "--ipv4-subnet", "10.40.0.0/24", "--id", strings.ToUpper(netID))
	if n.GetId() != netID {
		t.Fatalf("network id %q, want %q", n.GetId(), netID)
	}
	var nic netpb.Nic
	mvirtJSON(t, &nic, "nic", "create", "--network", netID, "--name", "cli-ids-nic", "--id", nicID)
	if nic.GetId() != nicID {
		t.Fatalf("nic id %q, want %q", nic.GetId(), nicID)
	}
	var byID netpb.Nic
	mvirtJSON(t, &byID, "nic", "get", nicID)
	if byID.GetName() != "cli-ids-nic" {
		t.Fatalf("nic get by id = %v", &byID)
	}
	wantContains(t, mvirtFails(t, exitFailure, "network", "create", "--name", "cli-ids-2", "--ipv4-subnet", "10.41.0.0/24", "--id", netID),
		netID, "already exists")
	wantContains(t, mvirtFails(t, exitFailure, "nic", "create", "--network", netID, "--id", nicID), nicID, "already exists")
	wantContains(t, mvirtFails(t, exitFailure, "nic", "create", "--network", netID, "--id", "vm1"), `"vm1"`, "not a UUID")
	mvirt(t, "network", "delete", netID, "--force")
}

// TestNicNamesPerNetwork uses one vNIC name in two networks: a lookup by
// the name alone fails naming both, --network narrows it.
func TestNicNamesPerNetwork(t *testing.T) {
	mvirt(t, "network", "create", "--name", "cli-names-a", "--ipv4-subnet", "10.42.0.0/24")
	mvirt(t, "network", "create", "--name", "cli-names-b", "--ipv4-subnet", "10.43.0.0/24")
	defer mvirt(t, "network", "delete", "cli-names-a", "--force")
	defer mvirt(t, "network", "delete", "cli-names-b", "--force")
	var a, b netpb.Nic
	mvirtJSON(t, &a, "nic", "create", "--network", "cli-names-a", "--name", "cli-vm-nic")
	mvirtJSON(t, &b, "nic", "create", "--network", "cli-names-b", "--name", "cli-vm-nic")
	wantContains(t, mvirtFails(t, exitFailure, "nic", "create", "--network", "cli-names-a", "--name", "cli-vm-nic"),
		`"cli-vm-nic"`, "already exists", "cli-names-a")

	wantContains(t, mvirtFails(t, exitFailure, "nic", "get", "cli-vm-nic"), a.GetId(), b.GetId(), "network")
	for network, want := range map[string]string{"cli-names-a": a.GetId(), "cli-names-b": b.GetId()} {
		var got netpb.Nic
		mvirtJSON(t, &got, "nic", "get", "cli-vm-nic", "--network", network)
		if got.GetId() != want {
			t.Errorf("nic get cli-vm-nic --network %s = %s, want %s", network, got.GetId(), want)
		}
	}
	mvirtFails(t, exitFailure, "nic", "delete", "cli-vm-nic")
	mvirt(t, "nic", "delete", "cli-vm-nic", "--network", "cli-names-a")
	var left netpb.Nic
	mvirtJSON(t, &left, "nic", "get", "cli-vm-nic")
	if left.GetId() != b.GetId() {
		t.Errorf("after deleting the one in cli-names-a, nic get gives %s, want %s", left.GetId(), b.GetId())
	}
}

// TestNicAttach prints the socket a VMM connects to.
func TestNicAttach(t *testing.T) {
	mvirt(t, "network", "create", "--name", "cli-attach", "--ipv4-subnet", "10.44.0.0/24")
	defer mvirt(t, "network", "delete", "cli-attach", "--force")
	var nic netpb.Nic
	mvirtJSON(t, &nic, "nic", "create", "--network", "cli-attach", "--name", "cli-attach-nic")
	out := mvirt(t, "nic", "attach", "cli-attach-nic")
	if got := detailField(t, out, "Socket"); got != nic.GetSocketPath() {
		t.Errorf("Socket: %q, want %q", got, nic.GetSocketPath())
	}
	wantContains(t, detailField(t, out, "Status"), nic.GetSocketPath(), "no VMM is connected")
	var resp netpb.AttachNicResponse
	mvirtJSON(t, &resp, "nic", "attach", nic.GetId())
	if !resp.GetAttached() {
		t.Errorf("attach -o json = %v", &resp)
	}
	wantContains(t, mvirtFails(t, exitFailure, "nic", "attach", "cli-no-such-nic"), "not found")
}

// watcher is a running `mvirt ... watch`, read line by line.
type watcher struct {
	cmd   *exec.Cmd
	lines chan string
}

func startWatch(t *testing.T, server string, args ...string) *watcher {
	t.Helper()
	cmd := exec.Command(mvirtBin, args...)
	cmd.Env = append(os.Environ(), "MVIRT_NET_SERVER="+server)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w := &watcher{cmd: cmd, lines: make(chan string, 1024)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			w.lines <- sc.Text()
		}
		close(w.lines)
		_, _ = io.Copy(io.Discard, out)
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return w
}

// next returns the next line that contains every one of subs.
func (w *watcher) next(t *testing.T, subs ...string) string {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case line, ok := <-w.lines:
			if !ok {
				t.Fatalf("watch output ended before a line with %q", subs)
			}
			all := true
			for _, s := range subs {
				all = all && strings.Contains(line, s)
			}
			if all {
				return line
			}
		case <-timeout:
			t.Fatalf("no watch line with %q within 20s", subs)
		}
	}
}

// exit waits for the watch to exit and returns its status; it kills one
// that does not exit within 20 s and fails the test.
func (w *watcher) exit(t *testing.T) int {
	t.Helper()
	done := make(chan struct{})
	go func() {
		for range w.lines {
		}
		_ = w.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = w.cmd.Process.Kill()
		<-done
		t.Fatal("watch did not exit within 20s")
	}
	return w.cmd.ProcessState.ExitCode()
}

// TestNicWatchJSON prints one JSON event per line: the snapshot, a
// create, an update and a delete; Ctrl-C ends it with status 0.
func TestNicWatchJSON(t *testing.T) {
	mvirt(t, "network", "create", "--name", "cli-watch", "--ipv4-subnet", "10.45.0.0/24")
	defer mvirt(t, "network", "delete", "cli-watch", "--force")
	var before netpb.Nic
	mvirtJSON(t, &before, "nic", "create", "--network", "cli-watch", "--name", "cli-watch-old")

	w := startWatch(t, mvirtd.Addr, "nic", "watch", "-o", "json")
	decode := func(line string) *netpb.NicEvent {
		t.Helper()
		ev := &netpb.NicEvent{}
		if err := protojson.Unmarshal([]byte(line), ev); err != nil {
			t.Fatalf("watch line is not one NicEvent: %v\n%s", err, line)
		}
		return ev
	}
	if ev := decode(w.next(t, before.GetId())); ev.GetNic().GetName() != "cli-watch-old" {
		t.Fatalf("snapshot event %v", ev)
	}
	var nic netpb.Nic
	mvirtJSON(t, &nic, "nic", "create", "--network", "cli-watch", "--name", "cli-watch-new")
	if ev := decode(w.next(t, nic.GetId())); ev.GetNic().GetState() != netpb.NicState_NIC_STATE_CREATED {
		t.Fatalf("create event %v", ev)
	}
	mvirt(t, "nic", "update", nic.GetId(), "--route", "10.46.0.0/24")
	if ev := decode(w.next(t, nic.GetId())); len(ev.GetNic().GetRoutedIpv4Prefixes()) != 1 {
		t.Fatalf("update event %v", ev)
	}
	mvirt(t, "nic", "delete", nic.GetId())
	if ev := decode(w.next(t, nic.GetId())); ev.Nic != nil {
		t.Fatalf("delete event %v, want no nic", ev)
	}
	if err := w.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := w.exit(t); code != 0 {
		t.Fatalf("watch exited %d after Ctrl-C, want 0", code)
	}
}

// TestNetworkWatchTable prints table lines (ADDED, UPDATED, DELETED) and
// exits 0 when its daemon stops gracefully.
func TestNetworkWatchTable(t *testing.T) {
	d := daemon.Start(t, daemon.NewDirs(t))
	mvirtOn := func(args ...string) {
		t.Helper()
		cmd := exec.Command(mvirtBin, args...)
		cmd.Env = append(os.Environ(), "MVIRT_NET_SERVER="+d.Addr)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("mvirt %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	mvirtOn("network", "create", "--name", "cli-w-old", "--ipv4-subnet", "10.47.0.0/24")
	w := startWatch(t, d.Addr, "network", "watch")
	w.next(t, "TIME", "EVENT", "ID", "NAME")
	w.next(t, "ADDED", "cli-w-old", "10.47.0.0/24")
	mvirtOn("network", "create", "--name", "cli-w-new", "--ipv6-prefix", "fd00:47::/64")
	w.next(t, "ADDED", "cli-w-new", "fd00:47::/64")
	mvirtOn("network", "update", "cli-w-new", "--dns", "fd00:47::53")
	w.next(t, "UPDATED", "cli-w-new", "fd00:47::53")
	mvirtOn("network", "delete", "cli-w-new")
	w.next(t, "DELETED")
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	if code := w.exit(t); code != 0 {
		t.Fatalf("watch exited %d after the daemon's graceful stop, want 0", code)
	}
}
