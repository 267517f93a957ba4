// Package cli_test runs the mvirt CLI binary against a real mvirt-net
// daemon: both are built from this module, the daemon listens on a free
// loopback port with its state in a temporary directory.
package cli_test

import (
	"fmt"
	"os"
	"testing"

	"mvirt-net/tests/daemon"
)

// mvirtBin is the built mvirt CLI and mvirtd the daemon every test talks to.
var (
	mvirtBin string
	mvirtd   *daemon.Daemon
)

// TestMain shares one daemon between all tests of the package.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

// run builds the binaries, starts the daemon, runs the tests, stops the
// daemon with SIGTERM and removes the binaries; a daemon that does not stop
// cleanly fails the run.
func run(m *testing.M) int {
	defer func() {
		if err := daemon.RemoveBinaries(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()
	var err error
	mvirtBin, err = daemon.Mvirt()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dirs, cleanup, err := daemon.NewTempDirs()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cleanup()
	// Public networks open the uplink: the daemon runs in a namespace of
	// the tests' own.
	ns, nsCleanup, err := daemon.NewNetns()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer nsCleanup()
	dirs.Netns = ns
	mvirtd, err = daemon.Launch(dirs)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if err := mvirtd.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	if code != 0 {
		fmt.Fprintf(os.Stderr, "mvirt-net log:\n%s", mvirtd.Log())
	}
	return code
}
