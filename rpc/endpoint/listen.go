package endpoint

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// unixPrefix marks a listen address as a unix socket path.
const unixPrefix = "unix:"

// SocketMode is the permission of a control socket: its owner and group
// may connect, nobody else.
const SocketMode = 0o660

// Address is a parsed listen address: a TCP host:port or a unix socket
// path.
type Address struct {
	// Path is the unix socket's absolute path; empty for TCP.
	Path string
	// HostPort is the TCP address; empty for a unix socket.
	HostPort string
}

// ParseAddress parses "unix:/path" or "host:port".
func ParseAddress(s string) (Address, error) {
	if p, ok := strings.CutPrefix(s, unixPrefix); ok {
		if !filepath.IsAbs(p) {
			return Address{}, fmt.Errorf("unix socket path %q must be absolute", p)
		}
		return Address{Path: filepath.Clean(p)}, nil
	}
	if _, _, err := net.SplitHostPort(s); err != nil {
		return Address{}, fmt.Errorf("want host:port or unix:/path: %w", err)
	}
	return Address{HostPort: s}, nil
}

// IsUnix says whether the address is a unix socket.
func (a Address) IsUnix() bool { return a.Path != "" }

// IsLoopback says whether only this host can reach the address: a unix
// socket, or a TCP address on localhost or a loopback IP. An empty host
// (every interface) is not loopback.
func (a Address) IsLoopback() bool {
	if a.IsUnix() {
		return true
	}
	host, _, _ := net.SplitHostPort(a.HostPort)
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// String gives the address back in its command-line form.
func (a Address) String() string {
	if a.IsUnix() {
		return unixPrefix + a.Path
	}
	return a.HostPort
}

// Listen opens the address. A unix socket gets SocketMode and, when gid is
// not -1, that group; it appears at its path only once both are set (it is
// bound under a temporary name and renamed into place), and a stale socket
// left at the path by an earlier run is replaced. Any other kind of file
// at the path is an error.
func Listen(a Address, gid int) (net.Listener, error) {
	if !a.IsUnix() {
		l, err := net.Listen("tcp", a.HostPort)
		if err != nil {
			return nil, fmt.Errorf("listen on %s: %w", a, err)
		}
		return l, nil
	}
	if err := removeStale(a.Path); err != nil {
		return nil, err
	}
	tmp := fmt.Sprintf("%s.%d.tmp", a.Path, os.Getpid())
	_ = os.Remove(tmp)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", a, err)
	}
	// The socket file is removed by Close under its final name, not by
	// the listener, which only knows the temporary one.
	l.SetUnlinkOnClose(false)
	if err := place(tmp, a.Path, gid); err != nil {
		_ = l.Close()
		_ = os.Remove(tmp)
		return nil, fmt.Errorf("listen on %s: %w", a, err)
	}
	return &unixListener{UnixListener: l, path: a.Path}, nil
}

// place sets the mode and group of the socket at tmp and renames it to
// path.
func place(tmp, path string, gid int) error {
	if err := os.Chmod(tmp, SocketMode); err != nil {
		return fmt.Errorf("chmod socket: %w", err)
	}
	if gid != -1 {
		if err := os.Lchown(tmp, -1, gid); err != nil {
			return fmt.Errorf("set socket group %d: %w", gid, err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("move socket into place: %w", err)
	}
	return nil
}

// removeStale removes a socket file at path; any other file is an error.
func removeStale(path string) error {
	st, err := os.Lstat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("stat %s: %w", path, err)
	case st.Mode()&os.ModeSocket == 0:
		return fmt.Errorf("%s exists and is not a socket: %w", path, os.ErrExist)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove stale socket %s: %w", path, err)
	}
	return nil
}

// unixListener removes its socket file when closed.
type unixListener struct {
	*net.UnixListener
	path string
}

// Close stops listening and removes the socket file.
func (l *unixListener) Close() error {
	err := l.UnixListener.Close()
	if rmErr := os.Remove(l.path); rmErr != nil && !errors.Is(rmErr, os.ErrNotExist) && err == nil {
		err = fmt.Errorf("remove socket %s: %w", l.path, rmErr)
	}
	return err
}
