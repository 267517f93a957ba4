// Package vmm plays a VMM and its guest in tests: a vhost-user front-end
// speaking to the daemon's sockets the way QEMU does, and the guest side of
// memory and virtqueues behind it.
package vmm

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"mvirt-net/reactor/vhostuser"
)

// DefaultTimeout bounds the wait for each reply of the back-end.
const DefaultTimeout = 5 * time.Second

// ErrNack is returned when the back-end answers a request's REPLY_ACK with
// a non-zero status.
var ErrNack = errors.New("vmm: vhost-user back-end refused the request")

// Frontend is the VMM side of a vhost-user connection: it sends the
// requests QEMU sends, in the same encoding, and waits for the replies.
// Once REPLY_ACK is negotiated, every request without a reply of its own
// asks for an acknowledgement and fails with ErrNack if it is refused.
//
// A Frontend is used from one goroutine at a time.
type Frontend struct {
	fd       int
	rd       *vhostuser.Reader
	msg      vhostuser.Message
	buf      []byte
	timeout  time.Duration
	features uint64
	protocol uint64
}

// MemRegion is a region of guest memory as the VMM shares it: the guest
// physical range, where the VMM has it mapped, and the descriptor and
// offset the back-end maps it from. The Frontend sends a copy of Fd, which
// stays the caller's.
type MemRegion struct {
	GuestPhysAddr uint64
	Size          uint64
	UserspaceAddr uint64
	MmapOffset    uint64
	Fd            int
}

func (r MemRegion) wire() vhostuser.MemoryRegion {
	return vhostuser.MemoryRegion{
		GuestPhysAddr: r.GuestPhysAddr,
		Size:          r.Size,
		UserspaceAddr: r.UserspaceAddr,
		MmapOffset:    r.MmapOffset,
	}
}

// Dial connects to the vhost-user socket at path.
func Dial(path string) (*Frontend, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("vmm: dial %s: socket: %w", path, err)
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("vmm: dial %s: %w", path, err)
	}
	return NewFrontend(fd), nil
}

// NewFrontend returns a Frontend over the connected stream socket fd (one
// end of a socketpair, say), which it owns from now on.
func NewFrontend(fd int) *Frontend {
	return &Frontend{
		fd:      fd,
		rd:      vhostuser.NewReader(fd, make([]byte, vhostuser.OOBSize)),
		buf:     make([]byte, 0, vhostuser.HeaderSize+vhostuser.MaxPayloadSize),
		timeout: DefaultTimeout,
	}
}

// Fd returns the socket.
func (f *Frontend) Fd() int { return f.fd }

// SetTimeout sets how long each reply is waited for.
func (f *Frontend) SetTimeout(d time.Duration) { f.timeout = d }

// Close closes the connection; the back-end sees the disconnect.
func (f *Frontend) Close() error {
	f.rd.Discard()
	if err := unix.Close(f.fd); err != nil {
		return fmt.Errorf("vmm: close vhost-user connection: %w", err)
	}
	return nil
}

// SendRaw writes msg, which may be any bytes at all, with fds (which stay
// the caller's) attached to its first byte.
func (f *Frontend) SendRaw(msg []byte, fds []int) error {
	if err := vhostuser.WriteMessage(f.fd, msg, fds); err != nil {
		return fmt.Errorf("vmm: send: %w", err)
	}
	return nil
}

// Send writes one well-formed message with the given flags (the version is
// added) and fds, without waiting for anything.
func (f *Frontend) Send(req vhostuser.Request, flags uint32, payload []byte, fds []int) error {
	f.buf = vhostuser.AppendMessage(f.buf[:0], req, vhostuser.Version|flags, payload)
	return f.SendRaw(f.buf, fds)
}

// ReadMessage waits up to the timeout for the next message from the
// back-end and returns its header and a copy of its payload. Descriptors
// sent with it are closed.
func (f *Frontend) ReadMessage() (vhostuser.Header, []byte, error) {
	deadline := time.Now().Add(f.timeout)
	for {
		err := f.rd.Read(&f.msg)
		if err == nil {
			f.msg.CloseFds()
			return f.msg.Header, append([]byte(nil), f.msg.Payload...), nil
		}
		if !errors.Is(err, vhostuser.ErrWouldBlock) {
			return vhostuser.Header{}, nil, fmt.Errorf("vmm: read reply: %w", err)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return vhostuser.Header{}, nil, fmt.Errorf("vmm: no reply within %v: %w", f.timeout, unix.ETIMEDOUT)
		}
		pfd := []unix.PollFd{{Fd: int32(f.fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, int(left.Milliseconds())+1); err != nil && !errors.Is(err, unix.EINTR) {
			return vhostuser.Header{}, nil, fmt.Errorf("vmm: poll: %w", err)
		}
	}
}

// readReply reads the reply to req and checks its header.
func (f *Frontend) readReply(req vhostuser.Request) ([]byte, error) {
	h, payload, err := f.ReadMessage()
	if err != nil {
		return nil, fmt.Errorf("%v: %w", req, err)
	}
	if h.Request != req || h.Flags != vhostuser.Version|vhostuser.FlagReply {
		return nil, fmt.Errorf("vmm: %v: unexpected reply %v with flags %#x", req, h.Request, h.Flags)
	}
	return payload, nil
}

// query sends a request that has a reply and returns the reply's payload.
func (f *Frontend) query(req vhostuser.Request, payload []byte) ([]byte, error) {
	if err := f.Send(req, 0, payload, nil); err != nil {
		return nil, fmt.Errorf("%v: %w", req, err)
	}
	return f.readReply(req)
}

// queryU64 sends a request without payload whose reply is a u64.
func (f *Frontend) queryU64(req vhostuser.Request) (uint64, error) {
	p, err := f.query(req, nil)
	if err != nil {
		return 0, err
	}
	v, err := vhostuser.ParseU64(p)
	if err != nil {
		return 0, fmt.Errorf("vmm: %v reply: %w", req, err)
	}
	return v, nil
}

// command sends a request without a reply of its own; with REPLY_ACK
// negotiated it asks for the acknowledgement and checks it.
func (f *Frontend) command(req vhostuser.Request, payload []byte, fds []int) error {
	var flags uint32
	ack := f.protocol&vhostuser.ProtocolReplyAck != 0
	if ack {
		flags = vhostuser.FlagNeedReply
	}
	if err := f.Send(req, flags, payload, fds); err != nil {
		return fmt.Errorf("%v: %w", req, err)
	}
	if !ack {
		return nil
	}
	p, err := f.readReply(req)
	if err != nil {
		return err
	}
	status, err := vhostuser.ParseU64(p)
	if err != nil {
		return fmt.Errorf("vmm: %v ack: %w", req, err)
	}
	if status != 0 {
		return fmt.Errorf("%v: status %d: %w", req, status, ErrNack)
	}
	return nil
}
