package api

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"pacto/internal/store"
)

// adminList is admin p's page of a list the store keeps, at most limit
// (0: the default page).
func adminList[T any](ctx context.Context, p store.Principal, limit int, list func(context.Context, int) ([]T, error)) ([]T, error) {
	if err := adminOnly(p); err != nil {
		return nil, err
	}
	limit, err := pageLimit(limit)
	if err != nil {
		return nil, err
	}
	return list(ctx, limit)
}

// serveAdminList answers a GET of an admin list, its ?limit= bounding
// the page, with the page in the body wrap makes of it.
func serveAdminList[T any](w http.ResponseWriter, r *http.Request,
	list func(context.Context, store.Principal, int) ([]T, error), wrap func([]T) any) error {
	limit, err := limitParam(r.URL.Query().Get("limit"))
	if err != nil {
		return err
	}
	page, err := list(r.Context(), principalOf(r), limit)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, wrap(page))
}

// storeGauge reports, at each scrape, a count read from the store: every
// process shares the store, so every process's /metrics tells the same.
// A count that cannot be read is left out, and its error gauge says 1.
type storeGauge struct {
	count      func(context.Context) (int64, error)
	desc, errs *prometheus.Desc
}

func newStoreGauge(name, help, errName, errHelp string, count func(context.Context) (int64, error)) *storeGauge {
	return &storeGauge{count: count,
		desc: prometheus.NewDesc(name, help, nil, nil), errs: prometheus.NewDesc(errName, errHelp, nil, nil)}
}

// Describe implements prometheus.Collector.
func (g *storeGauge) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc; ch <- g.errs }

// Collect implements prometheus.Collector.
func (g *storeGauge) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := g.count(ctx)
	failed := 0.0
	if err != nil {
		failed = 1
	} else {
		ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, float64(n))
	}
	ch <- prometheus.MustNewConstMetric(g.errs, prometheus.GaugeValue, failed)
}

// storeGauges are the counts every API process reports from the store.
func storeGauges(st *store.Store) []prometheus.Collector {
	return []prometheus.Collector{
		newStoreGauge("pacto_read_model_behind_activities",
			"Activities whose latest change PostgreSQL refused, so the read model is behind their workflow (see /v1/admin/record-failures).",
			"pacto_read_model_behind_scrape_error", "1 if the count of activities behind could not be read at this scrape.",
			st.CountRecordFailures),
		newStoreGauge("pacto_diverged_activities",
			"Activities open in the read model whose workflow no longer runs in Temporal and has not been restarted (see /v1/admin/diverged).",
			"pacto_diverged_activities_scrape_error", "1 if the count of diverged activities could not be read at this scrape.",
			st.CountDivergences),
	}
}
