package actors

import (
	"github.com/prometheus/client_golang/prometheus"

	"mvirt-net/reactor"
)

var (
	nicLabels   = []string{"nic", "network"}
	descTxPkts  = prometheus.NewDesc("mvirt_net_nic_tx_packets_total", "Frames the VM sent.", nicLabels, nil)
	descTxB     = prometheus.NewDesc("mvirt_net_nic_tx_bytes_total", "Bytes of frames the VM sent.", nicLabels, nil)
	descRxPkts  = prometheus.NewDesc("mvirt_net_nic_rx_packets_total", "Frames delivered to the VM.", nicLabels, nil)
	descRxB     = prometheus.NewDesc("mvirt_net_nic_rx_bytes_total", "Bytes of frames delivered to the VM.", nicLabels, nil)
	descKicks   = prometheus.NewDesc("mvirt_net_nic_kicks_total", "Notifications from the VM.", nicLabels, nil)
	descCalls   = prometheus.NewDesc("mvirt_net_nic_calls_total", "Interrupts sent to the VM.", nicLabels, nil)
	descDrops   = prometheus.NewDesc("mvirt_net_nic_drops_total", "Frames dropped, by reason.", append(nicLabels, "reason"), nil)
	descCrash   = prometheus.NewDesc("mvirt_net_nic_reactor_restarts_total", "Reactor crashes recovered.", nicLabels, nil)
	descRefused = prometheus.NewDesc("mvirt_net_nic_refused_frontends_total",
		"vhost-user connections refused because the NIC's frontend was connected.", nicLabels, nil)
)

// nicCollector reads the counters of every live NicActor at scrape time.
type nicCollector struct{ reg *registry }

func (nicCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descTxPkts, descTxB, descRxPkts, descRxB, descKicks, descCalls, descDrops, descCrash, descRefused} {
		ch <- d
	}
}

func (c nicCollector) Collect(ch chan<- prometheus.Metric) {
	c.reg.mu.Lock()
	probes := make([]*probe, 0, len(c.reg.nodes))
	for _, n := range c.reg.nodes {
		if n.probe.kind == KindNic {
			probes = append(probes, n.probe)
		}
	}
	c.reg.mu.Unlock()
	for _, p := range probes {
		st := p.stats.Load()
		if st == nil {
			continue
		}
		l := []string{p.nicID, p.networkID}
		counter := func(d *prometheus.Desc, v uint64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), l...)
		}
		counter(descTxPkts, st.TxPackets.Load())
		counter(descTxB, st.TxBytes.Load())
		counter(descRxPkts, st.RxPackets.Load())
		counter(descRxB, st.RxBytes.Load())
		counter(descKicks, st.Kicks.Load())
		counter(descCalls, st.Calls.Load())
		counter(descCrash, uint64(p.reactorRestarts.Load()))
		counter(descRefused, st.RefusedFrontends.Load())
		for r := range reactor.NumDropReasons {
			ch <- prometheus.MustNewConstMetric(descDrops, prometheus.CounterValue,
				float64(st.Drops[r].Load()), p.nicID, p.networkID, r.String())
		}
	}
}
