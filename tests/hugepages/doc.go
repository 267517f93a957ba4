// Package hugepages tests --hugepages against the real daemon: the
// fallback to normal pages and its warning when the pool is empty, the
// refusal with --hugepages=required, and the pages taken from the pool
// (and given back) while traffic flows through harness frontends.
//
// The huge page pool (/proc/sys/vm/nr_hugepages) is machine-wide, not
// namespaced: the tests run one after another, size the pool by a few
// pages and put the old size back in cleanup.
package hugepages
