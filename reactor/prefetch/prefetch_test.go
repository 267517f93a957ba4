package prefetch

import (
	"bytes"
	"testing"
)

// TestPrefetchChangesNothing prefetches slices of every alignment and
// length, up to the last byte of their backing array and empty ones: the
// loops stay within each slice's cache lines and never write.
func TestPrefetchChangesNothing(t *testing.T) {
	buf := make([]byte, 4096)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	want := bytes.Clone(buf)
	for off := range 130 {
		for _, n := range []int{0, 1, 63, 64, 65, 1500, len(buf) - off} {
			if off+n > len(buf) {
				continue
			}
			Read(buf[off : off+n])
			Write(buf[off : off+n])
		}
	}
	Read(nil)
	Write(nil)
	if !bytes.Equal(buf, want) {
		t.Fatal("a prefetch changed memory")
	}
}

// BenchmarkWrite1500 prefetches one frame's worth of cache lines.
func BenchmarkWrite1500(b *testing.B) {
	buf := make([]byte, 1500)
	for b.Loop() {
		Write(buf)
	}
}
