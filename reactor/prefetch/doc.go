// Package prefetch asks the CPU to bring memory into its caches before it
// is used: the data plane prefetches the next frame's source bytes and
// destination buffer while it copies the current one, so that the cache
// misses of the two overlap instead of following each other. A prefetch
// is a hint: it never faults and changes no memory, so any address is
// safe to pass. On CPUs other than amd64 the functions do nothing.
package prefetch
