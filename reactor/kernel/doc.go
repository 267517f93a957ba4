// Package kernel configures the host's kernel for the uplink, through
// netlink and nftables (never by running ip or nft): the routes that send
// public networks' prefixes to the uplink's TUN, marked with a route
// protocol of the daemon's own so that it touches no other route; the
// optional masquerading table of its own; and the forwarding sysctls.
// Everything acts on the network namespace of the calling thread.
package kernel
