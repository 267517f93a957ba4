package reactor

// RX backpressure. A guest slower than its senders runs out of RX
// buffers. An inbox frame that finds too few of them (a 64 KiB
// super-frame may need 33 mergeable buffers where 20 are posted) waits:
// deliverFrames gives it back to the inbox untaken, with every frame
// after it, and publishes what it delivered; the reactor sleeps until the
// guest kicks its RX queue after adding buffers (awaitRxBuffers) and
// drains again. Meanwhile the inbox fills, and the senders' TX rings wait
// for room in it (route's block), so that the sending guests slow down
// instead of losing frames. The wait is bounded like the senders' own:
// after maxRxWait without room the frames are dropped (DropNoRxBuffer),
// so that a guest that never refills holds neither its inbox nor its
// senders' lent TX chains. A frame the gateway answers with is never
// held (deliver).

// maxRxWait bounds how long inbox frames wait for the guest to add RX
// buffers: as long as a full inbox holds its senders back, which drop
// what they route to it after that anyway.
const maxRxWait = maxBlock

// holdRx decides what becomes of an inbox frame that found too few RX
// buffers: it waits, reporting true, unless the ring has had no room for
// maxRxWait; then it is dropped and counted, as every frame after it is
// until one goes in again. The wait begins with the first frame without
// room, or again with one after frames went in in the same drain;
// drainInboxFrames ends it after a drain that delivered and left none
// waiting. Nothing of it is paid per frame delivered.
func (r *Reactor) holdRx() bool {
	now := nanotime()
	if r.rxWaitSince == 0 || r.batch.rxPackets != 0 {
		r.rxWaitSince = now
	}
	if now-r.rxWaitSince >= int64(maxRxWait) {
		r.rx.sent = 0
		r.drop(DropNoRxBuffer)
		return false
	}
	r.rxWaiting = true
	return true
}

// rxHeld reports whether inbox frames wait for RX buffers of a running
// ring: the reactor then waits for the guest's RX kick, and parks its
// inbox without looking at the frames in it, which wait too (its
// doorbell still wakes it for its TX ring: see quiesce).
func (r *Reactor) rxHeld() bool { return r.rxWaiting && r.queues[rxQueue].running }

// awaitRxBuffers prepares to sleep while frames wait for RX buffers: the
// guest is asked to kick its RX queue when it adds buffers, and the retry
// timer wakes the reactor to drop them if it does not. It reports false
// when the guest added buffers meanwhile.
func (r *Reactor) awaitRxBuffers() bool {
	if r.queues[rxQueue].q.EnableNotify() {
		return false
	}
	r.armRetry()
	return true
}
