package main

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"mvirt-net/rpc/endpoint"
)

// validateAccess checks the listen addresses, groups and TLS files, and
// keeps what they parse to.
func (c *Config) validateAccess() []error {
	var errs []error
	var err error
	if c.listen, err = endpoint.ParseAddress(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("--listen %q: %w", c.Listen, err))
	}
	if c.DebugListen != "" {
		if c.debugListen, err = endpoint.ParseAddress(c.DebugListen); err != nil {
			errs = append(errs, fmt.Errorf("--debug-listen %q: %w", c.DebugListen, err))
		}
	}
	if c.apiGID, err = endpoint.LookupGroup(c.APIGroup); err != nil {
		errs = append(errs, fmt.Errorf("--api-group: %w", err))
	}
	if c.socketGID, err = endpoint.LookupGroup(c.SocketGroup); err != nil {
		errs = append(errs, fmt.Errorf("--socket-group: %w", err))
	}
	given := 0
	for _, f := range []string{c.TLSCert, c.TLSKey, c.TLSClientCA} {
		if f != "" {
			given++
		}
	}
	switch {
	case given != 0 && given != 3:
		errs = append(errs, errors.New("--tls-cert, --tls-key and --tls-client-ca go together: TLS here always checks client certificates"))
	case given == 3 && c.listen.IsUnix():
		errs = append(errs, errors.New("--tls-* apply to a TCP --listen; a unix socket is guarded by its group (--api-group)"))
	}
	return errs
}

// TLS says whether the gRPC listener is served over TLS.
func (c *Config) TLS() bool { return c.TLSCert != "" }

// accessWarnings are the loud warnings the configuration deserves: a
// control endpoint that other hosts can reach without client
// certificates.
func (c *Config) accessWarnings() []string {
	var w []string
	if !c.listen.IsLoopback() && !c.TLS() {
		w = append(w, fmt.Sprintf("--listen %s is reachable from other hosts WITHOUT TLS: anyone who can connect may create and delete every VM's NIC; use --tls-cert/--tls-key/--tls-client-ca or a unix: socket", c.Listen))
	}
	if c.DebugListen != "" && !c.debugListen.IsLoopback() {
		w = append(w, fmt.Sprintf("--debug-listen %s is reachable from other hosts without authentication", c.DebugListen))
	}
	return w
}

// socketDirMode lets the socket group look up the vhost-user sockets and
// nobody else see them.
const socketDirMode = 0o750

// prepareSocketDir creates the vhost-user socket directory if missing and
// gives it socketDirMode and, unless gid is -1, that group.
func prepareSocketDir(dir string, gid int) error {
	if err := os.MkdirAll(dir, socketDirMode); err != nil {
		return fmt.Errorf("create socket dir: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("socket dir: %w", err)
	}
	// Only what differs is changed: a directory that is already right may
	// be on a file system the daemon cannot write to (mounted read only).
	if st, ok := fi.Sys().(*syscall.Stat_t); gid != -1 && (!ok || int(st.Gid) != gid) {
		if err := os.Chown(dir, -1, gid); err != nil {
			return fmt.Errorf("socket dir %s: set group %d: %w", dir, gid, err)
		}
	}
	if fi.Mode().Perm() != socketDirMode {
		if err := os.Chmod(dir, socketDirMode); err != nil {
			return fmt.Errorf("socket dir %s: %w", dir, err)
		}
	}
	return nil
}
