//go:build !amd64

package prefetch

// Read does nothing on this CPU.
func Read(b []byte) {}

// Write does nothing on this CPU.
func Write(b []byte) {}
