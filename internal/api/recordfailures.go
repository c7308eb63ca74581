package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/api/serviceerror"

	"pacto/internal/store"
	"pacto/workflows"
)

// RecordFailureList lists the activities whose read model is behind
// because PostgreSQL refused a change.
type RecordFailureList struct {
	RecordFailures []store.RecordFailure `json:"record_failures"`
}

func (s *Server) listRecordFailures(w http.ResponseWriter, r *http.Request) error {
	limit, err := limitParam(r.URL.Query().Get("limit"))
	if err != nil {
		return err
	}
	fs, err := s.RecordFailures(r.Context(), principalOf(r), limit)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, RecordFailureList{RecordFailures: fs})
}

// RecordFailures is GET /v1/admin/record-failures: the activities whose
// read model is behind, oldest first, at most limit (0: the default
// page); for admin p.
func (s *Server) RecordFailures(ctx context.Context, p store.Principal, limit int) ([]store.RecordFailure, error) {
	if err := adminOnly(p); err != nil {
		return nil, err
	}
	limit, err := pageLimit(limit)
	if err != nil {
		return nil, err
	}
	return s.store.RecordFailures(ctx, limit)
}

// RecordRetry says an activity's workflow was asked to record again.
type RecordRetry struct {
	ActivityID string `json:"activity_id"`
	Status     string `json:"status"`
}

// retryRecord asks a blocked activity's workflow to try its Record again,
// after an administrator has removed the cause.
func (s *Server) retryRecord(w http.ResponseWriter, r *http.Request) error {
	res, err := s.RetryRecord(r.Context(), principalOf(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, res)
}

// RetryRecord is POST /v1/admin/record-failures/{id}/retry, by admin p:
// activity id's workflow is asked to record again.
func (s *Server) RetryRecord(ctx context.Context, p store.Principal, id string) (RecordRetry, error) {
	if err := adminOnly(p); err != nil {
		return RecordRetry{}, err
	}
	if ae := badID("id", id); ae != nil {
		return RecordRetry{}, ae
	}
	if _, err := s.store.RecordFailureOf(ctx, id); errors.Is(err, store.ErrNotFound) {
		return RecordRetry{}, fail(probNotFound, "no record failure for that activity")
	} else if err != nil {
		return RecordRetry{}, err
	}
	err := s.temporal.SignalWorkflow(ctx, id, "", workflows.SignalRetryRecord, nil)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return RecordRetry{}, fail(probTransition, "the activity's workflow is no longer running")
	}
	if err != nil {
		return RecordRetry{}, fmt.Errorf("signal %s to retry its record: %w", id, err)
	}
	return RecordRetry{ActivityID: id, Status: "retrying"}, nil
}

// behindCollector reports, at each scrape, how many activities the read
// model is behind on, from the store: workers and API processes share it,
// so every process's /metrics tells the same.
type behindCollector struct {
	store *store.Store
	desc  *prometheus.Desc
	errs  *prometheus.Desc
}

func newBehindCollector(st *store.Store) *behindCollector {
	return &behindCollector{
		store: st,
		desc: prometheus.NewDesc("pacto_read_model_behind_activities",
			"Activities whose latest change PostgreSQL refused, so the read model is behind their workflow (see /v1/admin/record-failures).", nil, nil),
		errs: prometheus.NewDesc("pacto_read_model_behind_scrape_error",
			"1 if the count of activities behind could not be read at this scrape.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *behindCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc; ch <- c.errs }

// Collect implements prometheus.Collector.
func (c *behindCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := c.store.CountRecordFailures(ctx)
	failed := 0.0
	if err != nil {
		failed = 1
	} else {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n))
	}
	ch <- prometheus.MustNewConstMetric(c.errs, prometheus.GaugeValue, failed)
}
