package cli_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

const (
	startTimeout = 30 * time.Second
	stopTimeout  = 15 * time.Second
)

// daemon is a running mvirt-net started for the tests.
type daemon struct {
	addr    string
	sockDir string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// buildBinaries builds mvirt and mvirt-net of this module into dir.
func buildBinaries(dir string) error {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("find the module root: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	build := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "./cmd/mvirt", "./cmd/mvirt-net")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build in %s: %w\n%s", root, err, out)
	}
	return nil
}

// freeAddr returns a loopback TCP address that nothing listened on a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startDaemon starts the mvirt-net binary in bin with its state under dir and
// waits until its gRPC health service answers SERVING.
func startDaemon(bin, dir string) (*daemon, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	d := &daemon{
		addr:    addr,
		sockDir: filepath.Join(dir, "sock"),
		logPath: filepath.Join(dir, "mvirt-net.log"),
		exited:  make(chan struct{}),
	}
	logFile, err := os.Create(d.logPath)
	if err != nil {
		return nil, fmt.Errorf("create daemon log: %w", err)
	}
	defer logFile.Close()
	d.cmd = exec.Command(filepath.Join(bin, "mvirt-net"),
		"--listen", addr,
		"--socket-dir", d.sockDir,
		"--metadata-dir", filepath.Join(dir, "data"),
		"--debug-listen", "127.0.0.1:0")
	d.cmd.Stdout, d.cmd.Stderr = logFile, logFile
	if err := d.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start mvirt-net: %w", err)
	}
	go func() {
		d.waitErr = d.cmd.Wait()
		close(d.exited)
	}()
	if err := d.waitServing(); err != nil {
		if killErr := d.cmd.Process.Kill(); killErr != nil && !errors.Is(killErr, os.ErrProcessDone) {
			err = errors.Join(err, fmt.Errorf("kill mvirt-net: %w", killErr))
		}
		<-d.exited
		return nil, fmt.Errorf("%w\n%s", err, d.log())
	}
	return d, nil
}

// waitServing polls the health service until it answers SERVING, the
// daemon exits or startTimeout passes.
func (d *daemon) waitServing() error {
	conn, err := grpc.NewClient(d.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("connect to %s: %w", d.addr, err)
	}
	defer conn.Close()
	health := healthpb.NewHealthClient(conn)
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{})
		cancel()
		if err == nil && resp.GetStatus() == healthpb.HealthCheckResponse_SERVING {
			return nil
		}
		select {
		case <-d.exited:
			return fmt.Errorf("mvirt-net exited before serving: %v", d.waitErr)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("mvirt-net not SERVING on %s after %s (last answer %v, %v)", d.addr, startTimeout, resp.GetStatus(), err)
		}
	}
}

// stop sends SIGTERM and expects the daemon to exit cleanly in stopTimeout.
func (d *daemon) stop() error {
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("send SIGTERM to mvirt-net: %w", err)
	}
	select {
	case <-d.exited:
	case <-time.After(stopTimeout):
		if err := d.cmd.Process.Kill(); err != nil {
			return fmt.Errorf("kill mvirt-net after SIGTERM was ignored: %w", err)
		}
		<-d.exited
		return fmt.Errorf("mvirt-net did not exit within %s of SIGTERM", stopTimeout)
	}
	if d.waitErr != nil {
		return fmt.Errorf("mvirt-net exited with %w after SIGTERM", d.waitErr)
	}
	return nil
}

// log returns what the daemon wrote to stdout and stderr.
func (d *daemon) log() string {
	b, err := os.ReadFile(d.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read the daemon's log: %v)", err)
	}
	return "mvirt-net log:\n" + string(b)
}
