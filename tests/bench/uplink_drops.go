package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"os/exec"
	"slices"
	"strconv"
	"strings"
)

// uplinkCounters are the drop counters along the uplink path: the
// daemon's (the NIC's and the uplink's, by reason) and the kernel's that
// a run can hit: the TUN's queue towards the daemon (tx_dropped of
// mvirt0) and the outside UDP socket's receive buffer (RcvbufErrors).
type uplinkCounters struct {
	daemon       map[string]uint64
	tunTxDropped uint64
	rcvbufErrors uint64
}

// readUplinkCounters reads them for the NIC with id nicID.
func readUplinkCounters(o *ourDaemon, nets uplinkNets, nicID string) (uplinkCounters, error) {
	c := uplinkCounters{daemon: map[string]uint64{}}
	nic, err := o.dropCounts(nicID)
	if err != nil {
		return c, err
	}
	up, err := o.uplinkDrops()
	if err != nil {
		return c, err
	}
	for k, v := range nic {
		c.daemon["nic_"+k] += v
	}
	for k, v := range up {
		c.daemon["uplink_"+k] += v
	}
	out, err := exec.Command("ip", "netns", "exec", nets.host, "cat", "/sys/class/net/mvirt0/statistics/tx_dropped").Output()
	if err != nil {
		return c, fmt.Errorf("bench: mvirt0 tx_dropped: %w", err)
	}
	if c.tunTxDropped, err = strconv.ParseUint(strings.TrimSpace(string(out)), 10, 64); err != nil {
		return c, fmt.Errorf("bench: mvirt0 tx_dropped: %w", err)
	}
	out, err = exec.Command("ip", "netns", "exec", nets.outside, "cat", "/proc/net/snmp").Output()
	if err != nil {
		return c, fmt.Errorf("bench: outside /proc/net/snmp: %w", err)
	}
	c.rcvbufErrors, err = snmpUDP(out, "RcvbufErrors")
	return c, err
}

// snmpUDP returns the field of the Udp lines of /proc/net/snmp.
func snmpUDP(snmp []byte, field string) (uint64, error) {
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(snmp))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		if i := slices.Index(names, field); i > 0 && i < len(f) {
			return strconv.ParseUint(f[i], 10, 64)
		}
	}
	return 0, fmt.Errorf("bench: no Udp %s in /proc/net/snmp", field)
}

// dropNote says where the frames between c0 and c1 were dropped.
func dropNote(c0, c1 uplinkCounters) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(c1.daemon)) {
		if d := c1.daemon[k] - c0.daemon[k]; d > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", k, d))
		}
	}
	parts = append(parts, fmt.Sprintf("tun_tx_dropped=%d", c1.tunTxDropped-c0.tunTxDropped),
		fmt.Sprintf("udp_rcvbuf_errors=%d", c1.rcvbufErrors-c0.rcvbufErrors))
	return strings.Join(parts, " ")
}
