package eventfd

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestSignalAddsOne(t *testing.T) {
	fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	for range 3 {
		if !Signal(fd) {
			t.Fatal("signal failed")
		}
	}
	var buf [8]byte
	if _, err := unix.Read(fd, buf[:]); err != nil {
		t.Fatal(err)
	}
	if buf[0] != 3 {
		t.Fatalf("counter %d after 3 signals", buf[0])
	}
	if Signal(-1) {
		t.Fatal("signal on a bad fd reported success")
	}
}
