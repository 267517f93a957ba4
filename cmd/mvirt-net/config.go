package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"mvirt-net/reactor"
	"mvirt-net/reactor/conntrack"
	"mvirt-net/reactor/hugepage"
	"mvirt-net/rpc/endpoint"
)

// Config is everything the daemon is told on its command line.
type Config struct {
	Listen      string
	SocketDir   string
	MetadataDir string
	DebugListen string
	LogLevel    string
	// ReactorCPUs pins the reactors' threads, e.g. "2-3" or "1,3".
	ReactorCPUs string
	cpus        []int
	// BusyPoll is how long a reactor polls its rings after its last frame
	// before it sleeps again.
	BusyPoll time.Duration
	// BusyPollBatch is how many frames a wake-up must bring to start
	// polling.
	BusyPollBatch int
	// FaultInjection enables test-only fault hooks on the debug endpoint.
	FaultInjection bool
	// UplinkName is the TUN interface of public networks' uplink.
	UplinkName string
	// UplinkMTU is its MTU.
	UplinkMTU int
	// UplinkMasquerade is the outside interface to masquerade public
	// networks' IPv4 (and with UplinkMasquerade6 IPv6) behind; "" routes.
	UplinkMasquerade  string
	UplinkMasquerade6 bool
	// UplinkForwarding turns the host's forwarding sysctls on.
	UplinkForwarding bool
	// Offloads offers the vNICs' drivers checksum and segmentation
	// offloads (see reactor.Config.Offloads).
	Offloads bool
	// ConntrackSize is the number of connections each vNIC tracks for
	// its security groups.
	ConntrackSize int
	// Hugepages puts the vNICs' packet memory on huge pages.
	Hugepages hugepage.Mode
	// DebugPprof serves /debug/pprof/ on the debug endpoint.
	DebugPprof bool
	// APIGroup owns the unix sockets of --listen and --debug-listen;
	// SocketGroup owns the vhost-user sockets and their directory. Names
	// or numeric gids; empty keeps the daemon's group.
	APIGroup    string
	SocketGroup string
	// TLSCert, TLSKey and TLSClientCA turn on TLS with client
	// certificates for a TCP --listen.
	TLSCert     string
	TLSKey      string
	TLSClientCA string

	listen, debugListen endpoint.Address
	apiGID, socketGID   int
}

// hugepagesFlag is --hugepages: a mode, and on when given alone.
type hugepagesFlag struct{ m *hugepage.Mode }

func (f hugepagesFlag) String() string {
	if f.m == nil {
		return hugepage.Off.String()
	}
	return f.m.String()
}

func (f hugepagesFlag) Set(s string) error {
	m, err := hugepage.ParseMode(s)
	if err != nil {
		return err
	}
	*f.m = m
	return nil
}

// IsBoolFlag lets --hugepages stand alone, meaning on.
func (f hugepagesFlag) IsBoolFlag() bool { return true }

// parseFlags fills a Config from args (without the program name).
func parseFlags(args []string, stderr io.Writer) (*Config, error) {
	fs := flag.NewFlagSet("mvirt-net", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `mvirt-net: the virtual network daemon of mvirt.

It serves one vhost-user socket per vNIC and is every VM's gateway
(169.254.0.1 / fe80::1), DHCP server and router. It is driven over gRPC
(mvirt.net.NetService) by mvirt-cli and the mvirt CLI.

Public networks reach the host's kernel through one TUN interface
(--uplink-name, default mvirt0), opened while a public network exists
(needs /dev/net/tun and CAP_NET_ADMIN). The daemon routes every public
network's IPv4 subnet, IPv6 prefix and NICs' routed prefixes to it (kernel
routes of protocol 210, the only routes it touches), and the kernel routes
on. The host must forward (net.ipv4.ip_forward=1,
net.ipv6.conf.all.forwarding=1: the daemon warns if not, and sets them with
--uplink-forwarding), and its upstream router must route the public
subnets to it, unless --uplink-masquerade IFACE hides IPv4 (and with
--uplink-masquerade6 IPv6) behind IFACE's address.

Usage: mvirt-net [flags]

Flags:
`)
		fs.PrintDefaults()
	}
	c := &Config{}
	fs.StringVar(&c.Listen, "listen", "[::1]:50054", "gRPC listen address: host:port, or unix:/path for a unix socket (mode 0660, group --api-group)")
	fs.StringVar(&c.SocketDir, "socket-dir", "/run/mvirt/net", "directory of the vNICs' vhost-user sockets (created if missing)")
	fs.StringVar(&c.MetadataDir, "metadata-dir", "/var/lib/mvirt/net", "directory of the Badger metadata store (created if missing)")
	fs.StringVar(&c.DebugListen, "debug-listen", "127.0.0.1:50055", "debug HTTP address for /debug/actors and /metrics: host:port or unix:/path (empty disables)")
	fs.BoolVar(&c.DebugPprof, "debug-pprof", false, "also serve /debug/pprof/ on the debug endpoint")
	fs.StringVar(&c.APIGroup, "api-group", "", "group (name or gid) of the unix sockets of --listen and --debug-listen; its members may use the API (default: the daemon's group)")
	fs.StringVar(&c.SocketGroup, "socket-group", "", "group (name or gid) of the vhost-user sockets (0660) and --socket-dir (0750): the group the VMMs run as (default: the daemon's group)")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "PEM server certificate: serve a TCP --listen over TLS (needs --tls-key and --tls-client-ca)")
	fs.StringVar(&c.TLSKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.StringVar(&c.TLSClientCA, "tls-client-ca", "", "PEM CA certificates: only clients with a certificate signed by one of them may connect")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&c.ReactorCPUs, "reactor-cpus", "", "pin the vNIC reactors' threads to these CPUs, e.g. 2-3 or 1,3 (default: unpinned)")
	fs.DurationVar(&c.BusyPoll, "busy-poll", defaultBusyPoll, "how long a vNIC's reactor keeps polling its rings after its last frame before it sleeps (0 disables; idle NICs never poll)")
	fs.IntVar(&c.BusyPollBatch, "busy-poll-batch", reactor.DefaultBusyPollBatch, "frames one wake-up must bring for a reactor to start polling: a NIC with a trickle of traffic sleeps between frames; 1 polls after every frame (lowest latency, most CPU)")
	fs.BoolVar(&c.Offloads, "offloads", true, "offer the vNICs' drivers checksum offload and TCP/UDP segmentation offload (virtio-net CSUM, GUEST_CSUM, HOST/GUEST_TSO4/6, ECN, USO): a guest then sends and receives 64 KiB super-frames, which the daemon segments in software for peers that did not negotiate them; false offers none")
	fs.IntVar(&c.ConntrackSize, "conntrack-size", conntrack.DefaultSize, "connections each vNIC tracks for its security groups (a table of 64 bytes per entry, allocated when the vNIC first has a security group); a full table drops new connections")
	fs.Var(hugepagesFlag{&c.Hugepages}, "hugepages", "back the vNICs' packet memory (each inbox, one 2 MiB page per vNIC) with huge pages from /proc/sys/vm/nr_hugepages: off, on (or --hugepages alone: a short pool is a warning and falls back to normal pages) or required (a short pool stops the start and refuses new vNICs with RESOURCE_EXHAUSTED); give the value with =")
	fs.BoolVar(&c.FaultInjection, "fault-injection", false, "testing only: serve POST /debug/nics/{id}/panic and POST /debug/uplink/panic on the debug endpoint (they make a reactor panic)")
	fs.StringVar(&c.UplinkName, "uplink-name", reactor.DefaultUplinkName, "TUN interface through which public networks reach the host's kernel; it exists while a public network does, and the daemon routes each public network's subnets and routed prefixes to it (route protocol 210)")
	fs.IntVar(&c.UplinkMTU, "uplink-mtu", reactor.DefaultMTU, "MTU of the uplink TUN interface")
	fs.StringVar(&c.UplinkMasquerade, "uplink-masquerade", "", "masquerade IPv4 from public networks leaving through this host interface (nftables table mvirt_net); empty: routed, the upstream router must route the public subnets to this host")
	fs.BoolVar(&c.UplinkMasquerade6, "uplink-masquerade6", false, "with --uplink-masquerade, masquerade IPv6 too (otherwise IPv6 stays routed)")
	fs.BoolVar(&c.UplinkForwarding, "uplink-forwarding", false, "turn on net.ipv4.ip_forward and net.ipv6.conf.all.forwarding when a public network needs them (without it the daemon only warns)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return c, nil
}

// defaultBusyPoll keeps a loaded reactor polling across the short gaps
// between a guest's batches; maxBusyPoll bounds the CPU a NIC that just
// went quiet may spend.
const (
	defaultBusyPoll = 50 * time.Microsecond
	maxBusyPoll     = 10 * time.Millisecond
)

// Bounds of --conntrack-size: one bucket of the table at least, 64 MiB
// per vNIC at most.
const (
	minConntrack = 8
	maxConntrack = 1 << 20
)

// maxSocketPath is the longest unix socket path the kernel accepts
// (sun_path is 108 bytes with its terminating NUL).
const maxSocketPath = 107

// socketNameExample is the longest name a vNIC socket gets in --socket-dir.
const socketNameExample = "/00000000-0000-0000-0000-000000000000.sock"

// Validate checks the configuration before anything is opened, and makes
// the directories absolute: socket paths are handed to VMMs.
func (c *Config) Validate() error {
	var errs []error
	errs = append(errs, c.validateAccess()...)
	if c.SocketDir == "" {
		errs = append(errs, errors.New("--socket-dir must not be empty"))
	} else if abs, err := filepath.Abs(c.SocketDir); err != nil {
		errs = append(errs, fmt.Errorf("--socket-dir %q: %w", c.SocketDir, err))
	} else if c.SocketDir = abs; len(abs)+len(socketNameExample) > maxSocketPath {
		errs = append(errs, fmt.Errorf("--socket-dir %q is too long: a vNIC socket path (%s%s) must fit in %d bytes",
			abs, abs, socketNameExample, maxSocketPath))
	}
	if c.MetadataDir == "" {
		errs = append(errs, errors.New("--metadata-dir must not be empty"))
	} else if abs, err := filepath.Abs(c.MetadataDir); err == nil {
		c.MetadataDir = abs
	}
	if _, err := c.level(); err != nil {
		errs = append(errs, err)
	}
	if c.BusyPoll < 0 || c.BusyPoll > maxBusyPoll {
		errs = append(errs, fmt.Errorf("--busy-poll %s: want 0 to %s", c.BusyPoll, maxBusyPoll))
	}
	if c.BusyPollBatch < 1 {
		errs = append(errs, fmt.Errorf("--busy-poll-batch %d: want at least 1", c.BusyPollBatch))
	}
	if len(c.UplinkName) == 0 || len(c.UplinkName) > 15 || strings.ContainsAny(c.UplinkName, "/ \t\n:") {
		errs = append(errs, fmt.Errorf("--uplink-name %q: want an interface name of 1 to 15 characters", c.UplinkName))
	}
	if c.UplinkMTU < 1280 || c.UplinkMTU > 9216 {
		errs = append(errs, fmt.Errorf("--uplink-mtu %d: want 1280 to 9216", c.UplinkMTU))
	}
	if len(c.UplinkMasquerade) > 15 || strings.ContainsAny(c.UplinkMasquerade, "/ \t\n:") {
		errs = append(errs, fmt.Errorf("--uplink-masquerade %q: want an interface name of at most 15 characters", c.UplinkMasquerade))
	}
	if c.UplinkMasquerade6 && c.UplinkMasquerade == "" {
		errs = append(errs, errors.New("--uplink-masquerade6 needs --uplink-masquerade IFACE"))
	}
	if c.ConntrackSize < minConntrack || c.ConntrackSize > maxConntrack {
		errs = append(errs, fmt.Errorf("--conntrack-size %d: want %d to %d", c.ConntrackSize, minConntrack, maxConntrack))
	}
	cpus, err := parseCPUList(c.ReactorCPUs)
	if err != nil {
		errs = append(errs, fmt.Errorf("--reactor-cpus %q: %w", c.ReactorCPUs, err))
	}
	c.cpus = cpus
	return errors.Join(errs...)
}

func (c *Config) level() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(c.LogLevel))); err != nil {
		return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	return l, nil
}

// parseCPUList parses a Linux CPU list such as "0,2-3".
func parseCPUList(s string) ([]int, error) {
	var out []int
	if s == "" {
		return nil, nil
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("bad CPU %q", part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("bad CPU range %q", part)
			}
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
	}
	return out, nil
}
