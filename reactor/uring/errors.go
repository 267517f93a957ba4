package uring

import "golang.org/x/sys/unix"

// enterError is an io_uring_enter(2) failure. It is an integer, not a
// pointer, so returning it does not allocate on the hot path (errno values
// are below 256 and convert to an interface without an allocation).
type enterError unix.Errno

// Error prints the failure with its context.
func (e enterError) Error() string {
	return "io_uring_enter: " + unix.Errno(e).Error()
}

// Unwrap returns the errno, for errors.Is(err, unix.ETIME) and the like.
func (e enterError) Unwrap() error {
	return unix.Errno(e)
}
