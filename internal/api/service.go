package api

import (
	"context"
	"errors"
	"time"

	"pacto/internal/lifecycle"
	"pacto/internal/store"
	"pacto/workflows"
)

// The methods below are the API's operations for a principal, without
// HTTP: the console calls them, so that a page and an API call go through
// the same checks and the same core. Each returns the error the API would
// answer with; Describe turns it into that problem.

// Activity returns an activity principal p may see.
func (s *Server) Activity(ctx context.Context, p store.Principal, id string) (lifecycle.State, error) {
	if !idPattern.MatchString(id) {
		return lifecycle.State{}, errNoActivity
	}
	return s.visible(ctx, p, id)
}

// View shows an activity to principal p as the API does: texts in p's
// language, colours as of now, and whether the read model is behind.
func (s *Server) View(ctx context.Context, p store.Principal, st lifecycle.State) (ActivityView, error) {
	st, err := s.withLanguages(ctx, st, nil)
	if err != nil {
		return ActivityView{}, err
	}
	v := viewOf(st, s.now(), readerLanguage(p))
	if v.ReadModel, err = s.readModelBehind(ctx, st); err != nil {
		return ActivityView{}, err
	}
	return v, nil
}

// Amend is PATCH /v1/activities/{id} against version.
func (s *Server) Amend(ctx context.Context, p store.Principal, id string, version int, req AmendRequest) (lifecycle.State, error) {
	return command(s, ctx, p, id, workflows.UpdateAmend, "coordinator", "", func(lifecycle.State) (lifecycle.Amend, error) {
		if err := checkClassification(req.Sector, req.RecipientCountries); err != nil {
			return lifecycle.Amend{}, err
		}
		cur, err := s.queryState(ctx, id)
		if err != nil {
			return lifecycle.Amend{}, err
		}
		return amendCommand(cur, version, req), nil
	})
}

// Decide is POST /v1/activities/{id}/decisions.
func (s *Server) Decide(ctx context.Context, p store.Principal, id string, req DecisionRequest) (lifecycle.State, error) {
	return command(s, ctx, p, id, workflows.UpdateDecide, "approver", "", func(lifecycle.State) (lifecycle.DecideProposal, error) {
		return decisionCommand(req)
	})
}

// ReportProgress is POST .../milestones/{mid}/progress.
func (s *Server) ReportProgress(ctx context.Context, p store.Principal, id, mid string, req ProgressRequest) (lifecycle.State, error) {
	return command(s, ctx, p, id, workflows.UpdateReportProgress, "coordinator", "", func(lifecycle.State) (lifecycle.ReportProgress, error) {
		return lifecycle.ReportProgress{MilestoneID: mid, Evidence: req.Evidence, Actual: req.Actual, Note: req.Note}, nil
	})
}

// Complete is POST .../milestones/{mid}/complete.
func (s *Server) Complete(ctx context.Context, p store.Principal, id, mid string, req ProgressRequest) (lifecycle.State, error) {
	return command(s, ctx, p, id, workflows.UpdateCompleteMilestone, "coordinator", "", func(lifecycle.State) (lifecycle.CompleteMilestone, error) {
		return lifecycle.CompleteMilestone{MilestoneID: mid, Evidence: req.Evidence, Actual: req.Actual, Note: req.Note}, nil
	})
}

// RequestExtension is POST .../milestones/{mid}/extensions.
func (s *Server) RequestExtension(ctx context.Context, p store.Principal, id, mid string, req ExtensionRequest) (lifecycle.State, error) {
	return command(s, ctx, p, id, workflows.UpdateRequestExtension, "coordinator", "", func(lifecycle.State) (lifecycle.RequestExtension, error) {
		return lifecycle.RequestExtension{MilestoneID: mid, NewDue: req.NewDue, Reason: req.Reason}, nil
	})
}

// DecideExtension is POST .../milestones/{mid}/extensions/{eid}/decisions.
func (s *Server) DecideExtension(ctx context.Context, p store.Principal, id, mid, eid string, req ExtensionDecisionRequest) (lifecycle.State, error) {
	return command(s, ctx, p, id, workflows.UpdateDecideExtension, "approver", "", func(lifecycle.State) (lifecycle.DecideExtension, error) {
		return lifecycle.DecideExtension{MilestoneID: mid, ExtensionID: eid, Party: lifecycle.PartyCode(req.Party),
			Decision: lifecycle.Decision(req.Decision), Comment: req.Comment}, nil
	})
}

// Control is POST /v1/activities/{id}/suspend, /resume or /cancel, named
// by what ("suspend", "resume", "cancel").
func (s *Server) Control(ctx context.Context, p store.Principal, id, what, reason string) (lifecycle.State, error) {
	switch what {
	case workflows.UpdateSuspend:
		return command(s, ctx, p, id, what, "approver", "", func(lifecycle.State) (lifecycle.Suspend, error) { return lifecycle.Suspend{Reason: reason}, nil })
	case workflows.UpdateResume:
		return command(s, ctx, p, id, what, "approver", "", func(lifecycle.State) (lifecycle.Resume, error) { return lifecycle.Resume{Reason: reason}, nil })
	case workflows.UpdateCancel:
		return command(s, ctx, p, id, what, "approver", "", func(lifecycle.State) (lifecycle.Cancel, error) { return lifecycle.Cancel{Reason: reason}, nil })
	}
	return lifecycle.State{}, fail(probNotFound, "no action "+what)
}

// Audit returns an activity's audit log, in order, after sequence after
// (0 for the start), at most limit events.
func (s *Server) Audit(ctx context.Context, p store.Principal, id string, after int64, limit int) ([]store.AuditEvent, error) {
	if _, err := s.Activity(ctx, p, id); err != nil {
		return nil, err
	}
	return s.store.Audit(ctx, id, after, limit)
}

// VerifyAudit recomputes an activity's audit chain.
func (s *Server) VerifyAudit(ctx context.Context, p store.Principal, id string) (store.AuditVerification, error) {
	if _, err := s.Activity(ctx, p, id); err != nil {
		return store.AuditVerification{}, err
	}
	return s.store.VerifyAudit(ctx, id)
}

// Describe is the problem the API answers err with: its class, detail and
// field. An error that is not one of the API's is an internal one (or an
// unavailable dependency), described without its inner text.
func Describe(err error) Problem {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
	case attributesUnmapped(err):
		ae = fail(probUnavailable, notReadyDetail)
	case unavailable(err):
		ae = fail(probUnavailable, "a service Pacto depends on did not answer; try again shortly")
	default:
		ae = fail(probInternal, "the request failed; the request id identifies it in the logs")
	}
	return Problem{Type: problemTypeBase + ae.class.slug, Title: ae.class.title, Status: ae.class.status,
		Detail: ae.detail, Field: ae.field, Language: ae.language, Missing: ae.missing}
}

// Inbox is GET /v1/inbox for principal p: its notifications, newest
// first, each with its titles in p's language and the console page it
// links to, an activity's or a dialogue meeting's.
func (s *Server) Inbox(ctx context.Context, p store.Principal, unread bool, after *store.InboxCursor, limit int) ([]InboxNotification, *store.InboxCursor, error) {
	ns, next, err := s.store.Inbox(ctx, p.ID, unread, after, limit)
	if err != nil {
		return nil, nil, err
	}
	out := make([]InboxNotification, len(ns))
	for i, n := range ns {
		if out[i], err = inboxNotification(n, p); err != nil {
			return nil, nil, err
		}
	}
	return out, next, nil
}

// MarkRead marks principal p's notifications ids read (all of them when
// ids is empty) and returns how many changed.
func (s *Server) MarkRead(ctx context.Context, p store.Principal, ids []int64) (int64, error) {
	return s.store.MarkRead(ctx, p.ID, ids)
}

// InvalidField is the 422 a form's field gets when it cannot become a
// request at all (a reading that is not a number), like the API's own.
func InvalidField(field, detail string) error { return failField(probInvalid, field, detail) }

// Awaiting returns, as principal p reads them, the active activities that
// wait for p's party: one of its open milestones due before dueBefore, or
// an extension pending its decision (at most limit, soonest first).
func (s *Server) Awaiting(ctx context.Context, p store.Principal, dueBefore time.Time, limit int) ([]ActivityView, error) {
	if p.Party == "" {
		return nil, nil
	}
	states, err := s.store.AwaitingParty(ctx, p.Party, dueBefore, limit)
	if err != nil {
		return nil, err
	}
	out := make([]ActivityView, 0, len(states))
	now, lang := s.now(), readerLanguage(p)
	frames := map[string]store.DialogueFrame{}
	for _, st := range states {
		if st, err = s.withLanguages(ctx, st, frames); err != nil {
			return nil, err
		}
		out = append(out, viewOf(st, now, lang))
	}
	return out, nil
}

// ProblemClasses lists the slugs of every problem class ("invalid-input"),
// for those who say them in other words.
func ProblemClasses() []string {
	out := make([]string, len(allProblemClasses))
	for i, c := range allProblemClasses {
		out[i] = c.slug
	}
	return out
}
