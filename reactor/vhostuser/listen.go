package vhostuser

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// SocketMode is the permission of a listening socket: the daemon's user
// and group may connect.
const SocketMode = 0o660

// listenBacklog is the listen queue: one VMM connects to one NIC, a
// reconnecting one may briefly overlap with its previous connection.
const listenBacklog = 4

// Listener is a listening vhost-user socket whose descriptor a reactor
// polls; Accept never blocks.
type Listener struct {
	fd   int
	path string
	dev  uint64
	ino  uint64
}

// Listen creates the unix stream socket a VMM connects to at path, with
// SocketMode permissions and, unless gid is -1, that group (the VMMs'). A
// socket file left at path by an earlier run is removed first; any other
// kind of file there is an error.
func Listen(path string, gid int) (*Listener, error) {
	var st unix.Stat_t
	switch err := unix.Lstat(path, &st); {
	case err == nil && st.Mode&unix.S_IFMT == unix.S_IFSOCK:
		if err := unix.Unlink(path); err != nil && !errors.Is(err, unix.ENOENT) {
			return nil, fmt.Errorf("vhost-user listen: remove stale socket %s: %w", path, err)
		}
	case err == nil:
		return nil, fmt.Errorf("vhost-user listen: %s exists and is not a socket: %w", path, os.ErrExist)
	case !errors.Is(err, unix.ENOENT):
		return nil, fmt.Errorf("vhost-user listen: stat %s: %w", path, err)
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("vhost-user listen: socket: %w", err)
	}
	l := &Listener{fd: fd, path: path}
	if err := l.bind(gid); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("vhost-user listen on %s: %w", path, err)
	}
	return l, nil
}

func (l *Listener) bind(gid int) error {
	if err := unix.Bind(l.fd, &unix.SockaddrUnix{Name: l.path}); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	var st unix.Stat_t
	err := unix.Lstat(l.path, &st)
	if err == nil {
		l.dev, l.ino = st.Dev, st.Ino
		err = unix.Chmod(l.path, SocketMode)
	}
	if err == nil && gid != -1 {
		err = unix.Lchown(l.path, -1, gid)
	}
	if err == nil {
		err = unix.Listen(l.fd, listenBacklog)
	}
	if err != nil {
		_ = unix.Unlink(l.path)
		return err
	}
	return nil
}

// Fd returns the listening descriptor, non-blocking, for the reactor to
// poll for readability.
func (l *Listener) Fd() int { return l.fd }

// Path returns the socket's path.
func (l *Listener) Path() string { return l.path }

// Accept returns a waiting connection as a non-blocking, close-on-exec
// descriptor the caller owns, or ErrWouldBlock when none waits.
func (l *Listener) Accept() (int, error) {
	for {
		fd, _, err := unix.Accept4(l.fd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		switch {
		case err == nil:
			return fd, nil
		case errors.Is(err, unix.EINTR), errors.Is(err, unix.ECONNABORTED):
			continue
		case errors.Is(err, unix.EAGAIN):
			return -1, ErrWouldBlock
		}
		return -1, fmt.Errorf("vhost-user accept on %s: %w", l.path, err)
	}
}

// Close closes the socket and removes its file, unless another socket has
// replaced it at the same path since.
func (l *Listener) Close() error {
	var st unix.Stat_t
	if err := unix.Lstat(l.path, &st); err == nil && st.Dev == l.dev && st.Ino == l.ino {
		_ = unix.Unlink(l.path)
	}
	if err := unix.Close(l.fd); err != nil {
		return fmt.Errorf("vhost-user listener %s: close: %w", l.path, err)
	}
	return nil
}
