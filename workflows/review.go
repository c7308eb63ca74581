package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"pacto/activities"
	"pacto/internal/lifecycle"
	"pacto/internal/review"
	"pacto/internal/store"
)

// ReviewWorkflowName is the registered name of the workflow that keeps
// one meeting's report: the draft ahead of it, the parties' statements,
// and the frozen report at the meeting's time.
const ReviewWorkflowName = "Review"

// Names of the Review workflow's query, updates and signal.
const (
	QueryReviewState  = "state"
	UpdateStatement   = "statement"
	UpdateMinutes     = "minutes"
	UpdateSignMinutes = "sign_minutes"
	// SignalReschedule carries the calendar's meetings after a change, so
	// that a run follows its meeting when it is moved or cancelled.
	SignalReschedule = "reschedule"
)

// ReviewVersion is the behaviour new review runs start under:
//
//	1  draft at DraftBefore ahead of the meeting, statements until
//	   StatementsBefore ahead of it, frozen report at the meeting's time.
//	2  the meeting's cycle (see reviewCycle): the run claims its meeting,
//	   sends the agenda and draft, reminds of missing statements, follows
//	   a moved or cancelled meeting, records the frozen report's digest
//	   in the meeting's audit chain, and takes co-signed minutes.
//
// Runs started before version 2 have no version marker in their history
// and keep version 1's behaviour on replay (see Review).
const ReviewVersion = 2

// cycleChange is the version marker of the meeting's cycle.
const cycleChange = "meeting-cycle"

// Default offsets of a review from its meeting.
const (
	DefaultDraftBefore      = 30 * 24 * time.Hour
	DefaultStatementsBefore = 7 * 24 * time.Hour
	DefaultRemindEvery      = 7 * 24 * time.Hour
)

// maxStatementBytes bounds a statement's text.
const maxStatementBytes = 4000

// ReviewInput is what a review run starts with. A schedule's action
// starts every run with the same arguments, so a run started by the
// dialogue's schedule finds its meeting among Meetings: the one whose
// draft time is the time the schedule fired for.
type ReviewInput struct {
	Version  int    `json:"version,omitempty"`
	Dialogue string `json:"dialogue"`
	// Meetings are the calendar's meetings, in order, as of when the
	// schedule was set.
	Meetings []review.Meeting `json:"meetings"`
	// Meeting, when given, is the number of the meeting the run is for,
	// whatever time it starts.
	Meeting int `json:"meeting,omitempty"`
	// DraftBefore and StatementsBefore are how long before the meeting
	// the draft is compiled and statements close; zero means the default.
	DraftBefore      time.Duration `json:"draft_before,omitempty"`
	StatementsBefore time.Duration `json:"statements_before,omitempty"`
	// RemindEvery is how often, from the draft until statements close,
	// the parties still owing statements are reminded; zero means the
	// default.
	RemindEvery time.Duration `json:"remind_every,omitempty"`
	// Started lists the meetings whose runs have started (their claims
	// are held): the schedule starts no other run for them, even when
	// they are moved.
	Started []int `json:"started,omitempty"`
}

// Defaults is in with the default offsets for those not set.
func (in ReviewInput) Defaults() ReviewInput {
	if in.DraftBefore <= 0 {
		in.DraftBefore = DefaultDraftBefore
	}
	if in.StatementsBefore <= 0 {
		in.StatementsBefore = DefaultStatementsBefore
	}
	if in.RemindEvery <= 0 {
		in.RemindEvery = DefaultRemindEvery
	}
	return in
}

// Phases of a review.
const (
	PhaseWaiting = "waiting" // for the draft's time
	PhaseDraft   = "draft"   // drafted; statements open until StatementsDue
	PhaseFrozen  = "frozen"  // the meeting's report is kept for good; minutes open
	// From version 2:
	PhaseClosed    = "closed"    // the minutes were adopted
	PhaseCancelled = "cancelled" // the meeting was taken off the calendar
	PhaseDuplicate = "duplicate" // another run holds the meeting
)

// ReviewState is where a review stands, as its query gives it.
type ReviewState struct {
	Dialogue      string                   `json:"dialogue"`
	Meeting       int                      `json:"meeting"`
	MeetingAt     time.Time                `json:"meeting_at"`
	Since         time.Time                `json:"since"`
	DraftAt       time.Time                `json:"draft_at"`
	StatementsDue time.Time                `json:"statements_due"`
	Phase         string                   `json:"phase"`
	DraftSHA256   string                   `json:"draft_sha256,omitempty"`
	FrozenSHA256  string                   `json:"frozen_sha256,omitempty"`
	Differences   []string                 `json:"differences,omitempty"`
	Statements    []store.MeetingStatement `json:"statements"`
	// Owners (per activity, the parties owning its milestones) and
	// Parties come with the draft; statements are checked against them.
	Owners  map[string][]string `json:"owners,omitempty"`
	Parties []string            `json:"parties,omitempty"`

	// From version 2: the meeting's audit chain's last sequence, the
	// reminders sent, the minutes, and the activities the adopted
	// minutes proposed.
	Seq       int64              `json:"seq,omitempty"`
	Reminders int                `json:"reminders,omitempty"`
	Minutes   *lifecycle.Minutes `json:"minutes,omitempty"`
	Proposed  []string           `json:"proposed,omitempty"`
}

// Statement is what a coordinator states, through the statement update,
// about one of the dialogue's activities ahead of a meeting.
type Statement struct {
	By       lifecycle.Principal `json:"by"`
	Activity string              `json:"activity"`
	Body     string              `json:"body"`
}

// reviewOptions retry compiling and keeping without end: a meeting's
// report must be kept, and an outage only delays it.
var reviewOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 10 * time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    5 * time.Minute,
	},
}

// Review keeps one meeting's report. At the draft's time it compiles and
// keeps the draft; until statements close, the coordinators of the
// parties that own milestones of an activity may make statements about
// it; at the meeting's time it compiles the report again, checks it
// against the audit log, and keeps it frozen with its SHA-256.
func Review(ctx workflow.Context, in ReviewInput) (ReviewState, error) {
	in = in.Defaults()
	at, ok := workflow.GetTypedSearchAttributes(ctx).GetTime(scheduledStartKey)
	if !ok || at.IsZero() {
		at = workflow.Now(ctx)
	}
	s, err := reviewFor(in, at)
	if err != nil {
		return ReviewState{}, temporal.NewNonRetryableApplicationError(err.Error(), "NoMeeting", err)
	}
	if workflow.GetVersion(ctx, cycleChange, workflow.DefaultVersion, 1) == 1 {
		return reviewCycle(ctx, in, s)
	}
	if err := workflow.SetQueryHandler(ctx, QueryReviewState, func() (ReviewState, error) { return *s, nil }); err != nil {
		return *s, fmt.Errorf("register query: %w", err)
	}
	err = workflow.SetUpdateHandlerWithOptions(ctx, UpdateStatement,
		func(ctx workflow.Context, st Statement) (store.MeetingStatement, error) {
			made := store.MeetingStatement{ID: workflow.GetCurrentUpdateInfo(ctx).ID, Activity: st.Activity,
				Party: string(st.By.Party), Author: st.By.ID, Body: strings.TrimSpace(st.Body), MadeAt: workflow.Now(ctx)}
			req := activities.StatementRequest{Dialogue: s.Dialogue, Meeting: s.Meeting, Statement: made}
			if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, reviewOptions), activities.KeepStatementName, req).Get(ctx, nil); err != nil {
				return store.MeetingStatement{}, err
			}
			s.Statements = append(s.Statements, made)
			return made, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, st Statement) error {
			return appError(s.admits(st, workflow.Now(ctx)))
		}})
	if err != nil {
		return *s, fmt.Errorf("register update: %w", err)
	}

	if wait := s.DraftAt.Sub(workflow.Now(ctx)); wait > 0 {
		if err := workflow.Sleep(ctx, wait); err != nil {
			return *s, err
		}
	}
	actx := workflow.WithActivityOptions(ctx, reviewOptions)
	var draft activities.ReportKept
	if err := workflow.ExecuteActivity(actx, activities.DraftReportName, s.request(workflow.Now(ctx))).Get(ctx, &draft); err != nil {
		return *s, err
	}
	s.Phase, s.DraftSHA256, s.Owners, s.Parties = PhaseDraft, draft.SHA256, draft.Owners, draft.Parties

	if wait := s.MeetingAt.Sub(workflow.Now(ctx)); wait > 0 {
		if err := workflow.Sleep(ctx, wait); err != nil {
			return *s, err
		}
	}
	// A statement accepted just before the close is kept before the
	// report is frozen.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return *s, err
	}
	var frozen activities.ReportKept
	if err := workflow.ExecuteActivity(actx, activities.FreezeReportName, s.request(s.MeetingAt)).Get(ctx, &frozen); err != nil {
		return *s, err
	}
	s.Phase, s.FrozenSHA256, s.Differences = PhaseFrozen, frozen.SHA256, frozen.Differences
	return *s, nil
}

// reviewFor is the state a review of in starts with, started at at.
func reviewFor(in ReviewInput, at time.Time) (*ReviewState, error) {
	if in.Dialogue == "" {
		return nil, errors.New("a review needs its dialogue")
	}
	i := slices.IndexFunc(in.Meetings, func(m review.Meeting) bool {
		if in.Meeting > 0 {
			return m.Number == in.Meeting
		}
		return !m.At.Add(-in.DraftBefore).Before(at)
	})
	if i < 0 {
		return nil, fmt.Errorf("dialogue %s has no meeting to review from %s", in.Dialogue, at.UTC().Format(time.RFC3339))
	}
	m := in.Meetings[i]
	s := &ReviewState{Dialogue: in.Dialogue, Meeting: m.Number, MeetingAt: m.At,
		DraftAt: m.At.Add(-in.DraftBefore), StatementsDue: m.At.Add(-in.StatementsBefore),
		Phase: PhaseWaiting, Statements: []store.MeetingStatement{}}
	if i > 0 {
		s.Since = in.Meetings[i-1].At
	}
	return s, nil
}

func (s *ReviewState) request(asOf time.Time) activities.ReportRequest {
	return activities.ReportRequest{Dialogue: s.Dialogue, Meeting: s.Meeting, MeetingAt: s.MeetingAt, Since: s.Since, AsOf: asOf}
}

// admits reports why statement st may not be made at now, or nil: only
// after the draft and before statements close, by a coordinator of a
// party of the dialogue, about an activity whose milestones their party
// owns some of.
func (s *ReviewState) admits(st Statement, now time.Time) error {
	refuse := func(kind lifecycle.Kind, format string, args ...any) error {
		return &lifecycle.Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
	}
	switch {
	case s.Phase != PhaseDraft:
		return refuse(lifecycle.KindInvalidTransition, "statements on meeting %d open with its draft report and close %s", s.Meeting, s.StatementsDue.Format(time.RFC3339))
	case !now.Before(s.StatementsDue):
		return refuse(lifecycle.KindInvalidTransition, "statements on meeting %d closed at %s", s.Meeting, s.StatementsDue.Format(time.RFC3339))
	case !st.By.Has(lifecycle.RoleCoordinator):
		return refuse(lifecycle.KindForbidden, "only a coordinator of a party may make a statement")
	case !slices.Contains(s.Parties, string(st.By.Party)):
		return refuse(lifecycle.KindForbidden, "party %q is not a party of dialogue %s", st.By.Party, s.Dialogue)
	case !slices.Contains(s.Owners[st.Activity], string(st.By.Party)):
		return &lifecycle.Error{Kind: lifecycle.KindInvalidInput, Field: "activity",
			Message: fmt.Sprintf("party %s owes no statement on activity %q in dialogue %s: it owns no milestone of a running activity", st.By.Party, st.Activity, s.Dialogue)}
	case strings.TrimSpace(st.Body) == "" || len(st.Body) > maxStatementBytes:
		return &lifecycle.Error{Kind: lifecycle.KindInvalidInput, Field: "body", Message: fmt.Sprintf("a statement has a text of 1 to %d bytes", maxStatementBytes)}
	}
	return nil
}
