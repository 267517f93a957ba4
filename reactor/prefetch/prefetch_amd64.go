package prefetch

import "unsafe"

// Read prefetches the cache lines of b for reading.
func Read(b []byte) {
	if len(b) > 0 {
		read(unsafe.Pointer(unsafe.SliceData(b)), len(b))
	}
}

// Write prefetches the cache lines of b for writing: each line is fetched
// in the exclusive state, so a store to it need not ask for ownership.
func Write(b []byte) {
	if len(b) > 0 {
		write(unsafe.Pointer(unsafe.SliceData(b)), len(b))
	}
}

//go:noescape
func read(p unsafe.Pointer, n int)

//go:noescape
func write(p unsafe.Pointer, n int)
