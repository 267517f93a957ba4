package vhostuser

import (
	"errors"
	"fmt"
	"io"
	"log/slog"

	"golang.org/x/sys/unix"
)

const (
	// NumQueues is the number of virtqueues a Session serves: one
	// receive/transmit pair (queue 0 receives, queue 1 transmits).
	NumQueues = 2
	// MaxMemSlots is the number of memory regions a Session accepts, the
	// answer to GET_MAX_MEM_SLOTS.
	MaxMemSlots = 32
	// maxBatch bounds the messages one HandleReadable handles, so that a
	// chatty front-end cannot hold the reactor.
	maxBatch = 64
)

// SessionConfig configures a Session.
type SessionConfig struct {
	// Features is the virtio feature set offered to the driver; zero means
	// DefaultFeatures. FeatureProtocolFeatures is always added,
	// FeatureLogAll always removed.
	Features uint64
	// Logger receives refused requests and ring failures; nil discards.
	Logger *slog.Logger
	// MaxMTU returns the largest MTU NET_SET_MTU accepts (the network's,
	// which may change while the Session lives); it is called from the
	// goroutine that calls the Session. Nil accepts up to MaxNetMTU.
	MaxMTU func() int
}

// Session is the back-end state machine of one vhost-user connection. It
// owns the connection's socket, the descriptors the front-end sent (memory
// regions, ring eventfds) and the device configuration they make up, and
// drives a Device from it.
//
// A Session is not safe for concurrent use: the reactor that owns it calls
// HandleReadable when the socket is readable, and Close when done.
//
// A request carrying FlagNeedReply is acknowledged (zero: done, non-zero:
// refused) whether or not REPLY_ACK was negotiated, as DPDK does: a
// front-end that sets the flag waits for the answer.
//
// Errors are handled so that the connection stays usable when it can: a
// refused request that asked for an acknowledgement gets a non-zero ack; an
// unsupported request without one is ignored; anything else (broken
// framing, a refused request the front-end cannot learn about, a request
// expecting a reply that cannot be given) is returned as an error, and the
// owner should Close the Session.
type Session struct {
	fd  int
	dev Device
	log *slog.Logger
	rd  *Reader
	msg Message
	out []byte
	tmp []byte

	offered       uint64
	acked         uint64
	ackedProtocol uint64
	maxMTU        func() int

	regions []Region
	table   MemoryTable
	rings   [NumQueues]ring
	closed  bool
}

// NewSession returns a Session serving the connected socket fd, which must
// be non-blocking and which the Session owns from now on, for dev.
func NewSession(fd int, dev Device, cfg SessionConfig) *Session {
	offered := cfg.Features
	if offered == 0 {
		offered = DefaultFeatures
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Session{
		fd:      fd,
		dev:     dev,
		log:     log,
		rd:      NewReader(fd, make([]byte, OOBSize)),
		out:     make([]byte, 0, HeaderSize+MaxPayloadSize),
		tmp:     make([]byte, 0, MaxPayloadSize),
		offered: (offered | FeatureProtocolFeatures) &^ FeatureLogAll,
		maxMTU:  cfg.MaxMTU,
	}
	s.resetRings()
	return s
}

// Fd returns the socket the Session reads, for the owner to poll.
func (s *Session) Fd() int { return s.fd }

// Features returns the virtio features the driver acknowledged.
func (s *Session) Features() uint64 { return s.acked }

// ProtocolFeatures returns the protocol features the front-end
// acknowledged.
func (s *Session) ProtocolFeatures() uint64 { return s.ackedProtocol }

// HandleReadable reads and handles the messages waiting on the socket, up
// to a batch, and writes the replies. It returns nil when the socket has no
// complete message left or the batch is done (poll again), io.EOF when the
// front-end disconnected, and other errors when the connection must be
// closed.
func (s *Session) HandleReadable() error {
	if s.closed {
		return fmt.Errorf("vhost-user session: %w", io.ErrClosedPipe)
	}
	for range maxBatch {
		err := s.rd.Read(&s.msg)
		if errors.Is(err, ErrWouldBlock) {
			return nil
		}
		if err != nil {
			return err
		}
		out, herr := s.Handle(&s.msg, s.out[:0])
		if len(out) > 0 {
			if err := WriteMessage(s.fd, out, nil); err != nil {
				return fmt.Errorf("reply to %v: %w", s.msg.Request, err)
			}
		}
		if herr != nil {
			return herr
		}
	}
	return nil
}

// Handle handles one request and appends the reply, if any, to out. It
// takes the message's descriptors: those it keeps are marked taken, the
// others are closed. A non-nil error means the connection must be closed.
func (s *Session) Handle(m *Message, out []byte) ([]byte, error) {
	defer m.CloseFds()
	if err := CheckRequest(m.Header, len(m.Fds)); err != nil {
		return out, err
	}
	payload, err := s.dispatch(m)
	s.reconcile()
	switch {
	case err == nil && m.Request.HasReply():
		return AppendReply(out, m.Request, payload), nil
	case err == nil && m.NeedReply():
		return AppendReply(out, m.Request, AppendU64(s.tmp[:0], 0)), nil
	case err == nil:
		return out, nil
	case m.Request.HasReply():
		return out, fmt.Errorf("%v: %w", m.Request, err)
	}
	s.log.Warn("vhost-user request refused", "request", m.Request.String(), "err", err)
	if m.NeedReply() {
		return AppendReply(out, m.Request, AppendU64(s.tmp[:0], 1)), nil
	}
	if errors.Is(err, ErrUnsupported) {
		return out, nil
	}
	return out, fmt.Errorf("%v: %w", m.Request, err)
}

// dispatch runs the handler of m's request and returns its reply payload
// (for requests that have one), which aliases s.tmp.
func (s *Session) dispatch(m *Message) ([]byte, error) {
	s.log.Debug("vhost-user request", "request", m.Request.String(), "size", m.Size, "fds", len(m.Fds))
	switch m.Request {
	case ReqGetFeatures:
		return AppendU64(s.tmp[:0], s.offered), nil
	case ReqSetFeatures:
		return nil, s.setFeatures(m)
	case ReqGetProtocolFeatures:
		return AppendU64(s.tmp[:0], SupportedProtocolFeatures), nil
	case ReqSetProtocolFeatures:
		return nil, s.setProtocolFeatures(m)
	case ReqSetOwner:
		return nil, nil
	case ReqResetOwner, ReqResetDevice:
		s.reset()
		return nil, nil
	case ReqGetQueueNum:
		return AppendU64(s.tmp[:0], NumQueues), nil
	case ReqGetMaxMemSlots:
		return AppendU64(s.tmp[:0], MaxMemSlots), nil
	case ReqSetMemTable:
		return nil, s.setMemTable(m)
	case ReqAddMemReg:
		return nil, s.addMemReg(m)
	case ReqRemMemReg:
		return nil, s.remMemReg(m)
	case ReqSetVringNum:
		return nil, s.setVringNum(m)
	case ReqSetVringAddr:
		return nil, s.setVringAddr(m)
	case ReqSetVringBase:
		return nil, s.setVringBase(m)
	case ReqGetVringBase:
		return s.getVringBase(m)
	case ReqSetVringKick, ReqSetVringCall, ReqSetVringErr:
		return nil, s.setVringFile(m)
	case ReqSetVringEnable:
		return nil, s.setVringEnable(m)
	case ReqNetSetMTU:
		return nil, s.setMTU(m)
	case ReqSetLogBase, ReqSetLogFd:
		return nil, fmt.Errorf("dirty page logging is not offered: %w", ErrUnsupported)
	}
	return nil, ErrUnsupported
}

// setFeatures acknowledges the driver's features. Without
// FeatureProtocolFeatures every ring is enabled, as the specification
// wants; a change of features restarts the running rings.
func (s *Session) setFeatures(m *Message) error {
	v, err := ParseU64(m.Payload)
	if err != nil {
		return err
	}
	if extra := v &^ s.offered; extra != 0 {
		return fmt.Errorf("features %#x were not offered: %w", extra, ErrBadValue)
	}
	if v != s.acked {
		s.stopAll()
		s.acked = v
	}
	if v&FeatureProtocolFeatures == 0 {
		for q := range s.rings {
			s.rings[q].enabled = true
		}
	}
	return nil
}

func (s *Session) setProtocolFeatures(m *Message) error {
	v, err := ParseU64(m.Payload)
	if err != nil {
		return err
	}
	if extra := v &^ SupportedProtocolFeatures; extra != 0 {
		return fmt.Errorf("protocol features %#x were not offered: %w", extra, ErrBadValue)
	}
	s.ackedProtocol = v
	return nil
}

// reset returns the device to its state before any configuration: rings
// stopped and forgotten, memory removed, features unacknowledged. The
// protocol features stay.
func (s *Session) reset() {
	s.stopAll()
	s.removeAllRegions()
	s.closeRingFds()
	s.resetRings()
	s.acked = 0
}

// Close stops the rings, withdraws the memory, closes every descriptor the
// Session holds, the socket included. It is safe to call more than once.
func (s *Session) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.reset()
	s.rd.Discard()
	if err := unix.Close(s.fd); err != nil {
		return fmt.Errorf("vhost-user session: close socket: %w", err)
	}
	return nil
}
