package vhostuser

import "fmt"

// anySize marks a request whose payload size is checked by its decoder (or
// not at all, for requests a Session refuses anyway).
const anySize = -1

// rule is what a request may carry: an exact payload size (or anySize) and
// a range of file descriptor counts.
type rule struct {
	size           int
	minFds, maxFds int
}

var rules = map[Request]rule{
	ReqGetFeatures:         {0, 0, 0},
	ReqSetFeatures:         {U64Size, 0, 0},
	ReqSetOwner:            {0, 0, 0},
	ReqResetOwner:          {0, 0, 0},
	ReqSetMemTable:         {anySize, 0, MaxRegions},
	ReqSetLogBase:          {anySize, 0, 1},
	ReqSetLogFd:            {anySize, 0, 1},
	ReqSetVringNum:         {VringStateSize, 0, 0},
	ReqSetVringAddr:        {VringAddrSize, 0, 0},
	ReqSetVringBase:        {VringStateSize, 0, 0},
	ReqGetVringBase:        {VringStateSize, 0, 0},
	ReqSetVringKick:        {U64Size, 0, 1},
	ReqSetVringCall:        {U64Size, 0, 1},
	ReqSetVringErr:         {U64Size, 0, 1},
	ReqGetProtocolFeatures: {0, 0, 0},
	ReqSetProtocolFeatures: {U64Size, 0, 0},
	ReqGetQueueNum:         {0, 0, 0},
	ReqSetVringEnable:      {VringStateSize, 0, 0},
	ReqSendRARP:            {U64Size, 0, 0},
	ReqNetSetMTU:           {U64Size, 0, 0},
	ReqSetBackendReqFd:     {anySize, 0, 1},
	ReqSetVringEndian:      {VringStateSize, 0, 0},
	ReqGetConfig:           {anySize, 0, 0},
	ReqSetConfig:           {anySize, 0, 0},
	ReqResetDevice:         {0, 0, 0},
	ReqVringKick:           {VringStateSize, 0, 0},
	ReqGetMaxMemSlots:      {0, 0, 0},
	ReqAddMemReg:           {MemRegMsgSize, 1, 1},
	ReqRemMemReg:           {MemRegMsgSize, 0, 1},
	ReqSetStatus:           {U64Size, 0, 0},
	ReqGetStatus:           {0, 0, 0},
}

// CheckRequest validates the framing of a request from a front-end: the
// protocol version, the absence of the reply flag, the payload size the
// request code calls for, and the number of file descriptors that came with
// it. Codes it does not know pass if their payload fits MaxPayloadSize and
// their descriptors MaxFds; refusing them is the Session's business.
func CheckRequest(h Header, nfds int) error {
	if h.Flags&FlagVersionMask != Version {
		return fmt.Errorf("%v: version %d: %w", h.Request, h.Flags&FlagVersionMask, ErrBadHeader)
	}
	if h.IsReply() {
		return fmt.Errorf("%v: reply flag set on a request: %w", h.Request, ErrBadHeader)
	}
	if h.Size > MaxPayloadSize {
		return fmt.Errorf("%v: %d payload bytes: %w", h.Request, h.Size, ErrPayloadTooLarge)
	}
	ru, ok := rules[h.Request]
	if !ok {
		ru = rule{anySize, 0, MaxFds}
	}
	if ru.size != anySize && int(h.Size) != ru.size {
		return fmt.Errorf("%v: %d payload bytes, want %d: %w", h.Request, h.Size, ru.size, ErrBadSize)
	}
	if nfds < ru.minFds || nfds > ru.maxFds {
		return fmt.Errorf("%v: %d file descriptors, want %d to %d: %w", h.Request, nfds, ru.minFds, ru.maxFds, ErrBadFds)
	}
	return nil
}
