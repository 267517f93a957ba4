package main

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Exit statuses of mvirt.
const (
	exitFailure = 1 // the daemon refused or failed the operation, or was unreachable
	exitUsage   = 2 // the command line was rejected before asking the daemon
)

// usageError is a command line mvirt rejects on its own: an unknown flag, a
// missing argument, a value that cannot be parsed.
type usageError struct{ err error }

// Error returns the message of the rejected command line.
func (e usageError) Error() string { return e.err.Error() }

// Unwrap returns the cause.
func (e usageError) Unwrap() error { return e.err }

// usageErrorf formats a usageError.
func usageErrorf(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// isUsage reports whether err is, or wraps, a usageError.
func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u)
}

// failure is an operation that was attempted and failed; msg is what the
// user reads, err the cause.
type failure struct {
	msg string
	err error
}

// Error returns the message the user reads.
func (f failure) Error() string { return f.msg }

// Unwrap returns the cause.
func (f failure) Unwrap() error { return f.err }

// exitCode maps an error of a command to the process exit status. Errors
// that did not come out of an action are cobra's own: unknown commands,
// wrong argument counts, missing or conflicting flags.
func exitCode(err error) int {
	var f failure
	if errors.As(err, &f) {
		return exitFailure
	}
	return exitUsage
}

// describe turns an error of an RPC into the sentence a user reads: the
// daemon's own message, not the Go formatting of a gRPC status, with the
// address added when the daemon could not be reached or did not answer.
func describe(err error, server string, timeout time.Duration) string {
	st, ok := status.FromError(err)
	if !ok {
		return err.Error()
	}
	switch st.Code() {
	case codes.Unavailable:
		return fmt.Sprintf("cannot reach mvirt-net at %s: %s", server, st.Message())
	case codes.DeadlineExceeded:
		return fmt.Sprintf("mvirt-net at %s did not answer within %s", server, timeout)
	default:
		return st.Message()
	}
}
