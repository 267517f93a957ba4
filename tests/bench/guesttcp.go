package bench

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// The real-guest TCP run: guest a sends zeros to guest b over one TCP
// connection for guestTCPSeconds (busybox nc handing the socket to dd,
// 64 KiB writes and reads), b counts what arrived.
const (
	guestTCPSeconds = 10
	guestTCPPort    = 5201
	guestUpTimeout  = 3 * time.Minute
)

// guestTCPRun is one back-end's transfer, or why there is none.
type guestTCPRun struct {
	Who  string
	Mbps float64
	// Features are the virtio features guest a's driver negotiated (one
	// character per bit, bit 0 first).
	Features string
	Note     string
}

// RunGuestTCP boots two QEMU guests (TCG, the e2e tests' image) on one
// network of our daemon with offloads on, then on one with
// --offloads=false, then on two vhost ports of testpmd (tso=1, mac fwd,
// static addresses and a static gateway neighbour in the guests), runs
// the TCP transfer on each and prints a table and the BENCH guest_tcp
// line to w.
func RunGuestTCP(cfg Config, w io.Writer) error {
	img, err := buildGuestImage()
	if err != nil {
		return err
	}
	runs := []guestTCPRun{
		guestTCPOurs(img, "ours, offloads on", cfg.DaemonArgs),
		guestTCPOurs(img, "ours, --offloads=false", append(slices.Clone(cfg.DaemonArgs), "--offloads=false")),
		guestTCPDPDK(img, cfg.Testpmd),
	}
	var errs []error
	fmt.Fprintf(w, "\nreal guests: TCP from guest a to guest b for %d s, two QEMU TCG guests, busybox nc + dd\n", guestTCPSeconds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "back-end\tMbit/s\tguest a negotiated\t")
	for _, r := range runs {
		if r.Note != "" {
			errs = append(errs, fmt.Errorf("guest tcp %s: %s", r.Who, r.Note[:min(len(r.Note), 600)]))
			fmt.Fprintf(tw, "%s\t-\t%s\t\n", r.Who, firstLine(r.Note))
			continue
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t\n", r.Who, r.Mbps, offloadsOf(r.Features))
	}
	_ = tw.Flush()
	mbps := func(r guestTCPRun) string {
		if r.Note != "" {
			return "-"
		}
		return fmt.Sprintf("%.0f", r.Mbps)
	}
	rat := func(a, b guestTCPRun) string {
		if a.Note != "" || b.Note != "" || b.Mbps <= 0 {
			return "-"
		}
		return fmt.Sprintf("%.3f", a.Mbps/b.Mbps)
	}
	fmt.Fprintf(w, "BENCH guest_tcp ours_offload_mbps=%s ours_nooffload_mbps=%s dpdk_mbps=%s offload_ratio=%s dpdk_ratio=%s\n",
		mbps(runs[0]), mbps(runs[1]), mbps(runs[2]), rat(runs[0], runs[1]), rat(runs[0], runs[2]))
	return errors.Join(errs...)
}

// guestTCPOurs runs the transfer through a fresh daemon with args.
func guestTCPOurs(img guestImage, who string, args []string) guestTCPRun {
	o, err := startDaemon(args)
	if err != nil {
		return guestTCPRun{Who: who, Note: err.Error()}
	}
	defer func() { _ = o.stop() }()
	nics, err := o.createNetwork("guests", "10.0.0.0/24", 2)
	if err != nil {
		return guestTCPRun{Who: who, Note: err.Error()}
	}
	return guestPair(img, who, socketsOf(nics), endpointsOf(nics), "")
}

// guestTCPDPDK runs the transfer through a fresh testpmd, whose mac fwd
// delivers each guest's frames to the other's MAC.
func guestTCPDPDK(img guestImage, bin string) guestTCPRun {
	const who = "testpmd tso=1, mac fwd"
	b, err := startDPDKBackend(bin, ",tso=1", fmt.Sprintf("--eth-peer=0,%s", endA.MAC), fmt.Sprintf("--eth-peer=1,%s", endB.MAC))
	if err != nil {
		return guestTCPRun{Who: who, Note: err.Error()}
	}
	defer b.stop()
	return guestPair(img, who, b.sockets, [2]endpoint{endA, endB}, gatewayMAC.String())
}

// guestPair boots guest a on sockets[0] and b on sockets[1] with static
// addresses (and gwmac as the gateway's neighbour entry, if set), runs
// the transfer and powers both off.
func guestPair(img guestImage, who string, sockets [2]string, ends [2]endpoint, gwmac string) guestTCPRun {
	run := guestTCPRun{Who: who}
	// no_timer_check as in the e2e tests: TCG on a busy host fails the
	// kernel's IO-APIC timer check now and then.
	base := "console=ttyS0 quiet panic=-1 no_timer_check mvirt.wait=30 mvirt.hold=300"
	if gwmac != "" {
		base += " mvirt.gwmac=" + gwmac
	}
	cmdA := fmt.Sprintf("%s mvirt.name=a mvirt.addr=static4:%s mvirt.blast=%s:%d:%d", base, ends[0].IP, ends[1].IP, guestTCPPort, guestTCPSeconds)
	cmdB := fmt.Sprintf("%s mvirt.name=b mvirt.addr=static4:%s mvirt.sink=%d", base, ends[1].IP, guestTCPPort)
	var gs []*guestVM
	defer func() {
		for _, g := range gs {
			g.kill()
		}
	}()
	for i, c := range []string{cmdA, cmdB} {
		g, err := startGuest(img, sockets[i], ends[i].MAC.String(), c)
		if err != nil {
			run.Note = err.Error()
			return run
		}
		gs = append(gs, g)
	}
	for _, g := range gs {
		if _, err := g.waitFor("MVIRT-READY", guestUpTimeout); err != nil {
			run.Note = err.Error()
			return run
		}
	}
	link, _ := gs[0].waitFor("MVIRT-CHECK name=link ", time.Second)
	run.Features = markerField(link, "features")
	for _, g := range gs {
		if err := g.tell("go"); err != nil {
			run.Note = err.Error()
			return run
		}
	}
	blast, err1 := gs[0].waitFor("MVIRT-CHECK name=blast/", guestUpTimeout)
	sink, err2 := gs[1].waitFor("MVIRT-CHECK name=sink/", guestUpTimeout)
	if err := errors.Join(err1, err2); err != nil {
		run.Note = err.Error()
		return run
	}
	cs, err1 := strconv.Atoi(markerField(blast, "cs"))
	blocks, err2 := strconv.Atoi(markerField(sink, "blocks"))
	if err := errors.Join(err1, err2); err != nil || cs <= 0 || !strings.Contains(sink, " ok ") {
		run.Note = fmt.Sprintf("no transfer: %s / %s", blast, sink)
		return run
	}
	run.Mbps = float64(blocks) * 65536 * 8 / (float64(cs) / 100) / 1e6
	for _, g := range gs {
		g.stop()
	}
	return run
}

// markerField returns the value of key=value in a marker line.
func markerField(line, key string) string {
	for _, f := range strings.Fields(line) {
		if k, v, ok := strings.Cut(f, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// offloadsOf names the offload features set in a feature bit string.
func offloadsOf(bits string) string {
	var on []string
	for _, f := range []struct {
		bit  int
		name string
	}{{0, "CSUM"}, {1, "GUEST_CSUM"}, {7, "GUEST_TSO4"}, {11, "HOST_TSO4"}} {
		if f.bit < len(bits) && bits[f.bit] == '1' {
			on = append(on, f.name)
		}
	}
	if len(on) == 0 {
		return "no offloads"
	}
	return strings.Join(on, " ")
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
