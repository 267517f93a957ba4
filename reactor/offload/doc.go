// Package offload implements virtio-net's checksum and segmentation
// offloads in software, for the data plane: the virtio_net_hdr codec, the
// offload feature set and its dependency rules, validation of what a guest
// asks for, checksum completion and segmentation (TSO, USO). It is pure: no
// queues, no I/O, no state beyond what the caller owns, and no allocation
// per frame or per segment.
//
// # Model
//
// A driver (guest) that negotiated CSUM and HOST_TSO4/6, HOST_ECN or
// HOST_USO may leave work to the device: a frame with NEEDS_CSUM carries
// only the pseudo-header sum in its transport checksum, and a GSO frame (a
// "super-frame" of up to 64 KiB) is to be cut into gso_size segments. The
// device may hand such a frame on as it is to a destination that negotiated
// the matching GUEST_CSUM and GUEST_TSO4/6, GUEST_ECN or GUEST_USO4/6
// features, or else must do the work itself. So for every frame a guest
// sends:
//
//  1. Validate checks the header against the frame and the sender's
//     features and fills a Layout, or returns the Reason to drop and count
//     the frame by;
//  2. for each destination, Plan says what to do given the destination's
//     features: nothing, pass the frame through (with Header.PassThrough),
//     Complete its checksum, or cut it with a Segmenter into segments with
//     full or partial checksums.
//
// A frame is given as head, a writable slice holding at least its headers,
// and tail, the rest in read-only pieces ([][]byte), because Linux sends a
// TSO frame as a header buffer plus page fragments and the data plane should
// not linearise it: Pullup copies the first MaxHeaderLen bytes into a
// caller's buffer. Complete writes its result into head only; the Segmenter
// writes each segment's headers into a small caller buffer and hands its
// payload out as slices of head and tail, ready for virtq.Queue.Deliver.
//
// # API
//
//	Header, Decode, Header.Encode, Header.Append  virtio_net_hdr (12 or legacy 10 bytes)
//	Header.PassThrough                            the header to forward with a frame as is
//	Header.Rebased                                the header behind a longer or shorter link header (TUN)
//	Features, FromVirtio, Features.Virtio         offload features <-> virtio feature word
//	Features.Consistent                           strip features without their prerequisites
//	Validate(h, head, tail, allowed, &layout)     Reason (ReasonNone: accepted)
//	Plan(h, &layout, dstFeatures)                 Action for one destination
//	SegmentIPLen(h, &layout)                      IP length of the largest segment, for the MTU
//	Complete(h, &layout, head, tail)              software checksum for NEEDS_CSUM
//	Segmenter.Init / Next / SegmentHeader         software GSO, one segment per Next
//	Pullup(buf, pieces, rest)                     gather the headers into head
//	Reason.String, Action.String                  metric labels
package offload
