package app

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"pacto/activities"
	"pacto/internal/store"
)

// NewWorkerMetrics registers a worker's own metrics on reg: what its
// activities count (deliveries sent and failed, Record failures,
// reminders and their lateness) and the outbox's depth, read from
// PostgreSQL at each scrape. Put the result in Delivery.Metrics.
func NewWorkerMetrics(reg prometheus.Registerer, st *store.Store) (*activities.Metrics, error) {
	m, err := activities.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	if err := reg.Register(newOutboxCollector(st)); err != nil {
		return nil, fmt.Errorf("register the outbox depth: %w", err)
	}
	return m, nil
}

// outboxCollector reports the outbox's depth at each scrape. Every worker
// reports the same figures (they share the database): aggregate with max,
// not sum.
type outboxCollector struct {
	store                        *store.Store
	deliveries, undispatched, ko *prometheus.Desc
}

func newOutboxCollector(st *store.Store) *outboxCollector {
	return &outboxCollector{
		store: st,
		deliveries: prometheus.NewDesc("pacto_outbox_deliveries",
			"Deliveries not sent, by channel and status: pending (being tried) or failed (given up; an admin may retry them).",
			[]string{"channel", "status"}, nil),
		undispatched: prometheus.NewDesc("pacto_outbox_undispatched",
			"Pending deliveries no relay has handed on to a delivery workflow yet, by channel.",
			[]string{"channel"}, nil),
		ko: prometheus.NewDesc("pacto_outbox_scrape_error",
			"1 if the outbox could not be counted at this scrape.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.deliveries
	ch <- c.undispatched
	ch <- c.ko
}

// Collect implements prometheus.Collector.
func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.store.OutboxDepth(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.ko, prometheus.GaugeValue, 1)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.ko, prometheus.GaugeValue, 0)
	// Every channel's series, zero when empty, so that an alert on them
	// does not see a series vanish when the outbox drains.
	type key struct{ channel, status string }
	deliveries, undispatched := map[key]int64{}, map[string]int64{}
	for _, ch := range []string{"email", "digest", "webhook"} {
		deliveries[key{ch, "pending"}], deliveries[key{ch, "failed"}], undispatched[ch] = 0, 0, 0
	}
	for _, n := range counts {
		deliveries[key{n.Channel, n.Status}] += n.Deliveries
		undispatched[n.Channel] += n.Undispatched
	}
	for k, n := range deliveries {
		ch <- prometheus.MustNewConstMetric(c.deliveries, prometheus.GaugeValue, float64(n), k.channel, k.status)
	}
	for channel, n := range undispatched {
		ch <- prometheus.MustNewConstMetric(c.undispatched, prometheus.GaugeValue, float64(n), channel)
	}
}
