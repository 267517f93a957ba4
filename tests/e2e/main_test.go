// Package e2e_test is the real-guest tier: QEMU (TCG) boots a Debian cloud
// kernel whose virtio-net driver talks to the real mvirt-net daemon over
// vhost-user, and stock tools in the guest (busybox, dhcpcd) do DHCPv4,
// DHCPv6, router discovery and pings. Nothing of ours runs in the guest
// but its /init (guest/init), which runs a plan handed over on the kernel
// command line and prints one marker line per check on the serial console.
//
// guest/build.sh makes the kernel and initramfs into .cache/e2e of the
// repository root from Debian packages (tests/setup/install-deps.sh
// installs them; `make test` runs it first).
package e2e_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"mvirt-net/tests/daemon"
)

// guestImage is the kernel and initramfs every test guest boots.
var guestImage image

// image is the output of guest/build.sh.
type image struct {
	kernel string
	initrd string
}

// TestMain builds the guest image once for all tests of the package.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

// run builds the guest image, runs the tests and removes the daemon
// binaries the tests built.
func run(m *testing.M) int {
	defer func() {
		if err := daemon.RemoveBinaries(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()
	img, err := buildGuest()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	guestImage = img
	return m.Run()
}

// buildGuest runs guest/build.sh, which rebuilds only when its inputs
// changed, into .cache/e2e of the repository root (the tests run in this
// package's folder).
func buildGuest() (image, error) {
	cache, err := filepath.Abs(filepath.Join("..", "..", ".cache", "e2e"))
	if err != nil {
		return image{}, fmt.Errorf("guest cache folder: %w", err)
	}
	out, err := exec.Command(filepath.Join("guest", "build.sh"), cache).CombinedOutput()
	if err != nil {
		return image{}, fmt.Errorf("guest/build.sh (needs the packages of tests/setup/install-deps.sh): %w\n%s", err, out)
	}
	return image{
		kernel: filepath.Join(cache, "vmlinuz"),
		initrd: filepath.Join(cache, "initramfs.cpio.gz"),
	}, nil
}
