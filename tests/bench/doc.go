// Package bench measures VM-to-VM forwarding of the real mvirt-net daemon
// side by side with DPDK, both driven by the same simulated VMM: a load
// generator on NIC A sends UDP to NIC B's address through the gateway, a
// sink on NIC B counts what arrives. It also measures ping-pong latency,
// the CPU cost of idle NICs, DPDK's virtio_user front-end against the
// daemon, and the harness against a trivial in-process device, to show
// that the harness is not the bottleneck. Run it with `make bench`
// (command tests/bench/cmd/mvbench); go test runs only quick checks of
// the harness itself.
//
// The harness here is a fast path beside package vmm: it reuses its
// guest memory and vhost-user front-end but drives the rings itself,
// with every buffer fixed to its descriptor, so a packet costs it a few
// loads and stores (see ring).
package bench
