// Package daemon runs the real mvirt-net binary for tests: it builds the
// binaries once per test process, starts the daemon on fresh or given
// directories and free loopback ports, waits until its health service says
// SERVING, and stops it with SIGTERM or SIGKILL.
package daemon

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"mvirt-net/rpc/netpb"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// Binaries builds cmd/mvirt-net and cmd/mvirt once and returns the folder
// holding them.
func Binaries(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			buildErr = err
			return
		}
		binDir, err = os.MkdirTemp("", "mvirt-net-bin-")
		if err != nil {
			buildErr = fmt.Errorf("temp dir: %w", err)
			return
		}
		cmd := exec.Command("go", "build", "-race", "-o", binDir+"/", "./cmd/mvirt-net", "./cmd/mvirt")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir
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
	t           testing.TB
	SocketDir   string
	MetadataDir string
	Addr        string
	DebugAddr   string
	cmd         *exec.Cmd
	log         *lockedBuffer
	done        chan struct{}
	Conn        *grpc.ClientConn
	Client      netpb.NetServiceClient
}

// Dirs are where a daemon keeps its state; reuse them to restart one.
type Dirs struct {
	SocketDir   string
	MetadataDir string
}

// NewDirs returns fresh directories, removed at cleanup. They live under
// a short temp path: unix socket paths are limited to 107 bytes.
func NewDirs(t testing.TB) Dirs {
	d, err := os.MkdirTemp("", "mvn")
	if err != nil {
		t.Fatalf("temp dir: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(d) })
	return Dirs{SocketDir: filepath.Join(d, "s"), MetadataDir: filepath.Join(d, "data")}
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
// instead of failing the test.
func TryStart(t testing.TB, dirs Dirs, extraArgs ...string) (*Daemon, error) {
	t.Helper()
	bin := Binaries(t)
	d := &Daemon{
		t: t, SocketDir: dirs.SocketDir, MetadataDir: dirs.MetadataDir,
		Addr: freeAddr(t), DebugAddr: freeAddr(t), log: &lockedBuffer{}, done: make(chan struct{}),
	}
	args := append([]string{
		"--listen", d.Addr, "--debug-listen", d.DebugAddr,
		"--socket-dir", d.SocketDir, "--metadata-dir", d.MetadataDir, "--log-level", "debug",
	}, extraArgs...)
	d.cmd = exec.Command(filepath.Join(bin, "mvirt-net"), args...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start mvirt-net: %w", err)
	}
	go func() { _ = d.cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		d.Kill()
		if t.Failed() {
			t.Logf("mvirt-net log:\n%s", d.Log())
		}
	})
	if err := d.waitServing(30 * time.Second); err != nil {
		d.Kill()
		return nil, fmt.Errorf("%w\nmvirt-net log:\n%s", err, d.Log())
	}
	return d, nil
}

func (d *Daemon) waitServing(timeout time.Duration) error {
	conn, err := grpc.NewClient(d.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("grpc client: %w", err)
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
	return fmt.Errorf("mvirt-net not serving after %s", timeout)
}

// Dirs returns the daemon's directories, to start another on them.
func (d *Daemon) Dirs() Dirs { return Dirs{SocketDir: d.SocketDir, MetadataDir: d.MetadataDir} }

// Stop sends SIGTERM and waits for the exit; it returns the exit error.
func (d *Daemon) Stop() error {
	d.closeConn()
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(30 * time.Second):
		d.Kill()
		return fmt.Errorf("mvirt-net did not stop within 30s of SIGTERM")
	}
	if !d.cmd.ProcessState.Success() {
		return fmt.Errorf("mvirt-net exited with %v", d.cmd.ProcessState)
	}
	return nil
}

// Kill sends SIGKILL and waits for the exit.
func (d *Daemon) Kill() {
	d.closeConn()
	_ = d.cmd.Process.Kill()
	<-d.done
}

// Exited is closed when the process has exited.
func (d *Daemon) Exited() <-chan struct{} { return d.done }

func (d *Daemon) closeConn() {
	if d.Conn != nil {
		_ = d.Conn.Close()
	}
}

// Log returns what the daemon printed so far.
func (d *Daemon) Log() string { return d.log.String() }

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
