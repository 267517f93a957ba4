package virtq

// Fault is why a queue operation refused what the guest put in the rings.
// Every Fault except FaultNone and FaultSegmentLimit is a violation of the
// spec by the driver: the owner should stop the queue and mark the device
// "needs reset" (Fatal reports which).
type Fault uint8

// Faults, in the order Pop checks them.
const (
	FaultNone                  Fault = iota
	FaultAvailIdxJump                // avail idx moved more than the queue size ahead (or back)
	FaultHeadOutOfRange              // avail ring entry is not a descriptor index
	FaultNextOutOfRange              // next field points outside the descriptor table
	FaultChainTooLong                // chain longer than the queue size: a loop
	FaultZeroLength                  // descriptor of length 0
	FaultWrongDirection              // writable buffer on a device-read queue, or the reverse
	FaultReadAfterWrite              // device-readable buffer after a device-writable one
	FaultDescOutOfMemory             // buffer not entirely inside one guest memory region
	FaultIndirectNotNegotiated       // INDIRECT flag without VIRTIO_F_INDIRECT_DESC
	FaultIndirectNext                // INDIRECT and NEXT set in the same descriptor
	FaultIndirectLength              // indirect table length 0 or not a multiple of 16
	FaultIndirectOutOfMemory         // indirect table not entirely inside one region
	FaultNestedIndirect              // INDIRECT flag inside an indirect table
	FaultIndirectLoop                // indirect chain longer than its table: a loop
	FaultShortRxBuffer               // mergeable RX buffer smaller than the net header
	FaultSegmentLimit                // not a guest error: chain has more segments than the Chain holds
	numFaults
)

var faultNames = [numFaults]string{
	FaultNone:                  "none",
	FaultAvailIdxJump:          "avail-idx-jump",
	FaultHeadOutOfRange:        "head-out-of-range",
	FaultNextOutOfRange:        "next-out-of-range",
	FaultChainTooLong:          "chain-too-long",
	FaultZeroLength:            "zero-length",
	FaultWrongDirection:        "wrong-direction",
	FaultReadAfterWrite:        "read-after-write",
	FaultDescOutOfMemory:       "desc-out-of-memory",
	FaultIndirectNotNegotiated: "indirect-not-negotiated",
	FaultIndirectNext:          "indirect-with-next",
	FaultIndirectLength:        "indirect-length",
	FaultIndirectOutOfMemory:   "indirect-out-of-memory",
	FaultNestedIndirect:        "nested-indirect",
	FaultIndirectLoop:          "indirect-loop",
	FaultShortRxBuffer:         "short-rx-buffer",
	FaultSegmentLimit:          "segment-limit",
}

// String returns a short kebab-case name, fit for a metric label.
func (f Fault) String() string {
	if f < numFaults {
		return faultNames[f]
	}
	return "unknown"
}

// Fatal reports whether f is a driver error that requires a device reset.
func (f Fault) Fatal() bool { return f != FaultNone && f != FaultSegmentLimit }
