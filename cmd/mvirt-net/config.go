package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
)

// Config is everything the daemon is told on its command line.
type Config struct {
	Listen      string
	SocketDir   string
	MetadataDir string
	DebugListen string
	LogLevel    string
}

// parseFlags fills a Config from args (without the program name).
func parseFlags(args []string, stderr io.Writer) (*Config, error) {
	fs := flag.NewFlagSet("mvirt-net", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `mvirt-net: the virtual network daemon of mvirt.

It serves one vhost-user socket per vNIC and is every VM's gateway
(169.254.0.1 / fe80::1), DHCP server and router. It is driven over gRPC
(mvirt.net.NetService) by mvirt-cli and the mvirt CLI.

Usage: mvirt-net [flags]

Flags:
`)
		fs.PrintDefaults()
	}
	c := &Config{}
	fs.StringVar(&c.Listen, "listen", "[::1]:50054", "gRPC listen address (host:port)")
	fs.StringVar(&c.SocketDir, "socket-dir", "/run/mvirt/net", "directory of the vNICs' vhost-user sockets (created if missing)")
	fs.StringVar(&c.MetadataDir, "metadata-dir", "/var/lib/mvirt/net", "directory of the Badger metadata store (created if missing)")
	fs.StringVar(&c.DebugListen, "debug-listen", "127.0.0.1:50055", "debug HTTP address for /debug/actors, /metrics and /debug/pprof/ (empty disables)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return c, nil
}

// Validate checks the configuration before anything is opened.
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("--listen %q: %w", c.Listen, err))
	}
	if c.DebugListen != "" {
		if _, _, err := net.SplitHostPort(c.DebugListen); err != nil {
			errs = append(errs, fmt.Errorf("--debug-listen %q: %w", c.DebugListen, err))
		}
	}
	if c.SocketDir == "" {
		errs = append(errs, errors.New("--socket-dir must not be empty"))
	}
	if c.MetadataDir == "" {
		errs = append(errs, errors.New("--metadata-dir must not be empty"))
	}
	if _, err := c.level(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (c *Config) level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(c.LogLevel))); err != nil {
		return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}
