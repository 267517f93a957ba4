package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
)

// unixPrefix marks a listen address that is a unix socket path.
const unixPrefix = "unix:"

// listen opens addr: host:port over TCP, or unix:PATH, replacing a stale
// socket file a crash left at PATH.
func listen(addr string) (net.Listener, error) {
	if path, ok := strings.CutPrefix(addr, unixPrefix); ok {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("remove stale socket %s: %w", path, err)
		}
		return net.Listen("unix", path)
	}
	return net.Listen("tcp", addr)
}

// checkListen validates a listen address of the flag named flag.
func checkListen(flag, addr string) error {
	if path, ok := strings.CutPrefix(addr, unixPrefix); ok {
		if path == "" || len(path) > maxSocketPath {
			return fmt.Errorf("--%s %q: want unix:PATH with a path of 1 to %d bytes", flag, addr, maxSocketPath)
		}
		return nil
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("--%s %q: %w", flag, addr, err)
	}
	return nil
}
