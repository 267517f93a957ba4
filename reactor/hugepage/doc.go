// Package hugepage backs the daemon's own packet memory (inbox slots)
// with 2 MiB huge pages: mapped with MAP_HUGETLB from the kernel's pool
// (/proc/sys/vm/nr_hugepages), faulted in at once, and told apart from
// an exhausted pool so that the caller can say what is missing and fall
// back to normal pages or refuse.
//
// Huge pages spare the TLB: an inbox of 1 MiB takes one TLB entry instead
// of 256. The pool is machine-wide and reserved by the operator; nothing
// here changes it.
package hugepage
