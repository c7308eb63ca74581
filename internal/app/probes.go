package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"pacto/internal/store"
)

// Polling reports whether the Temporal worker has started (its pollers
// run) and not been stopped.
func (w *Worker) Polling() bool { return w.polling.Load() }

// TaskQueue is the task queue the worker polls.
func (w *Worker) TaskQueue() string { return w.queue }

// Probes is what a worker's small HTTP listener serves: /healthz (the
// process is up), /readyz (the worker polls Temporal and PostgreSQL
// answers a ping) and /metrics (Gatherer's metrics).
type Probes struct {
	Worker   *Worker
	Store    *store.Store
	Gatherer prometheus.Gatherer
}

// Handler serves the probes and the metrics.
func (p Probes) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeStatus(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", p.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(p.Gatherer, promhttp.HandlerOpts{}))
	return mux
}

// readyz answers 200 once the worker polls and PostgreSQL answers, 503
// with what is missing otherwise.
func (p Probes) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	status, code := map[string]string{"worker": "polling", "postgres": "ok"}, http.StatusOK
	if p.Worker == nil || !p.Worker.Polling() {
		status["worker"], code = "not polling", http.StatusServiceUnavailable
	} else {
		status["task_queue"] = p.Worker.TaskQueue()
	}
	if err := p.Store.Ping(ctx); err != nil {
		status["postgres"], code = "unreachable", http.StatusServiceUnavailable
	}
	writeStatus(w, code, status)
}

func writeStatus(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// ServeProbes serves p on ln until ctx is done, then shuts down like the
// API (see ServeHTTP).
func ServeProbes(ctx context.Context, ln net.Listener, p Probes, log *slog.Logger) error {
	return ServeHTTP(ctx, ln, p.Handler(), log)
}
