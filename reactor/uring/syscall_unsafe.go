package uring

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// setup calls io_uring_setup(2), which fills in p.
func setup(entries uint32, p *params) (int, error) {
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(p)), 0)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

// enter calls io_uring_enter(2) once. With extArg it passes r.waitArg, whose
// timeout is r.waitTS. It returns the number of entries the kernel consumed,
// zero on error.
func (r *Ring) enter(submit, waitNr, flags uint32, extArg bool) (uint32, unix.Errno) {
	var n uintptr
	var errno unix.Errno
	if extArg {
		r.waitArg.ts = uint64(uintptr(unsafe.Pointer(&r.waitTS)))
		n, _, errno = unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(submit), uintptr(waitNr),
			uintptr(flags|enterExtArg), uintptr(unsafe.Pointer(&r.waitArg)), unsafe.Sizeof(r.waitArg))
	} else if waitNr == 0 {
		// Nothing to wait for: the call does not block, so it is made raw
		// and the Go scheduler does not hand the caller's P away.
		n, _, errno = unix.RawSyscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(submit), 0,
			uintptr(flags), 0, 0)
	} else {
		n, _, errno = unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(submit), uintptr(waitNr),
			uintptr(flags), 0, 0)
	}
	if errno != 0 {
		return 0, errno
	}
	return uint32(n), 0
}

// registerFd calls io_uring_register(2) for op with one int32 argument, or
// with none when fd is negative. EINTR is retried.
func (r *Ring) registerFd(op uint32, fd int32) error {
	for {
		var errno unix.Errno
		if fd < 0 {
			_, _, errno = unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), uintptr(op), 0, 0, 0, 0)
		} else {
			_, _, errno = unix.Syscall6(unix.SYS_IO_URING_REGISTER, uintptr(r.fd), uintptr(op),
				uintptr(unsafe.Pointer(&fd)), 1, 0, 0)
		}
		switch errno {
		case 0:
			return nil
		case unix.EINTR:
			continue
		default:
			return errno
		}
	}
}
