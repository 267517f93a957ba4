package vhostuser

import "errors"

// Sentinel errors; functions wrap them with context, test with errors.Is.
var (
	// ErrWouldBlock: the socket has no complete message (or no room for a
	// reply) right now. Not a failure: poll and call again.
	ErrWouldBlock = errors.New("vhost-user: would block")
	// ErrBadHeader: a header with the wrong version or flags.
	ErrBadHeader = errors.New("vhost-user: bad header")
	// ErrBadSize: a payload whose size does not match its request, or a
	// truncated payload.
	ErrBadSize = errors.New("vhost-user: bad payload size")
	// ErrPayloadTooLarge: a header announcing more than MaxPayloadSize bytes.
	ErrPayloadTooLarge = errors.New("vhost-user: payload too large")
	// ErrBadFds: a message carrying more file descriptors than its request
	// allows (or fewer than it needs).
	ErrBadFds = errors.New("vhost-user: wrong number of file descriptors")
	// ErrBadValue: a well-formed payload with a value the back-end rejects.
	ErrBadValue = errors.New("vhost-user: invalid value")
	// ErrUnsupported: a request the back-end does not implement. A Session
	// refuses it and keeps the connection.
	ErrUnsupported = errors.New("vhost-user: unsupported request")
)
