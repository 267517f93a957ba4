// Package debughttp serves the daemon's introspection over HTTP, meant for
// loopback or a unix socket: GET /debug/actors (the live actor tree as
// JSON), /metrics (Prometheus), GET /debug/nics/{id}/conntrack (a NIC's
// tracked connections) and, when asked for, fault injection and
// /debug/pprof/.
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

// Faults are the fault-injection hooks for supervision tests, off by
// default: NicPanic makes the reactor of the NIC with the given id panic,
// UplinkPanic the uplink's reactor.
type Faults struct {
	NicPanic    func(ctx context.Context, nicID string) error
	UplinkPanic func(ctx context.Context) error
}

// Handler returns the debug mux. With non-nil faults it also serves POST
// /debug/nics/{id}/panic and POST /debug/uplink/panic, which make that
// NIC's reactor or the uplink's panic. With withPprof it serves the Go
// profiler under /debug/pprof/ (which shows the command line and lets a
// caller spend the daemon's CPU on profiling).
func Handler(tree TreeFunc, gatherer prometheus.Gatherer, conns ConnectionsFunc, faults *Faults, withPprof bool) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/nics/{id}/conntrack", func(w http.ResponseWriter, r *http.Request) {
		list, err := conns(r.Context(), r.PathValue("id"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		writeJSON(w, list)
	})
	if faults != nil {
		mux.HandleFunc("POST /debug/nics/{id}/panic", func(w http.ResponseWriter, r *http.Request) {
			if err := faults.NicPanic(r.Context(), r.PathValue("id")); err != nil {
				http.Error(w, err.Error(), http.StatusNotFound)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		})
		mux.HandleFunc("POST /debug/uplink/panic", func(w http.ResponseWriter, r *http.Request) {
			if err := faults.UplinkPanic(r.Context()); err != nil {
				http.Error(w, err.Error(), http.StatusConflict)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		})
	}
	mux.HandleFunc("GET /debug/actors", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, tree()) })
	mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	if withPprof {
		handlePprof(mux)
	}
	return mux
}

// handlePprof serves the Go profiler's endpoints.
func handlePprof(mux *http.ServeMux) {
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
