package dataplane_test

import (
	"bufio"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
	"mvirt-net/tests/vmm"
)

// unitFile is the systemd unit whose privileges the test reproduces.
const unitFile = "../../cmd/mvirt-net/mvirt-net.service"

// capBits are the capabilities the unit may grant, by bit number; one the
// test does not know fails it, so that a new capability in the unit is
// also checked here.
var capBits = map[string]uint{"CAP_NET_ADMIN": 12}

// unitService returns the [Service] settings of the unit file.
func unitService(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(unitFile)
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
func capList(t *testing.T, v string) (string, uint64) {
	t.Helper()
	list, mask := "-all", uint64(0)
	for _, c := range strings.Fields(v) {
		bit, ok := capBits[c]
		if !ok {
			t.Fatalf("%s grants %s, which this test does not know", unitFile, c)
		}
		list += ",+" + strings.ToLower(strings.TrimPrefix(c, "CAP_"))
		mask |= 1 << bit
	}
	return list, mask
}

// procStatus reads the fields of /proc/PID/status.
func procStatus(t *testing.T, pid int) map[string]string {
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

// checkPrivileges fails the test unless the process runs as uid with
// exactly the capabilities of mask in every set.
func checkPrivileges(t *testing.T, pid, uid int, mask uint64) {
	t.Helper()
	st := procStatus(t, pid)
	if ids := strings.Fields(st["Uid"]); len(ids) != 4 || ids[0] != strconv.Itoa(uid) || ids[1] != strconv.Itoa(uid) {
		t.Errorf("daemon uids %q, want %d", st["Uid"], uid)
	}
	for _, set := range []string{"CapPrm", "CapEff", "CapBnd", "CapAmb"} {
		got, err := strconv.ParseUint(st[set], 16, 64)
		if err != nil || got != mask {
			t.Errorf("%s %s, want exactly %#x", set, st[set], mask)
		}
	}
	if st["NoNewPrivs"] != "1" {
		t.Errorf("NoNewPrivs %q", st["NoNewPrivs"])
	}
}

// TestUnderTheUnitsPrivileges runs the daemon as systemd would run
// mvirt-net.service: as an unprivileged user (nobody stands in for the
// unit's mvirt-net) with exactly the unit's capabilities and no new
// privileges, and drives the API and the data plane through it.
func TestUnderTheUnitsPrivileges(t *testing.T) {
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
		t.Fatalf("%s runs the daemon as root; this test expects an unprivileged User=", unitFile)
	}
	// nobody stands in for the unit's user, which this host lacks.
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	wrap = append(wrap, "--reuid="+nobody.Uid, "--regid="+nobody.Gid, "--clear-groups")
	// What systemd's RuntimeDirectory= and StateDirectory= do: the
	// daemon's folders belong to its user.
	dirs := daemon.NewDirs(t)
	if err := os.Chown(filepath.Dir(dirs.SocketDir), uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(daemon.Binaries(t), 0o755); err != nil {
		t.Fatal(err)
	}
	runUnderUnit(t, dirs, wrap, uid, mask)
}

// runUnderUnit starts the daemon under wrap and runs the API and the data
// plane through it, across a restart.
func runUnderUnit(t *testing.T, dirs daemon.Dirs, wrap []string, uid int, mask uint64) {
	d := daemon.StartWith(t, dirs, daemon.Options{Wrap: wrap})
	t.Helper()
	checkPrivileges(t, d.Pid(), uid, mask)

	n, err := d.Client.CreateNetwork(ctx(t), &netpb.CreateNetworkRequest{
		Name: "net", Ipv4Enabled: true, Ipv4Subnet: "10.0.0.0/24", Ipv6Enabled: true, Ipv6Prefix: "fd00::/64",
		DnsServers: []string{"192.0.2.53"}, NtpServers: []string{"192.0.2.123"},
	})
	if err != nil {
		t.Fatal(err)
	}
	a := createNic(t, d, &netpb.CreateNicRequest{NetworkId: n.Id, Name: "a"})
	b := createNic(t, d, &netpb.CreateNicRequest{NetworkId: n.Id, Name: "b"})
	dhcp4Bind(t, d, a.g, a.nicUnderTest)
	pingGateway(t, b.g, b.nicUnderTest, 1)
	if err := a.g.Send(echo4(a, b.ip, 64, 2)); err != nil {
		t.Fatal(err)
	}
	expectRouted(t, b, a.ip, 63)

	// The store and sockets written under these privileges are read back
	// under them.
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	d = daemon.StartWith(t, dirs, daemon.Options{Wrap: wrap})
	list, err := d.Client.ListNics(ctx(t), &netpb.ListNicsRequest{})
	if err != nil || len(list.Nics) != 2 {
		t.Fatalf("after a restart: %v %v", list, err)
	}
	g := connect(t, a.nicUnderTest, vmm.GuestConfig{})
	waitState(t, d, a.Id, netpb.NicState_NIC_STATE_ACTIVE)
	pingGateway(t, g, a.nicUnderTest, 3)
}
