// Package scale measures what a host with many vNICs costs the real
// mvirt-net daemon (built without -race): CreateNic latency and rate at
// concurrency 1 and 32 on one network, then with N NICs (1024 by default)
// the daemon's RSS, threads, fds and idle CPU, first created and then with
// a simulated-VMM frontend connected to every NIC (256-entry rings), and
// the time a restart with N NICs in the store takes until the daemon
// serves with every socket listening. Run it with `make bench-scale`
// (command tests/scale/cmd/mvscale). The figures are reported, never
// asserted.
package scale
