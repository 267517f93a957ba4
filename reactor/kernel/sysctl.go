package kernel

import (
	"fmt"
	"os"
	"strings"
)

// Forwarding sysctls the uplink needs on: the kernel forwards nothing
// between the uplink and the host's other interfaces without them.
var forwardingSysctls = []string{"net/ipv4/ip_forward", "net/ipv6/conf/all/forwarding"}

// ForwardingOff lists the forwarding sysctls that are off, by their
// sysctl names (net.ipv4.ip_forward).
func ForwardingOff() ([]string, error) {
	var off []string
	for _, s := range forwardingSysctls {
		b, err := os.ReadFile("/proc/sys/" + s)
		if err != nil {
			return nil, fmt.Errorf("read sysctl %s: %w", sysctlName(s), err)
		}
		if strings.TrimSpace(string(b)) != "1" {
			off = append(off, sysctlName(s))
		}
	}
	return off, nil
}

// EnableForwarding turns every forwarding sysctl on.
func EnableForwarding() error {
	for _, s := range forwardingSysctls {
		if err := os.WriteFile("/proc/sys/"+s, []byte("1\n"), 0o644); err != nil {
			return fmt.Errorf("set sysctl %s=1: %w", sysctlName(s), err)
		}
	}
	return nil
}

func sysctlName(path string) string { return strings.ReplaceAll(path, "/", ".") }
