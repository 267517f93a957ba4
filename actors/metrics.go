package actors

import (
	"github.com/prometheus/client_golang/prometheus"

	"mvirt-net/reactor"
)

// Metrics are the tree's Prometheus collectors.
type Metrics struct {
	Networks prometheus.Gauge
	Nics     *prometheus.GaugeVec
	// Watchers counts open WatchNics / WatchNetworks streams, by kind.
	Watchers *prometheus.GaugeVec
	// WatchersDropped counts watchers ended for falling behind, by kind.
	WatchersDropped *prometheus.CounterVec
}

// NewMetrics creates the collectors and registers them on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Networks: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mvirt_net_networks", Help: "Networks configured.",
		}),
		Nics: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mvirt_net_nics", Help: "vNICs configured, by state.",
		}, []string{"state"}),
		Watchers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "mvirt_net_watchers", Help: "Open WatchNics / WatchNetworks streams, by kind.",
		}, []string{"kind"}),
		WatchersDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mvirt_net_watchers_dropped_total", Help: "Watchers ended with ResourceExhausted for falling behind, by kind.",
		}, []string{"kind"}),
	}
	inboxes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "mvirt_net_inbox_mapped_bytes",
		Help: "Packet memory the vNICs' inboxes have mapped, outside the Go heap (resident only where touched).",
	}, func() float64 { return float64(reactor.InboxMemory()) })
	reg.MustRegister(m.Networks, m.Nics, m.Watchers, m.WatchersDropped, inboxes)
	return m
}
