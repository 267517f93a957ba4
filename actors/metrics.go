package actors

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the tree's Prometheus collectors.
type Metrics struct {
	Networks prometheus.Gauge
	Nics     *prometheus.GaugeVec
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
	}
	reg.MustRegister(m.Networks, m.Nics)
	return m
}
