// Package vhostuser is the back-end side of the vhost-user protocol: the
// control channel over which a VMM (QEMU, cloud-hypervisor, a test harness)
// hands a NIC's reactor the guest memory, the virtqueue addresses and the
// notification eventfds of one virtio-net device.
//
// The package has two layers:
//
//   - the wire codec: request codes, the 12-byte header, the payload types,
//     [Reader] (one message and its SCM_RIGHTS descriptors at a time from a
//     non-blocking socket) and [AppendMessage]/[WriteMessage];
//   - [Session]: the state machine of one connection. It decodes requests,
//     keeps the negotiated features, the memory table and the vring
//     configuration, answers the front-end, and tells its [Device] (the NIC's
//     reactor) when memory appears or goes and when a ring starts or stops.
//
// Nothing here blocks: the reactor polls the socket and calls
// [Session.HandleReadable] when it is readable. [Listen] creates the socket a
// VMM connects to.
//
// The protocol is specified in QEMU's docs/interop/vhost-user.rst; numbers are
// in the host's byte order, which is little-endian on every platform the
// daemon supports.
package vhostuser
