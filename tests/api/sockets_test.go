package api_test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

// leaveSocket binds a unix socket at path and closes it without removing
// the file, as a process killed after binding leaves it.
func leaveSocket(t *testing.T, path string) {
	t.Helper()
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestStraySocketsSwept leaves sockets named like a NIC's that belong to
// no NIC, and other files, in the socket dir of a killed daemon: the next
// start removes exactly the former, and the NICs' sockets work.
func TestStraySocketsSwept(t *testing.T) {
	dirs := daemon.NewDirs(t)
	d := daemon.Start(t, dirs)
	mustNetwork(t, d.Client, dual("prod"))
	nics := []*netpb.Nic{
		mustNic(t, d.Client, &netpb.CreateNicRequest{NetworkId: "prod", Name: "vm-a"}),
		mustNic(t, d.Client, &netpb.CreateNicRequest{NetworkId: "prod", Name: "vm-b"}),
	}
	d.Kill()

	var stray []string
	for range 3 {
		p := filepath.Join(dirs.SocketDir, uuid.NewString()+".sock")
		leaveSocket(t, p)
		stray = append(stray, p)
	}
	keep := []string{
		filepath.Join(dirs.SocketDir, strings.ToUpper(uuid.NewString())+".sock"),
		filepath.Join(dirs.SocketDir, "qemu-monitor.sock"),
		filepath.Join(dirs.SocketDir, uuid.NewString()+".sock.bak"),
	}
	for _, p := range keep {
		leaveSocket(t, p)
	}
	for _, name := range []string{uuid.NewString() + ".sock", "notes.txt"} {
		p := filepath.Join(dirs.SocketDir, name)
		if err := os.WriteFile(p, []byte("not ours"), 0o600); err != nil {
			t.Fatal(err)
		}
		keep = append(keep, p)
	}
	sub := filepath.Join(dirs.SocketDir, uuid.NewString()+".sock")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	keep = append(keep, sub)

	d = daemon.Start(t, dirs)
	for _, p := range stray {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("stray socket %s is still there (%v)", p, err)
		}
	}
	for _, p := range keep {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s, which is not a nic's socket, is gone: %v", p, err)
		}
	}
	for _, n := range nics {
		if !socketListens(n.SocketPath) {
			t.Errorf("socket of nic %s does not listen", n.Name)
		}
	}
	if !strings.Contains(d.Log(), "belongs to no nic") {
		t.Errorf("the sweep is not logged")
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
}
