// Package daemon runs the real mvirt-net binary for tests: it builds the
// binaries once per test process, starts the daemon on fresh or given
// directories and free loopback ports, waits until its health service says
// SERVING, and stops it with SIGTERM or SIGKILL.
//
// Build, Launch and NewTempDirs return errors and need no testing.TB, for
// a TestMain that shares one daemon; Binaries, Start, TryStart and NewDirs
// are the same on top of them for a single test, failing and cleaning up
// through its testing.TB.
package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"mvirt-net/rpc/netpb"
)

const (
	// startTimeout is how long a started daemon may take to serve.
	startTimeout = 30 * time.Second
	// stopTimeout is how long a daemon may take to exit after SIGTERM.
	stopTimeout = 30 * time.Second
)

var (
	buildMu  sync.Mutex
	built    bool
	binDir   string
	buildErr error
)

// RaceDetector says whether Build builds with -race, as tests want;
// benchmarks clear it before the first Build.
var RaceDetector = true

// Build builds cmd/mvirt-net and cmd/mvirt (with the race detector unless
// RaceDetector is cleared) once per process and returns the folder
// holding them. Later calls return the result of the first until
// RemoveBinaries.
func Build() (string, error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	if !built {
		binDir, buildErr = build()
		built = true
	}
	return binDir, buildErr
}

// RemoveBinaries deletes the folder Build made, if any; a later Build
// builds again. Call it when no daemon started from it runs any more, as
// at the end of a TestMain.
func RemoveBinaries() error {
	buildMu.Lock()
	defer buildMu.Unlock()
	dir := binDir
	built, binDir, buildErr = false, "", nil
	if dir == "" {
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove binary dir: %w", err)
	}
	return nil
}

// build runs go build of both binaries into a fresh temp folder.
func build() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "mvirt-net-bin-")
	if err != nil {
		return "", fmt.Errorf("create binary dir: %w", err)
	}
	args := []string{"build"}
	if RaceDetector {
		args = append(args, "-race")
	}
	args = append(args, "-o", dir+string(filepath.Separator), "./cmd/mvirt-net", "./cmd/mvirt")
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("go build in %s: %w\n%s", root, err, out)
	}
	return dir, nil
}

// Binaries is Build that fails the test if the build fails.
func Binaries(t testing.TB) string {
	t.Helper()
	dir, err := Build()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// Mvirt builds the binaries if not done yet and returns the path of the
// mvirt CLI built together with the daemon.
func Mvirt() (string, error) {
	dir, err := Build()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "mvirt"), nil
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out))), nil
}

// Daemon is one running mvirt-net process.
type Daemon struct {
	SocketDir   string
	MetadataDir string
	Netns       string
	Addr        string
	DebugAddr   string
	cmd         *exec.Cmd
	log         *LockedBuffer
	done        chan struct{}
	Conn        *grpc.ClientConn
	Client      netpb.NetServiceClient
}

// Dirs are where a daemon keeps its state; reuse them to restart one.
type Dirs struct {
	SocketDir   string
	MetadataDir string
	// Netns, if set, is a network namespace (see NewNetns) the daemon
	// runs in: everything it does to the kernel (its uplink, routes,
	// nftables) stays there. It then serves gRPC and debug HTTP on unix
	// sockets beside its directories, reachable from outside.
	Netns string
	// Wrap, if set, is a command the daemon runs under, such as setpriv
	// dropping a capability; the daemon's command line follows it.
	Wrap []string
}

// NewTempDirs returns fresh directories and a cleanup that removes them.
// They live under a short temp path: unix socket paths are limited to
// 107 bytes.
func NewTempDirs() (Dirs, func(), error) {
	d, err := os.MkdirTemp("", "mvn")
	if err != nil {
		return Dirs{}, nil, fmt.Errorf("create daemon dir: %w", err)
	}
	dirs := Dirs{SocketDir: filepath.Join(d, "s"), MetadataDir: filepath.Join(d, "data")}
	return dirs, func() { _ = os.RemoveAll(d) }, nil
}

// NewDirs is NewTempDirs that fails the test on error and removes the
// directories at cleanup.
func NewDirs(t testing.TB) Dirs {
	t.Helper()
	dirs, cleanup, err := NewTempDirs()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	return dirs
}

// Options choose how LaunchWith runs a daemon; the zero value is what
// Launch does.
type Options struct {
	// Listen and DebugListen replace the free loopback ports: host:port or
	// unix:/path.
	Listen, DebugListen string
	// Dial are the test client's gRPC dial options (default plaintext).
	Dial []grpc.DialOption
	// Wrap is a command the daemon runs under, e.g. setpriv and its
	// flags; the daemon's path and arguments follow it.
	Wrap []string
	// Args are extra daemon flags.
	Args []string
}

// Launch builds the binaries if not done yet, runs the daemon on dirs
// with extraArgs and waits until it serves. If it does not, the daemon is
// killed and the error carries its output. The caller must Stop or Kill a
// returned daemon.
func Launch(dirs Dirs, extraArgs ...string) (*Daemon, error) {
	return LaunchWith(dirs, Options{Args: extraArgs})
}

// LaunchWith is Launch with the endpoints, client credentials and wrapper
// command of o.
func LaunchWith(dirs Dirs, o Options) (*Daemon, error) {
	bin, err := Build()
	if err != nil {
		return nil, err
	}
	addr, debugAddr := o.Listen, o.DebugListen
	if addr == "" || debugAddr == "" {
		a, da, err := listenAddrs(dirs)
		if err != nil {
			return nil, err
		}
		if addr == "" {
			addr = a
		}
		if debugAddr == "" {
			debugAddr = da
		}
	}
	d := &Daemon{
		SocketDir: dirs.SocketDir, MetadataDir: dirs.MetadataDir, Netns: dirs.Netns,
		Addr: addr, DebugAddr: debugAddr, log: &LockedBuffer{}, done: make(chan struct{}),
	}
	args := append([]string{
		"--listen", d.Addr, "--debug-listen", d.DebugAddr,
		"--socket-dir", d.SocketDir, "--metadata-dir", d.MetadataDir, "--log-level", "debug",
	}, o.Args...)
	argv := append(append(append(slices.Clone(dirs.Wrap), o.Wrap...), filepath.Join(bin, "mvirt-net")), args...)
	if dirs.Netns != "" {
		argv = append([]string{"ip", "netns", "exec", dirs.Netns}, argv...)
	}
	d.cmd = exec.Command(argv[0], argv[1:]...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start mvirt-net: %w", err)
	}
	go func() { _ = d.cmd.Wait(); close(d.done) }()
	dial := o.Dial
	if dial == nil {
		dial = []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	}
	if err := d.waitServing(startTimeout, dial); err != nil {
		d.Kill()
		return nil, fmt.Errorf("%w\nmvirt-net log:\n%s", err, d.Log())
	}
	return d, nil
}

// Start runs the daemon on dirs and waits until it serves. The test fails
// if it does not; the daemon is killed at cleanup if still running.
func Start(t testing.TB, dirs Dirs, extraArgs ...string) *Daemon {
	t.Helper()
	d, err := TryStart(t, dirs, extraArgs...)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TryStart is Start that returns the error (with the daemon's output)
// instead of failing the test. The test still fails if the binaries
// cannot be built.
func TryStart(t testing.TB, dirs Dirs, extraArgs ...string) (*Daemon, error) {
	t.Helper()
	return TryStartWith(t, dirs, Options{Args: extraArgs})
}

// StartWith is Start with the options of LaunchWith.
func StartWith(t testing.TB, dirs Dirs, o Options) *Daemon {
	t.Helper()
	d, err := TryStartWith(t, dirs, o)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TryStartWith is TryStart with the options of LaunchWith.
func TryStartWith(t testing.TB, dirs Dirs, o Options) (*Daemon, error) {
	t.Helper()
	Binaries(t)
	d, err := LaunchWith(dirs, o)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		d.Kill()
		if t.Failed() {
			t.Logf("mvirt-net log:\n%s", d.Log())
		}
	})
	return d, nil
}

func (d *Daemon) waitServing(timeout time.Duration, dial []grpc.DialOption) error {
	conn, err := grpc.NewClient(d.Addr, dial...)
	if err != nil {
		return fmt.Errorf("grpc client for %s: %w", d.Addr, err)
	}
	d.Conn, d.Client = conn, netpb.NewNetServiceClient(conn)
	health := healthpb.NewHealthClient(conn)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-d.done:
			return fmt.Errorf("mvirt-net exited during start: %v", d.cmd.ProcessState)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		res, err := health.Check(ctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err == nil && res.Status == healthpb.HealthCheckResponse_SERVING {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("mvirt-net not serving on %s after %s", d.Addr, timeout)
}

// Dirs returns the daemon's directories, to start another on them.
func (d *Daemon) Dirs() Dirs {
	return Dirs{SocketDir: d.SocketDir, MetadataDir: d.MetadataDir, Netns: d.Netns}
}

// Stop sends SIGTERM and waits for the exit; it returns an error unless
// the daemon exits with status 0 within the stop timeout.
func (d *Daemon) Stop() error {
	d.closeConn()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("send SIGTERM to mvirt-net: %w", err)
	}
	select {
	case <-d.done:
	case <-time.After(stopTimeout):
		d.Kill()
		return fmt.Errorf("mvirt-net did not stop within %s of SIGTERM", stopTimeout)
	}
	if !d.cmd.ProcessState.Success() {
		return fmt.Errorf("mvirt-net exited with %v after SIGTERM", d.cmd.ProcessState)
	}
	return nil
}

// Kill sends SIGKILL and waits for the exit.
func (d *Daemon) Kill() {
	d.closeConn()
	_ = d.cmd.Process.Kill()
	<-d.done
}

// Pid is the daemon's process id.
func (d *Daemon) Pid() int { return d.cmd.Process.Pid }

// Exited is closed when the process has exited.
func (d *Daemon) Exited() <-chan struct{} { return d.done }

func (d *Daemon) closeConn() {
	if d.Conn != nil {
		_ = d.Conn.Close()
	}
}

// Log returns what the daemon printed so far.
func (d *Daemon) Log() string { return d.log.String() }

// freeAddr returns a loopback TCP address that nothing listened on a
// moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// LockedBuffer collects a process's output for reading while it runs.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// DebugGet fetches a path of the daemon's debug endpoint, or describes the
// error: it is for diagnostics in failing tests.
func (d *Daemon) DebugGet(path string) string {
	res, err := d.HTTPClient().Get(d.DebugURL(path))
	if err != nil {
		return err.Error()
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// OpenFds counts the daemon process's open file descriptors.
func (d *Daemon) OpenFds() (int, error) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", d.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("list daemon fds: %w", err)
	}
	return len(ents), nil
}

// DebugPost posts to a path of the daemon's debug endpoint and returns ""
// on success, else what went wrong.
func (d *Daemon) DebugPost(path string) string {
	res, err := d.HTTPClient().Post(d.DebugURL(path), "", nil)
	if err != nil {
		return err.Error()
	}
	defer res.Body.Close()
	if res.StatusCode/100 != 2 {
		b, _ := io.ReadAll(res.Body)
		return res.Status + ": " + string(b)
	}
	return ""
}

// listenAddrs picks the daemon's gRPC and debug addresses: free loopback
// ports, or unix sockets beside dirs for a daemon in a namespace.
func listenAddrs(dirs Dirs) (addr, debugAddr string, err error) {
	if dirs.Netns != "" {
		base := filepath.Dir(dirs.MetadataDir)
		return "unix:" + filepath.Join(base, "grpc.sock"), "unix:" + filepath.Join(base, "debug.sock"), nil
	}
	if addr, err = freeAddr(); err != nil {
		return "", "", err
	}
	if debugAddr, err = freeAddr(); err != nil {
		return "", "", err
	}
	return addr, debugAddr, nil
}

// DebugURL is the URL of path on the daemon's debug endpoint, for
// HTTPClient.
func (d *Daemon) DebugURL(path string) string {
	if strings.HasPrefix(d.DebugAddr, "unix:") {
		return "http://mvirt-net" + path
	}
	return "http://" + d.DebugAddr + path
}

// HTTPClient reaches the daemon's debug endpoint, on a unix socket too.
func (d *Daemon) HTTPClient() *http.Client {
	path, ok := strings.CutPrefix(d.DebugAddr, "unix:")
	if !ok {
		return http.DefaultClient
	}
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		},
	}}
}

// NewNetns creates a network namespace of its own (lo up) for a daemon and
// returns its name and a cleanup that deletes it.
func NewNetns() (string, func(), error) {
	name := fmt.Sprintf("mvd%d-%d", os.Getpid()%100000, netnsSeq.Add(1))
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return "", nil, fmt.Errorf("ip netns add %s: %w\n%s", name, err, out)
	}
	cleanup := func() { _ = exec.Command("ip", "netns", "del", name).Run() }
	if out, err := exec.Command("ip", "netns", "exec", name, "ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("lo up in %s: %w\n%s", name, err, out)
	}
	return name, cleanup, nil
}

var netnsSeq atomic.Int32

// Netns is NewNetns that fails the test on error and deletes the
// namespace at cleanup (also on failure).
func Netns(t testing.TB) string {
	t.Helper()
	name, cleanup, err := NewNetns()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	return name
}
