package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"time"

	"mvirt-net/actors"
	"mvirt-net/reactor"
	"mvirt-net/reactor/packet"
	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

// rpcTimeout bounds each gRPC call to the daemon.
const rpcTimeout = 20 * time.Second

// ourDaemon is the real mvirt-net binary, built without the race
// detector, on fresh temp directories.
type ourDaemon struct {
	d       *daemon.Daemon
	cleanup func()
	pid     int
}

// nicInfo is a NIC created through the API.
type nicInfo struct {
	ID     string
	Socket string
	endpoint
}

// startDaemon builds and starts the daemon, with extra flags, and finds
// its pid.
func startDaemon(extra []string) (*ourDaemon, error) { return startDaemonIn("", extra) }

// startDaemonIn is startDaemon in network namespace ns ("" for none).
func startDaemonIn(ns string, extra []string) (*ourDaemon, error) {
	daemon.RaceDetector = false
	dirs, cleanup, err := daemon.NewTempDirs()
	if err != nil {
		return nil, err
	}
	dirs.Netns = ns
	d, err := daemon.Launch(dirs, append([]string{"--log-level", "info", "--debug-pprof"}, extra...)...)
	if err != nil {
		cleanup()
		return nil, err
	}
	o := &ourDaemon{d: d, cleanup: cleanup}
	if o.pid, err = findPid("--socket-dir\x00" + dirs.SocketDir + "\x00"); err != nil {
		o.stop()
		return nil, err
	}
	return o, nil
}

// stop stops the daemon and removes its directories and binaries.
func (o *ourDaemon) stop() error {
	err := o.d.Stop()
	o.cleanup()
	if rerr := daemon.RemoveBinaries(); err == nil {
		err = rerr
	}
	return err
}

// cpu returns the daemon's CPU time so far.
func (o *ourDaemon) cpu() (time.Duration, error) { return processCPU(o.pid) }

// createNetwork creates an IPv4 network on subnet with n NICs.
func (o *ourDaemon) createNetwork(name, subnet string, n int) ([]nicInfo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), rpcTimeout)
	defer cancel()
	netw, err := o.d.Client.CreateNetwork(ctx, &netpb.CreateNetworkRequest{Name: name, Ipv4Enabled: true, Ipv4Subnet: subnet})
	if err != nil {
		return nil, fmt.Errorf("bench: create network %s: %w", name, err)
	}
	nics := make([]nicInfo, 0, n)
	for range n {
		nic, err := o.d.Client.CreateNic(ctx, &netpb.CreateNicRequest{NetworkId: netw.Id})
		if err != nil {
			return nil, fmt.Errorf("bench: create nic in %s: %w", name, err)
		}
		hw, err := net.ParseMAC(nic.MacAddress)
		if err != nil {
			return nil, fmt.Errorf("bench: nic %s mac: %w", nic.Id, err)
		}
		ip, err := netip.ParseAddr(nic.Ipv4Address)
		if err != nil {
			return nil, fmt.Errorf("bench: nic %s address: %w", nic.Id, err)
		}
		nics = append(nics, nicInfo{ID: nic.Id, Socket: nic.SocketPath, endpoint: endpoint{MAC: packet.MAC(hw), IP: ip}})
	}
	return nics, nil
}

// dropCounts returns the drop counters of the NICs with the given ids,
// summed by reason, from /debug/actors.
func (o *ourDaemon) dropCounts(ids ...string) (map[string]uint64, error) {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	return o.drops(func(a *actors.ActorInfo) bool { return a.Kind == actors.KindNic && want[a.NicID] })
}

// uplinkDrops returns the uplink's drop counters by reason.
func (o *ourDaemon) uplinkDrops() (map[string]uint64, error) {
	return o.drops(func(a *actors.ActorInfo) bool { return a.Kind == actors.KindUplink })
}

// drops sums the drop counters by reason of the actors of /debug/actors
// that match.
func (o *ourDaemon) drops(match func(*actors.ActorInfo) bool) (map[string]uint64, error) {
	res, err := o.d.HTTPClient().Get(o.d.DebugURL("/debug/actors"))
	if err != nil {
		return nil, fmt.Errorf("bench: debug actors: %w", err)
	}
	defer res.Body.Close()
	var root actors.ActorInfo
	if err := json.NewDecoder(res.Body).Decode(&root); err != nil {
		return nil, fmt.Errorf("bench: decode debug actors: %w", err)
	}
	sum := map[string]uint64{}
	var walk func(*actors.ActorInfo)
	walk = func(a *actors.ActorInfo) {
		if a.Stats != nil && match(a) {
			addDrops(sum, a.Stats)
		}
		for _, c := range a.Children {
			walk(c)
		}
	}
	walk(&root)
	return sum, nil
}

func addDrops(sum map[string]uint64, s *reactor.StatsSnapshot) {
	for k, v := range s.Drops {
		sum[k] += v
	}
}

// profile fetches a CPU profile of the daemon over the next d and writes
// it to path.
func (o *ourDaemon) profile(path string, d time.Duration) error {
	res, err := o.d.HTTPClient().Get(o.d.DebugURL(fmt.Sprintf("/debug/pprof/profile?seconds=%d", int(d.Seconds()))))
	if err != nil {
		return fmt.Errorf("bench: fetch daemon profile: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("bench: fetch daemon profile: %s", res.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("bench: create profile: %w", err)
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		_ = f.Close()
		return fmt.Errorf("bench: write profile: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("bench: write profile: %w", err)
	}
	return nil
}
