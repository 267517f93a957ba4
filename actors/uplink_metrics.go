package actors

import (
	"github.com/prometheus/client_golang/prometheus"

	"mvirt-net/reactor"
)

var (
	uplinkLabels  = []string{"device"}
	descUpUp      = prometheus.NewDesc("mvirt_net_uplink_up", "1 while the uplink to the host's kernel is open and served.", uplinkLabels, nil)
	descUpTxPkts  = prometheus.NewDesc("mvirt_net_uplink_from_kernel_packets_total", "Packets the uplink read from the host's kernel.", uplinkLabels, nil)
	descUpTxB     = prometheus.NewDesc("mvirt_net_uplink_from_kernel_bytes_total", "Bytes of IP packets the uplink read from the host's kernel.", uplinkLabels, nil)
	descUpRxPkts  = prometheus.NewDesc("mvirt_net_uplink_to_kernel_packets_total", "Packets the uplink wrote to the host's kernel.", uplinkLabels, nil)
	descUpRxB     = prometheus.NewDesc("mvirt_net_uplink_to_kernel_bytes_total", "Bytes of IP packets the uplink wrote to the host's kernel.", uplinkLabels, nil)
	descUpDrops   = prometheus.NewDesc("mvirt_net_uplink_drops_total", "Packets the uplink dropped, by reason.", append(uplinkLabels, "reason"), nil)
	descUpRestart = prometheus.NewDesc("mvirt_net_uplink_reactor_restarts_total", "Uplink reactor crashes recovered.", uplinkLabels, nil)
)

// uplinkCollector reads the UplinkActor's state and counters at scrape
// time.
type uplinkCollector struct{ reg *registry }

func (uplinkCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUpUp, descUpTxPkts, descUpTxB, descUpRxPkts, descUpRxB, descUpDrops, descUpRestart} {
		ch <- d
	}
}

func (c uplinkCollector) Collect(ch chan<- prometheus.Metric) {
	c.reg.mu.Lock()
	var p *probe
	for _, n := range c.reg.nodes {
		if n.probe.kind == KindUplink {
			p = n.probe
		}
	}
	c.reg.mu.Unlock()
	if p == nil {
		return
	}
	s := p.uplink.state.Load()
	if s == nil {
		return
	}
	up := 0.0
	if s.Up {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(descUpUp, prometheus.GaugeValue, up, s.Device)
	ch <- prometheus.MustNewConstMetric(descUpRestart, prometheus.CounterValue, float64(p.reactorRestarts.Load()), s.Device)
	st := p.stats.Load()
	if st == nil {
		return
	}
	counter := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), s.Device)
	}
	counter(descUpTxPkts, st.TxPackets.Load())
	counter(descUpTxB, st.TxBytes.Load())
	counter(descUpRxPkts, st.RxPackets.Load())
	counter(descUpRxB, st.RxBytes.Load())
	for r := range reactor.NumDropReasons {
		ch <- prometheus.MustNewConstMetric(descUpDrops, prometheus.CounterValue, float64(st.Drops[r].Load()), s.Device, r.String())
	}
}

// collectors joins the tree's collectors into one.
type collectors []prometheus.Collector

func (cs collectors) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range cs {
		c.Describe(ch)
	}
}

func (cs collectors) Collect(ch chan<- prometheus.Metric) {
	for _, c := range cs {
		c.Collect(ch)
	}
}
