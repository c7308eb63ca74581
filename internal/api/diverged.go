package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"pacto/internal/lifecycle"
	"pacto/internal/store"
	"pacto/workflows"
)

// DivergedList lists the activities whose workflow no longer runs in
// Temporal although the read model has them open.
type DivergedList struct {
	Diverged []store.Divergence `json:"diverged"`
}

func (s *Server) listDiverged(w http.ResponseWriter, r *http.Request) error {
	return serveAdminList(w, r, s.Diverged, func(ds []store.Divergence) any { return DivergedList{Diverged: ds} })
}

// Diverged is GET /v1/admin/diverged: the activities the reconciler found
// with their workflow lost and not yet restarted, oldest first, at most
// limit (0: the default page); for admin p.
func (s *Server) Diverged(ctx context.Context, p store.Principal, limit int) ([]store.Divergence, error) {
	return adminList(ctx, p, limit, s.store.Divergences)
}

func (s *Server) restartActivity(w http.ResponseWriter, r *http.Request) error {
	var req ReasonRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	st, err := s.Restart(r.Context(), principalOf(r), chi.URLParam(r, "id"), req.Reason)
	if err != nil {
		return err
	}
	return s.respondActivity(w, r, http.StatusOK, st)
}

// Restart is POST /v1/admin/activities/{id}/restart, by admin p: activity
// id's workflow, no longer running in Temporal, is started again from the
// read model's last snapshot, under the same workflow ID, and records the
// restart (by p, for reason) before anything else. It answers with the
// activity once the restart is recorded.
//
// The run is looked up and started holding the lock every writer of the
// activity takes, so that neither the reconciler nor a second restart
// crosses it; the new run's first Record waits for it.
func (s *Server) Restart(ctx context.Context, p store.Principal, id, reason string) (lifecycle.State, error) {
	if err := adminOnly(p); err != nil {
		return lifecycle.State{}, err
	}
	if ae := badID("id", id); ae != nil {
		return lifecycle.State{}, ae
	}
	var st lifecycle.State
	err := s.store.WithActivityLock(ctx, id, func(ctx context.Context) error {
		var err error
		if st, err = s.store.Activity(ctx, id); errors.Is(err, store.ErrNotFound) {
			return errNoActivity
		} else if err != nil {
			return err
		}
		// The core's check first, so a refusal names its cause.
		if _, err := lifecycle.Decide(st, lifecycle.Restart{Reason: reason}, p.Actor(), s.now()); err != nil {
			var ce *lifecycle.Error
			if errors.As(err, &ce) {
				return coreProblem(ce)
			}
			return err
		}
		desc, err := s.temporal.DescribeWorkflowExecution(ctx, id, "")
		var nf *serviceerror.NotFound
		switch {
		case errors.As(err, &nf):
			// Gone from Temporal altogether: start afresh.
		case err != nil:
			return fmt.Errorf("describe the workflow of %s: %w", id, err)
		default:
			switch desc.GetWorkflowExecutionInfo().GetStatus() {
			case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
				return fail(probTransition, "the activity's workflow is running; there is nothing to restart")
			}
		}
		summary, details := workflowSummary(st)
		_, err = s.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: id, TaskQueue: s.taskQueue, StaticSummary: summary, StaticDetails: details,
			// The closed run's ID may be used again; a running one's not.
			WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
			TypedSearchAttributes:    workflows.StartSearchAttributes(st),
		}, workflows.WorkflowName, workflows.Restarted(p.Actor(), st, reason))
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		if errors.As(err, &started) {
			return fail(probTransition, "the activity's workflow is running; there is nothing to restart")
		}
		if err != nil {
			return fmt.Errorf("restart the workflow of %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return lifecycle.State{}, err
	}
	s.log.InfoContext(ctx, "activity workflow restarted", "activity", id, "by", p.ID, "from_seq", st.Seq)
	// The restart is the run's first Record; read it from the read model,
	// and ask the workflow only if that is slow.
	if s.waitRecorded(ctx, id, st.Seq+1) {
		if next, err := s.store.Activity(ctx, id); err == nil {
			return next, nil
		}
	}
	return s.queryUntilAnswered(ctx, id)
}
