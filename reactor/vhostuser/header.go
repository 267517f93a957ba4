package vhostuser

import (
	"encoding/binary"
	"fmt"
)

// Header flag bits.
const (
	// FlagVersionMask selects the protocol version in Flags.
	FlagVersionMask uint32 = 0x3
	// Version is the only protocol version there is.
	Version uint32 = 0x1
	// FlagReply marks a message from the back-end answering a request.
	FlagReply uint32 = 0x4
	// FlagNeedReply asks the back-end for a u64 acknowledgement
	// (REPLY_ACK): zero for success, non-zero for failure.
	FlagNeedReply uint32 = 0x8
)

const (
	// HeaderSize is the size of a message header on the wire.
	HeaderSize = 12
	// MaxPayloadSize bounds the payload of any message this package reads.
	// The largest payload of the specification is a little over 256 bytes;
	// 4 KiB leaves room for requests added later.
	MaxPayloadSize = 4096
	// MaxFds bounds the file descriptors of one message: one per region of
	// a full memory table.
	MaxFds = MaxRegions
)

// Header is the fixed part of every message: {request u32, flags u32,
// size u32}, size being the number of payload bytes that follow.
type Header struct {
	Request Request
	Flags   uint32
	Size    uint32
}

// UnmarshalBinary decodes a header from exactly HeaderSize bytes. It does
// not judge the values; see CheckRequest.
func (h *Header) UnmarshalBinary(b []byte) error {
	if len(b) != HeaderSize {
		return fmt.Errorf("header of %d bytes: %w", len(b), ErrBadSize)
	}
	h.Request = Request(binary.LittleEndian.Uint32(b[0:]))
	h.Flags = binary.LittleEndian.Uint32(b[4:])
	h.Size = binary.LittleEndian.Uint32(b[8:])
	return nil
}

// AppendBinary appends the wire form of h to b.
func (h Header) AppendBinary(b []byte) ([]byte, error) {
	b = binary.LittleEndian.AppendUint32(b, uint32(h.Request))
	b = binary.LittleEndian.AppendUint32(b, h.Flags)
	return binary.LittleEndian.AppendUint32(b, h.Size), nil
}

// NeedReply reports whether the front-end asked for a REPLY_ACK.
func (h Header) NeedReply() bool { return h.Flags&FlagNeedReply != 0 }

// IsReply reports whether the message is a reply.
func (h Header) IsReply() bool { return h.Flags&FlagReply != 0 }
