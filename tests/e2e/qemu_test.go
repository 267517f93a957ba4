package e2e_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"
)

// guestMemory is each guest's RAM, shared with the backend through memfd.
const guestMemory = "256M"

// vm is one QEMU process running the test guest, its serial console on
// QEMU's stdin and stdout.
type vm struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	console *console
	exited  chan struct{}
}

// qemuArgs is the QEMU command line for a guest on the vhost-user socket
// with MAC mac: TCG (KVM does not work on these machines), memfd memory
// the backend can map, a chardev that reconnects when the daemon comes
// back, and MSI-X off (QEMU 7.2 under TCG crashes with it once vhost-user
// starts). No option ROM: the kernel is booted directly. device holds
// extra virtio-net-pci properties ("" for QEMU's defaults, which offer
// the guest every offload the back-end offers).
func qemuArgs(socket, mac, cmdline, device string) []string {
	return []string{
		"-accel", "tcg", "-m", guestMemory, "-smp", "1",
		"-object", "memory-backend-memfd,id=mem,size=" + guestMemory + ",share=on",
		"-numa", "node,memdev=mem",
		"-kernel", guestImage.kernel, "-initrd", guestImage.initrd, "-append", cmdline,
		"-chardev", "socket,id=c0,path=" + socket + ",reconnect=1",
		"-netdev", "vhost-user,id=n0,chardev=c0",
		"-device", "virtio-net-pci,netdev=n0,mac=" + mac + ",vectors=0,romfile=" + device,
		"-nographic", "-nodefaults", "-serial", "stdio", "-no-reboot",
	}
}

// startVM starts QEMU with extra virtio-net-pci properties device; its
// output goes to the returned vm's console.
func startVM(socket, mac, cmdline, device string) (*vm, error) {
	cmd := exec.Command("qemu-system-x86_64", qemuArgs(socket, mac, cmdline, device)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("qemu stdin: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("qemu output pipe: %w", err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		_ = r.Close()
		_ = w.Close()
		return nil, fmt.Errorf("start qemu: %w", err)
	}
	_ = w.Close()
	v := &vm{cmd: cmd, stdin: stdin, console: newConsole(), exited: make(chan struct{})}
	go func() {
		v.console.collect(r)
		_ = r.Close()
	}()
	go func() {
		_ = cmd.Wait()
		close(v.exited)
	}()
	return v, nil
}

// tell writes a line to the guest's console, where its /init waits for
// the test's next step.
func (v *vm) tell(line string) error {
	if _, err := io.WriteString(v.stdin, line+"\n"); err != nil {
		return fmt.Errorf("write to guest console: %w", err)
	}
	return nil
}

// waitExit waits up to timeout for QEMU to exit and reports how it did.
func (v *vm) waitExit(timeout time.Duration) error {
	select {
	case <-v.exited:
	case <-time.After(timeout):
		return fmt.Errorf("qemu still running %s after the guest was told to power off", timeout)
	}
	if !v.cmd.ProcessState.Success() {
		return fmt.Errorf("qemu exited with %v", v.cmd.ProcessState)
	}
	return nil
}

// kill stops QEMU if it still runs and waits for it.
func (v *vm) kill() {
	if err := v.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return
	}
	<-v.exited
}
