// Package debughttp serves the daemon's introspection over HTTP, meant for
// loopback: GET /debug/actors (the live actor tree as JSON), /metrics
// (Prometheus), GET /debug/nics/{id}/conntrack (a NIC's tracked
// connections) and /debug/pprof/.
package debughttp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// TreeFunc returns the live actor tree.
type TreeFunc func() any

// ConnectionsFunc lists the connections a NIC tracks for its security
// groups.
type ConnectionsFunc func(ctx context.Context, nicID string) (any, error)

// FaultFunc injects a fault into the NIC with the given id.
type FaultFunc func(ctx context.Context, nicID string) error

// Handler returns the debug mux. With a non-nil panicReactor it also serves
// POST /debug/nics/{id}/panic, which makes that NIC's reactor panic: a
// fault-injection hook for supervision tests, off by default.
func Handler(tree TreeFunc, gatherer prometheus.Gatherer, conns ConnectionsFunc, panicReactor FaultFunc) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/nics/{id}/conntrack", func(w http.ResponseWriter, r *http.Request) {
		list, err := conns(r.Context(), r.PathValue("id"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		writeJSON(w, list)
	})
	if panicReactor != nil {
		mux.HandleFunc("POST /debug/nics/{id}/panic", func(w http.ResponseWriter, r *http.Request) {
			if err := panicReactor(r.Context(), r.PathValue("id")); err != nil {
				http.Error(w, err.Error(), http.StatusNotFound)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		})
	}
	mux.HandleFunc("GET /debug/actors", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, tree()) })
	mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
