package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"
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
	return serveAdminList(w, r, s.RecordFailures, func(fs []store.RecordFailure) any { return RecordFailureList{RecordFailures: fs} })
}

// RecordFailures is GET /v1/admin/record-failures: the activities whose
// read model is behind, oldest first, at most limit (0: the default
// page); for admin p.
func (s *Server) RecordFailures(ctx context.Context, p store.Principal, limit int) ([]store.RecordFailure, error) {
	return adminList(ctx, p, limit, s.store.RecordFailures)
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
