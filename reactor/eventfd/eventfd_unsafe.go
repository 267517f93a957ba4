// Package eventfd signals the eventfds a reactor interrupts guests and
// wakes other reactors with.
package eventfd

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

var one = [8]byte{1}

// Signal adds one to the eventfd fd and reports whether it could; EAGAIN
// (the counter at its maximum) means a wake-up is pending anyway. The fd
// must be EFD_NONBLOCK, so the write never blocks, and it is made as a raw
// system call: the Go scheduler does not see the calling thread in a
// system call and hands its P to no other thread. On a reactor that
// signals every batch that is one thread wake-up less each time.
func Signal(fd int) bool {
	_, _, errno := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&one[0])), uintptr(len(one)))
	return errno == 0
}
