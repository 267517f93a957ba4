package api_test

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

// unusedGID returns a gid no group of this host has, for a group that
// only this test's processes join.
func unusedGID(t *testing.T) int {
	t.Helper()
	for gid := 42000 + os.Getpid()%1000; gid < 50000; gid++ {
		if _, err := user.LookupGroupId(strconv.Itoa(gid)); err != nil {
			return gid
		}
	}
	t.Fatal("no unused gid")
	return 0
}

// asNobody runs argv as user nobody: with only the given supplementary
// group, or with none if gid is -1. It returns the combined output and
// the exit status.
func asNobody(t *testing.T, gid int, argv ...string) (string, int) {
	t.Helper()
	args := []string{"--reuid=nobody", "--regid=nogroup"}
	if gid == -1 {
		args = append(args, "--clear-groups")
	} else {
		args = append(args, "--groups="+strconv.Itoa(gid))
	}
	cmd := exec.Command("setpriv", append(args, argv...)...)
	out, err := cmd.CombinedOutput()
	if exit, ok := err.(*exec.ExitError); ok {
		return string(out), exit.ExitCode()
	}
	if err != nil {
		t.Fatalf("setpriv %v: %v", argv, err)
	}
	return string(out), 0
}

// checkFile fails the test unless path (a socket or a directory) has
// the given permissions and group.
func checkFile(t *testing.T, path string, perm os.FileMode, gid int) {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != perm || int(st.Sys().(*syscall.Stat_t).Gid) != gid {
		t.Errorf("%s: mode %v gid %d, want %v gid %d", path, st.Mode(), st.Sys().(*syscall.Stat_t).Gid, perm, gid)
	}
}

func TestUnixSocketsOnlyForTheirGroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("needs root: it switches to user nobody with setpriv")
	}
	gid := unusedGID(t)
	// The API sockets' folder is open to everyone: only the sockets'
	// own permissions decide.
	dir, err := os.MkdirTemp("", "mvacc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	api, dbg := filepath.Join(dir, "api.sock"), filepath.Join(dir, "debug.sock")
	dirs := daemon.Dirs{SocketDir: filepath.Join(dir, "nics"), MetadataDir: filepath.Join(dir, "data")}
	d := daemon.StartWith(t, dirs, daemon.Options{
		Listen: "unix:" + api, DebugListen: "unix:" + dbg,
		Args: []string{"--api-group", strconv.Itoa(gid), "--socket-group", strconv.Itoa(gid)},
	})
	n := mustNetwork(t, d.Client, dual("prod"))
	nic := mustNic(t, d.Client, &netpb.CreateNicRequest{NetworkId: n.Id, Name: "vm1"})

	checkFile(t, api, 0o660, gid)
	checkFile(t, dbg, 0o660, gid)
	checkFile(t, dirs.SocketDir, 0o750, gid)
	checkFile(t, nic.SocketPath, 0o660, gid)

	mvirt, err := daemon.Mvirt()
	if err != nil {
		t.Fatal(err)
	}
	// The test's build folder is private to root; nobody must run the CLI.
	if err := os.Chmod(filepath.Dir(mvirt), 0o755); err != nil {
		t.Fatal(err)
	}
	list := []string{mvirt, "--server", "unix:" + api, "nic", "list"}
	if out, code := asNobody(t, -1, list...); code == 0 || strings.Contains(out, nic.Id) {
		t.Errorf("nobody outside the API group listed the NICs (exit %d):\n%s", code, out)
	}
	if out, code := asNobody(t, gid, list...); code != 0 || !strings.Contains(out, nic.Id) {
		t.Errorf("a member of the API group cannot list the NICs (exit %d):\n%s", code, out)
	}

	actors := []string{"curl", "-sS", "--fail", "--unix-socket", dbg, "http://mvirt-net/debug/actors"}
	if out, code := asNobody(t, -1, actors...); code == 0 || strings.Contains(out, nic.Id) {
		t.Errorf("nobody outside the API group read /debug/actors (exit %d):\n%s", code, out)
	}
	if out, code := asNobody(t, gid, actors...); code != 0 || !strings.Contains(out, nic.Id) {
		t.Errorf("a member of the API group cannot read /debug/actors (exit %d):\n%s", code, out)
	}
	pprof := []string{"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--unix-socket", dbg, "http://mvirt-net/debug/pprof/"}
	if out, code := asNobody(t, gid, pprof...); code != 0 || out != "404" {
		t.Errorf("/debug/pprof/ without --debug-pprof: %q (exit %d), want 404", out, code)
	}

	// A VMM connects to the NIC's socket: curl only opens the connection
	// (exit 7 is "could not connect"); what it sends the daemon drops.
	vmm := []string{"curl", "-sS", "--max-time", "2", "--unix-socket", nic.SocketPath, "http://nic/"}
	if out, code := asNobody(t, -1, vmm...); code != 7 {
		t.Errorf("nobody outside the socket group reached the NIC socket (exit %d):\n%s", code, out)
	}
	if out, code := asNobody(t, gid, vmm...); code == 7 {
		t.Errorf("a member of the socket group cannot connect to the NIC socket (exit %d):\n%s", code, out)
	}
	if got := d.Log(); !strings.Contains(got, fmt.Sprintf("grpc=unix:%s", api)) {
		t.Errorf("the daemon does not log its unix listener:\n%s", got)
	}
}
