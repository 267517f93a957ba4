// Package cli_test runs the mvirt CLI binary against a real mvirt-net
// daemon: both are built from this module, the daemon listens on a free
// loopback port with its state in a temporary directory.
package cli_test

import (
	"fmt"
	"os"
	"testing"
)

// binDir holds the built binaries and mvirtd the daemon every test talks to.
var (
	binDir string
	mvirtd *daemon
)

// TestMain shares one daemon between all tests of the package.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

// run builds the binaries, starts the daemon, runs the tests and stops the
// daemon with SIGTERM; a daemon that does not stop cleanly fails the run.
func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "mvirt-cli-test-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "create temporary directory: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir = dir
	if err := buildBinaries(binDir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	mvirtd, err = startDaemon(binDir, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if err := mvirtd.stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	if code != 0 {
		fmt.Fprintln(os.Stderr, mvirtd.log())
	}
	return code
}
