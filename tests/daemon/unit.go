package daemon

import (
	"bufio"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// UnitFile is the systemd unit whose privileges UnitPrivileges
// reproduces, relative to the repository's root.
const UnitFile = "cmd/mvirt-net/mvirt-net.service"

// capBits are the capabilities the unit may grant, by bit number; one
// UnitPrivileges does not know fails the test, so that a new capability
// in the unit is also checked.
var capBits = map[string]uint{"CAP_NET_ADMIN": 12}

// Unit is how systemd would run mvirt-net.service, reproduced for a test:
// Wrap runs the daemon as an unprivileged user (nobody stands in for the
// unit's mvirt-net, which the host lacks) with exactly the unit's
// capabilities (Caps, a mask of capability bits) and its no-new-privileges.
type Unit struct {
	Wrap     []string
	UID, GID int
	Caps     uint64
}

// UnitPrivileges reads the unit file's privileges and prepares dirs the
// way RuntimeDirectory= and StateDirectory= do: the daemon's folders
// belong to its user. It needs root.
func UnitPrivileges(t testing.TB, dirs Dirs) Unit {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("needs root: it drops to the unit's user and capabilities with setpriv")
	}
	unit := unitService(t)
	bounding, mask := capList(t, unit["CapabilityBoundingSet"])
	ambient, ambientMask := capList(t, unit["AmbientCapabilities"])
	if ambientMask&^mask != 0 {
		t.Fatalf("ambient capabilities %s outside the bounding set %s", unit["AmbientCapabilities"], unit["CapabilityBoundingSet"])
	}
	wrap := []string{"setpriv", "--bounding-set=" + bounding, "--inh-caps=" + ambient, "--ambient-caps=" + ambient}
	if unit["NoNewPrivileges"] == "yes" {
		wrap = append(wrap, "--no-new-privs")
	}
	if u := unit["User"]; u == "" || u == "root" {
		t.Fatalf("%s runs the daemon as root; the test expects an unprivileged User=", UnitFile)
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	wrap = append(wrap, "--reuid="+nobody.Uid, "--regid="+nobody.Gid, "--clear-groups")
	if err := os.Chown(filepath.Dir(dirs.SocketDir), uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(Binaries(t), 0o755); err != nil {
		t.Fatal(err)
	}
	return Unit{Wrap: wrap, UID: uid, GID: gid, Caps: mask}
}

// Check fails the test unless the process pid runs as the unit's user
// with exactly its capabilities in every set and no new privileges.
func (u Unit) Check(t testing.TB, pid int) {
	t.Helper()
	st := procStatus(t, pid)
	if ids := strings.Fields(st["Uid"]); len(ids) != 4 || ids[0] != strconv.Itoa(u.UID) || ids[1] != strconv.Itoa(u.UID) {
		t.Errorf("daemon uids %q, want %d", st["Uid"], u.UID)
	}
	for _, set := range []string{"CapPrm", "CapEff", "CapBnd", "CapAmb"} {
		got, err := strconv.ParseUint(st[set], 16, 64)
		if err != nil || got != u.Caps {
			t.Errorf("%s %s, want exactly %#x", set, st[set], u.Caps)
		}
	}
	if st["NoNewPrivs"] != "1" {
		t.Errorf("NoNewPrivs %q", st["NoNewPrivs"])
	}
}

// unitService returns the [Service] settings of the unit file.
func unitService(t testing.TB) map[string]string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(root, UnitFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = line
		case section == "[Service]":
			k, v, _ := strings.Cut(line, "=")
			out[k] = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// capList turns "CAP_NET_ADMIN CAP_X" into setpriv's "-all,+net_admin,+x"
// and the capability mask it stands for.
func capList(t testing.TB, v string) (string, uint64) {
	t.Helper()
	list, mask := "-all", uint64(0)
	for _, c := range strings.Fields(v) {
		bit, ok := capBits[c]
		if !ok {
			t.Fatalf("%s grants %s, which the test does not know", UnitFile, c)
		}
		list += ",+" + strings.ToLower(strings.TrimPrefix(c, "CAP_"))
		mask |= 1 << bit
	}
	return list, mask
}

// procStatus reads the fields of /proc/PID/status.
func procStatus(t testing.TB, pid int) map[string]string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out
}
