// Package workflows holds the Temporal workflow that runs one cooperation
// activity: a deterministic shell that feeds commands and clock ticks to the
// lifecycle core and records what the core decides.
package workflows

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"pacto/activities"
	"pacto/internal/lifecycle"
)

// Names under which the workflow and its handlers are registered.
const (
	// WorkflowName is the registered workflow type of a cooperation
	// activity.
	WorkflowName = "Cooperation"
	// LegacyWorkflowName is the type runs started before the rename carry;
	// the same code serves them, and continuing as new moves them to
	// WorkflowName.
	LegacyWorkflowName = "Activity"
	// TaskQueue is where Pacto's workers poll.
	TaskQueue = "pacto"
	// QueryState returns the current lifecycle.State.
	QueryState = "state"
	// SignalRetryRecord asks a run whose change the read model refused to
	// try recording it again now (see ErrRecordBlocked).
	SignalRetryRecord = "retry_record"
)

// Application error types of refusals that are not the core's.
const (
	// ErrRecordBlocked refuses a command while the activity's last change
	// waits to be recorded: the read model refused it, an administrator
	// has been told, and nothing more is accepted until it is recorded.
	ErrRecordBlocked = "record_blocked"
	// ErrBusy refuses a command for a moment while the run hands over to
	// its continuation; trying again shortly succeeds.
	ErrBusy = "busy"
	// ErrEnded refuses a publication decision once the activity has
	// ended: its run records nothing more, and the decision is recorded
	// in the read model instead (store.DecideEnded).
	ErrEnded = "ended"
)

// Update names, one per command; each takes a Request of that command.
const (
	UpdateAmend             = "amend"
	UpdateDecide            = "decide"
	UpdateReportProgress    = "report_progress"
	UpdateCompleteMilestone = "complete_milestone"
	UpdateRequestExtension  = "request_extension"
	UpdateDecideExtension   = "decide_extension"
	UpdateSuspend           = "suspend"
	UpdateResume            = "resume"
	UpdateCancel            = "cancel"
	UpdateAssignLanguages   = "assign_languages"
	// UpdatePublication takes a lifecycle.DecidePublication while the
	// activity has not ended (see ErrEnded).
	UpdatePublication = "publication"
)

// Typed search attributes, so the Temporal UI and CLI can find activities.
var (
	StatusKey         = temporal.NewSearchAttributeKeyKeyword("PactoStatus")
	PendingPartiesKey = temporal.NewSearchAttributeKeyKeywordList("PactoPendingParties")
	NextDueKey        = temporal.NewSearchAttributeKeyTime("PactoNextDue")
	DialogueKey       = temporal.NewSearchAttributeKeyKeyword("PactoDialogue")
)

// Bounds past which a run continues as new. Every step (an accepted Update
// or a clock tick) adds a bounded number of history events, so counting
// steps bounds a run's history the same way on every server and in the
// time-skipping test environment; the server's own length, size and
// suggestion are checked as well.
const (
	MaxStepsPerRun   = 100
	MaxHistoryEvents = 2000
	MaxHistoryBytes  = 2 << 20
)

// Input starts a run: the first run proposes, a continued run carries the
// state of the run before it and any events that run had not yet recorded.
type Input struct {
	Actor      lifecycle.Principal `json:"actor"`
	Propose    *lifecycle.Propose  `json:"propose,omitempty"`
	State      *lifecycle.State    `json:"state,omitempty"`
	Unrecorded []lifecycle.Event   `json:"unrecorded,omitempty"`
	// Restart, given with State and an admin as Actor, starts the
	// activity's workflow again from the read model's last snapshot after
	// its run was lost (see Restarted): the run records the restart before
	// anything else.
	Restart *lifecycle.Restart `json:"restart,omitempty"`
	// Version is the behaviour the run was started under, kept for the
	// run's life so its history replays the way it ran (see InputVersion).
	Version int `json:"version,omitempty"`
}

// InputVersion is the behaviour new runs start under; continuing as new
// moves a run to it. Versions:
//
//	0  Record runs as an ordinary activity.
//	1  Record runs as a local activity in the workflow task of the change.
//	2  Commands apply one at a time, each answered once recorded with a
//	   compact UpdateResult; a change the read model refuses blocks the
//	   activity instead of being retried for ever; continue-as-new records
//	   everything first; the core's rules 2 (bounded state).
//	3  The core's rules 3: material texts per authentic language. (Runs
//	   of any version take assign_languages, which moves an activity
//	   proposed before languages to them.)
//
// Versioning through the input, rather than workflow.GetVersion, spares
// every run the search-attribute upsert GetVersion makes. The version is
// also the core's rule version (lifecycle.State.Rules), so a rule change is
// gated per run the same way.
const InputVersion = lifecycle.CurrentRules

// Proposal is the input that starts a new activity's workflow.
func Proposal(actor lifecycle.Principal, p lifecycle.Propose) Input {
	p.Rules = InputVersion
	return Input{Actor: actor, Propose: &p, Version: InputVersion}
}

// Restarted is the input that starts a lost activity's workflow again
// from st, its last recorded state, by admin actor for reason. Like a
// run continuing as new, the restarted run takes the current version.
func Restarted(actor lifecycle.Principal, st lifecycle.State, reason string) Input {
	return Input{Actor: actor, State: &st, Restart: &lifecycle.Restart{Reason: reason}, Version: InputVersion}
}

// UpdateResult answers an accepted command (runs of version 2 on): where
// the activity stands after it, and whether the read model holds that,
// rather than the whole state, which the API reads from the read model.
type UpdateResult struct {
	Seq     int64            `json:"seq"`
	Version int              `json:"version"`
	Status  lifecycle.Status `json:"status"`
	// Recorded is false when the read model refused the change; it is
	// absent in answers from runs of older versions, which carry the
	// whole state instead.
	Recorded *bool `json:"recorded,omitempty"`
	// StateHash is the SHA-256 of the state after the command, as JSON, so
	// a replay that reaches another state fails.
	StateHash string `json:"state_hash,omitempty"`
}

// IsRecorded reports whether the read model holds the change.
func (u UpdateResult) IsRecorded() bool { return u.Recorded != nil && *u.Recorded }

// StateHash is the SHA-256 of a state as JSON, hex-encoded.
func StateHash(st lifecycle.State) string {
	b, _ := json.Marshal(st)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Request is the argument of every Update: who asks, and what.
type Request[C lifecycle.Command] struct {
	Actor   lifecycle.Principal `json:"actor"`
	Command C                   `json:"command"`
}

// runner is one run's mutable state. Workflow code runs one coroutine at a
// time, so handlers and the main loop share it without locks.
type runner struct {
	state lifecycle.State
	// unrecorded holds events applied to state but not yet written by Record.
	unrecorded []lifecycle.Event
	// steps counts the changes applied in this run.
	steps int
	// version is the run's Input.Version.
	version int
	attrs   searchAttrs

	// From version 2: recordedSeq is the last seq the read model holds from
	// this run; flushing is set while Record runs; blocked is set while the
	// read model refuses the unrecorded events; retry is an admin's request
	// to try again; draining refuses new commands while the run hands over
	// to its continuation.
	recordedSeq int64
	flushing    bool
	blocked     bool
	retry       bool
	draining    bool
	// cancelling is set while the run records a cancellation asked of
	// Temporal (see cancelled); commands are refused meanwhile.
	cancelling bool
}

// Cooperation is the workflow of one cooperation activity; its ID is the
// activity's ID. It returns the final state when the activity ends.
func Cooperation(ctx workflow.Context, in Input) (lifecycle.State, error) {
	r := &runner{version: in.Version}
	switch {
	case in.State != nil:
		r.state, r.unrecorded = *in.State, in.Unrecorded
		if in.Version >= 2 {
			// A continued run decides under its own version's rules.
			// (Older runs never carried the field; their states replay
			// byte for byte without it.)
			r.state.Rules = in.Version
		}
		if in.Restart != nil {
			events, err := lifecycle.Decide(r.state, *in.Restart, in.Actor, workflow.Now(ctx))
			if err != nil {
				return lifecycle.State{}, appError(err)
			}
			r.apply(events)
		}
	case in.Propose != nil:
		if id := workflow.GetInfo(ctx).WorkflowExecution.ID; in.Propose.ActivityID != id {
			return lifecycle.State{}, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("activity id %q does not match workflow id %q", in.Propose.ActivityID, id), "invalid_input", nil)
		}
		propose := *in.Propose
		propose.Rules = 0
		if in.Version >= 2 {
			propose.Rules = in.Version // the core decides under the run's version
		}
		events, err := lifecycle.Decide(lifecycle.State{}, propose, in.Actor, workflow.Now(ctx))
		if err != nil {
			return lifecycle.State{}, appError(err)
		}
		r.apply(events)
	default:
		return lifecycle.State{}, temporal.NewNonRetryableApplicationError("input has neither a proposal nor a state", "invalid_input", nil)
	}
	r.attrs = startedAttrs(ctx)
	if err := r.register(ctx); err != nil {
		return lifecycle.State{}, err
	}
	if r.version >= 2 {
		workflow.Go(ctx, func(ctx workflow.Context) {
			ch := workflow.GetSignalChannel(ctx, SignalRetryRecord)
			for ch.Receive(ctx, nil) {
				r.retry = true
			}
		})
	}
	st, err := r.run(ctx)
	if err != nil && errors.Is(ctx.Err(), workflow.ErrCanceled) {
		return r.cancelled(ctx, err)
	}
	return st, err
}

// cancelInTemporalChange versions the handling of a cancellation asked of
// Temporal. GetVersion is called only once a run is asked to cancel, so
// only such runs carry its marker (and its search attribute upsert);
// runs asked before the change replay as they ran, ending at once with
// nothing recorded.
const cancelInTemporalChange = "cancel-in-temporal"

// cancelRequestOptions bound the reading of who asked to cancel: if it
// cannot be read soon, the cancellation is recorded without it.
var cancelRequestOptions = workflow.LocalActivityOptions{
	StartToCloseTimeout:    10 * time.Second,
	ScheduleToCloseTimeout: time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second, MaximumAttempts: 4,
	},
}

// cancelled ends a run that an operator asked Temporal to cancel (the Web
// UI, the CLI, an SDK client), after recording it as the activity's
// cancellation: the audit event by the Temporal actor with who asked and
// why, the read model's status, and the notifications, like any change.
// Whatever the run had not recorded yet is recorded with it. The work
// goes on in a disconnected context, since the run's own is cancelled,
// and the run then closes as cancelled in Temporal.
func (r *runner) cancelled(ctx workflow.Context, cause error) (lifecycle.State, error) {
	if workflow.GetVersion(ctx, cancelInTemporalChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return r.state, cause
	}
	r.cancelling = true
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	log := workflow.GetLogger(ctx)
	run := workflow.GetInfo(ctx).WorkflowExecution
	var req activities.CancelRequest
	err := workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, cancelRequestOptions), activities.CancelRequestName,
		activities.CancelRequestInput{WorkflowID: run.ID, RunID: run.RunID}).Get(ctx, &req)
	if err != nil {
		log.Warn("could not read who asked Temporal to cancel the activity; recording the cancellation without it", "activity", r.state.ID, "error", err)
	}
	events, err := lifecycle.Decide(r.state, lifecycle.CancelInTemporal{Identity: req.Identity, Reason: req.Reason},
		lifecycle.Principal{ID: lifecycle.TemporalActor}, workflow.Now(ctx))
	if err != nil {
		log.Error("the cancellation asked of Temporal could not be decided", "activity", r.state.ID, "error", err)
	} else if len(events) > 0 {
		r.apply(events)
	}
	// A run blocked on a refused change tries once more: the refusal is
	// kept for admins (record_failures), and the reconciler reports the
	// activity if its read model still says it is open.
	r.blocked = false
	for len(r.unrecorded) > 0 && !r.blocked {
		if err := r.flush(ctx); err != nil {
			return r.state, err
		}
	}
	if r.blocked {
		log.Error("the read model refused the cancellation asked of Temporal; the activity is reported as diverged", "activity", r.state.ID)
	}
	return r.state, temporal.NewCanceledError()
}

// Register registers the activity workflow under its name and its legacy
// name, the delivery workflow and the digest workflow, on a worker or
// replayer.
func Register(w interface {
	RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions)
}) {
	w.RegisterWorkflowWithOptions(Cooperation, workflow.RegisterOptions{Name: WorkflowName})
	w.RegisterWorkflowWithOptions(Cooperation, workflow.RegisterOptions{Name: LegacyWorkflowName})
	w.RegisterWorkflowWithOptions(Delivery, workflow.RegisterOptions{Name: DeliveryWorkflowName})
	w.RegisterWorkflowWithOptions(Digest, workflow.RegisterOptions{Name: DigestWorkflowName})
	w.RegisterWorkflowWithOptions(Review, workflow.RegisterOptions{Name: ReviewWorkflowName})
}

func (r *runner) register(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (lifecycle.State, error) {
		return r.state, nil
	}); err != nil {
		return fmt.Errorf("register query: %w", err)
	}
	return errors.Join(
		handle[lifecycle.Amend](ctx, r, UpdateAmend),
		handle[lifecycle.DecideProposal](ctx, r, UpdateDecide),
		handle[lifecycle.ReportProgress](ctx, r, UpdateReportProgress),
		handle[lifecycle.CompleteMilestone](ctx, r, UpdateCompleteMilestone),
		handle[lifecycle.RequestExtension](ctx, r, UpdateRequestExtension),
		handle[lifecycle.DecideExtension](ctx, r, UpdateDecideExtension),
		handle[lifecycle.Suspend](ctx, r, UpdateSuspend),
		handle[lifecycle.Resume](ctx, r, UpdateResume),
		handle[lifecycle.Cancel](ctx, r, UpdateCancel),
		handle[lifecycle.AssignLanguages](ctx, r, UpdateAssignLanguages),
		handle[lifecycle.DecidePublication](ctx, r, UpdatePublication),
	)
}

// publicationChange versions the publication Update. Only runs that take
// one carry its marker, and no run before it could take one, so its
// oldest supported version is 1: a history without the marker that holds
// such an Update cannot exist.
const publicationChange = "publication-consent"

// publication reports whether cmd decides on publishing the activity.
func publication(cmd lifecycle.Command) bool {
	_, ok := cmd.(lifecycle.DecidePublication)
	return ok
}

// endedError refuses a publication decision on an activity that has
// ended, whose run records nothing more: the API records it in the read
// model, where no run can write after it.
func endedError(st lifecycle.State) error {
	return temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("the activity is %s: its publication is decided in the read model", st.Status), ErrEnded, nil)
}

// handle registers the Update for command type C. Its validator runs the
// core's Decide without applying anything, so a refused command never
// enters history; the handler decides again on the state it finds.
//
// From version 2 a handler waits until the changes before it are recorded,
// applies its command, and answers once its own change is recorded (or
// refused), so a change is never acknowledged before the read model holds
// it and the Record input carries one command's events at a time. Older
// runs answer at once with the whole state.
func handle[C lifecycle.Command](ctx workflow.Context, r *runner, name string) error {
	return workflow.SetUpdateHandlerWithOptions(ctx, name,
		func(ctx workflow.Context, req Request[C]) (any, error) {
			if publication(req.Command) {
				workflow.GetVersion(ctx, publicationChange, 1, 1)
			}
			if r.version < 2 {
				if publication(req.Command) && r.state.Status.Terminal() {
					return nil, endedError(r.state)
				}
				events, err := lifecycle.Decide(r.state, req.Command, req.Actor, workflow.Now(ctx))
				if err != nil {
					return nil, appError(err)
				}
				r.apply(events)
				return r.state, nil
			}
			if err := workflow.Await(ctx, func() bool { return r.blocked || (len(r.unrecorded) == 0 && !r.flushing) }); err != nil {
				return nil, err
			}
			if r.blocked {
				return nil, blockedError()
			}
			if publication(req.Command) && r.state.Status.Terminal() {
				return nil, endedError(r.state)
			}
			events, err := lifecycle.Decide(r.state, req.Command, req.Actor, workflow.Now(ctx))
			if err != nil {
				return nil, appError(err)
			}
			r.apply(events)
			res := UpdateResult{Seq: r.state.Seq, Version: r.state.Version, Status: r.state.Status, StateHash: StateHash(r.state)}
			if err := workflow.Await(ctx, func() bool { return r.recordedSeq >= res.Seq || r.blocked }); err != nil {
				return nil, err
			}
			recorded := r.recordedSeq >= res.Seq
			res.Recorded = &recorded
			return res, nil
		},
		workflow.UpdateHandlerOptions{
			Validator: func(ctx workflow.Context, req Request[C]) error {
				if r.cancelling {
					return appError(&lifecycle.Error{Kind: lifecycle.KindInvalidTransition, Message: "the activity is being cancelled in Temporal"})
				}
				if r.version >= 2 {
					switch {
					case r.blocked:
						return blockedError()
					case r.draining:
						return temporal.NewNonRetryableApplicationError("the activity is handing over to a new run; try again in a moment", ErrBusy, nil)
					}
				}
				if publication(req.Command) && r.state.Status.Terminal() {
					return endedError(r.state)
				}
				_, err := lifecycle.Decide(r.state, req.Command, req.Actor, workflow.Now(ctx))
				return appError(err)
			},
		})
}

func blockedError() error {
	return temporal.NewNonRetryableApplicationError(
		"the activity's last change could not be recorded; an administrator has been told, and no further change is accepted until it is",
		ErrRecordBlocked, nil)
}

func (r *runner) apply(events []lifecycle.Event) {
	for _, e := range events {
		r.state = lifecycle.Apply(r.state, e)
	}
	r.unrecorded = append(r.unrecorded, events...)
	r.steps++
}

// run is the main loop: record what changed, then sleep until the next
// change or the next wake-up the core asks for, whichever comes first.
func (r *runner) run(ctx workflow.Context) (lifecycle.State, error) {
	changed := func() bool { return len(r.unrecorded) > 0 }
	for {
		if r.continueAsNewDue(ctx) && !r.state.Status.Terminal() {
			return r.state, r.continueAsNew(ctx)
		}
		if r.blocked {
			// The read model refused the unrecorded events: try again on
			// an admin's request or after a while, and meanwhile neither
			// accept commands nor let the clock act.
			if _, err := workflow.AwaitWithTimeout(ctx, blockedRetryEvery, func() bool { return r.retry }); err != nil {
				return r.state, err
			}
			r.retry, r.blocked = false, false
		}
		if err := r.flush(ctx); err != nil {
			return r.state, err
		}
		if changed() {
			continue // more arrived while recording, or the record was refused
		}
		if r.state.Status.Terminal() {
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) || changed() }); err != nil {
				return r.state, err
			}
			if changed() {
				continue
			}
			return r.state, nil
		}
		wake, ok := lifecycle.NextWake(r.state)
		if !ok {
			if err := workflow.Await(ctx, changed); err != nil {
				return r.state, err
			}
			continue
		}
		if d := wake.Sub(workflow.Now(ctx)); d > 0 {
			woken, err := workflow.AwaitWithTimeout(ctx, d, changed)
			if err != nil {
				return r.state, err
			}
			if woken {
				continue // something changed: re-arm for the new NextWake
			}
		}
		events, err := lifecycle.Decide(r.state, lifecycle.Tick{}, lifecycle.Principal{ID: lifecycle.ClockActor}, workflow.Now(ctx))
		if err != nil {
			return r.state, fmt.Errorf("clock tick: %w", err)
		}
		if len(events) == 0 {
			// The core asked to be woken but owed nothing; never spin.
			workflow.GetLogger(ctx).Warn("clock tick produced no events", "wake", wake)
			if _, err := workflow.AwaitWithTimeout(ctx, time.Minute, changed); err != nil {
				return r.state, err
			}
			continue
		}
		r.apply(events)
	}
}

// blockedRetryEvery is how often a run whose change the read model refused
// tries again by itself; an admin's retry signal tries at once.
const blockedRetryEvery = time.Hour

// continueAsNew hands the activity to a fresh run. Version 2 refuses new
// commands meanwhile and records everything first, so the next run's
// input is the state alone (unless the read model refuses, in which case
// the unrecorded events travel with it). Older versions wait for handlers
// and carry what is unrecorded: handlers finish synchronously there.
func (r *runner) continueAsNew(ctx workflow.Context) error {
	if r.version >= 2 {
		r.draining = true
		for !r.blocked {
			if err := r.flush(ctx); err != nil {
				return err
			}
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) || len(r.unrecorded) > 0 }); err != nil {
				return err
			}
			if len(r.unrecorded) == 0 {
				break
			}
		}
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	return workflow.NewContinueAsNewError(ctx, WorkflowName, Input{State: &r.state, Unrecorded: r.unrecorded, Version: InputVersion})
}

func (r *runner) continueAsNewDue(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	return r.steps >= MaxStepsPerRun ||
		info.GetContinueAsNewSuggested() ||
		info.GetCurrentHistoryLength() >= MaxHistoryEvents ||
		info.GetCurrentHistorySize() >= MaxHistoryBytes
}

// recordOptions retry Record until it succeeds: the read model may be down
// for a while, but no change may be lost.
var recordOptions = workflow.ActivityOptions{
	// A Record is one short transaction: if a worker dies mid-way, retry
	// on another soon rather than after a long timeout.
	StartToCloseTimeout: 10 * time.Second,
	RetryPolicy:         recordRetry,
}

// recordRetry retries Record for as long as it takes.
var recordRetry = &temporal.RetryPolicy{
	InitialInterval:    time.Second,
	BackoffCoefficient: 2,
	MaximumInterval:    time.Minute,
}

// localRecordOptions run Record inside the workflow task that made the
// change: no activity task round trip through the server, and an Update's
// answer leaves only once its change is in the read model. Retries whose
// backoff outgrows the workflow task become durable timers (the SDK does
// this), so a long database outage holds no task open.
var localRecordOptions = workflow.LocalActivityOptions{
	StartToCloseTimeout: 10 * time.Second,
	// A local activity's retries stop at its schedule-to-close timeout,
	// which would otherwise default to the 10 s above: give no practical
	// bound, as the ordinary activity had none.
	ScheduleToCloseTimeout: 10 * 365 * 24 * time.Hour,
	RetryPolicy:            recordRetry,
}

// flush records the unrecorded events, in order, with the snapshot they
// lead to, and keeps the search attributes in step. Handlers may apply more
// events while Record runs; the main loop comes back for them after it has
// had the chance to continue as new, which a steady stream of Updates
// would otherwise put off for ever.
func (r *runner) flush(ctx workflow.Context) error {
	if len(r.unrecorded) > 0 {
		in := activities.RecordInput{Snapshot: r.state, Events: r.unrecorded, Refusable: r.version >= 2}
		r.unrecorded = nil
		var f workflow.Future
		if r.version >= 1 {
			f = workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, localRecordOptions), activities.RecordName, in)
		} else {
			f = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, recordOptions), activities.RecordName, in)
		}
		r.flushing = true
		err := f.Get(ctx, nil)
		r.flushing = false
		var ae *temporal.ApplicationError
		switch {
		case err == nil:
			r.recordedSeq = in.Snapshot.Seq
		case temporal.IsCanceledError(err):
			// The run was asked to cancel while recording: keep the
			// events for the cancellation to record (Record is
			// idempotent on seq, should this attempt have gone through).
			r.unrecorded = append(in.Events, r.unrecorded...)
			return fmt.Errorf("record activity %s up to seq %d: %w", r.state.ID, in.Snapshot.Seq, err)
		case r.version >= 2 && errors.As(err, &ae) && ae.Type() == activities.ErrRecordRefused:
			// Keep the events to record later; the activity takes no
			// more commands until they are (see ErrRecordBlocked).
			r.unrecorded = append(in.Events, r.unrecorded...)
			r.blocked = true
			workflow.GetLogger(ctx).Error("the read model refused a change; the activity is blocked until it is recorded",
				"activity", r.state.ID, "seq", in.Snapshot.Seq, "error", err)
			return nil
		default:
			return fmt.Errorf("record activity %s up to seq %d: %w", r.state.ID, in.Snapshot.Seq, err)
		}
	}
	return r.upsertSearchAttributes(ctx)
}

type searchAttrs struct {
	status   lifecycle.Status
	pending  []lifecycle.PartyCode
	nextDue  time.Time
	dialogue string
	set      bool
}

// attrsOf is what the search attributes say of a state.
func attrsOf(st lifecycle.State) searchAttrs {
	next, _ := lifecycle.NextDue(st)
	return searchAttrs{
		status:   st.Status,
		pending:  lifecycle.PendingParties(st),
		nextDue:  next,
		dialogue: st.Dialogue,
		set:      true,
	}
}

func (a searchAttrs) equal(b searchAttrs) bool {
	return a.set && b.set && a.status == b.status && slices.Equal(a.pending, b.pending) &&
		a.nextDue.Equal(b.nextDue) && a.dialogue == b.dialogue
}

func (a searchAttrs) updates() []temporal.SearchAttributeUpdate {
	pending := make([]string, len(a.pending))
	for i, p := range a.pending {
		pending[i] = string(p)
	}
	updates := []temporal.SearchAttributeUpdate{
		StatusKey.ValueSet(string(a.status)),
		PendingPartiesKey.ValueSet(pending),
		DialogueKey.ValueSet(a.dialogue),
	}
	if a.nextDue.IsZero() {
		return append(updates, NextDueKey.ValueUnset())
	}
	return append(updates, NextDueKey.ValueSet(a.nextDue))
}

// StartSearchAttributes are the search attributes to start an activity's
// workflow with, given the state its proposal leads to: when the workflow
// finds them already set it need not upsert them, which saves the server
// a visibility write per new activity.
func StartSearchAttributes(st lifecycle.State) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(attrsOf(st).updates()...)
}

// startedAttrs reads the search attributes the run started with (set by
// StartSearchAttributes, or carried over by continue-as-new).
func startedAttrs(ctx workflow.Context) searchAttrs {
	sa := workflow.GetTypedSearchAttributes(ctx)
	status, ok1 := sa.GetKeyword(StatusKey)
	pending, ok2 := sa.GetKeywordList(PendingPartiesKey)
	dialogue, ok3 := sa.GetKeyword(DialogueKey)
	if !ok1 || !ok2 || !ok3 {
		return searchAttrs{}
	}
	next, _ := sa.GetTime(NextDueKey)
	a := searchAttrs{status: lifecycle.Status(status), dialogue: dialogue, nextDue: next, set: true}
	for _, p := range pending {
		a.pending = append(a.pending, lifecycle.PartyCode(p))
	}
	return a
}

func (r *runner) upsertSearchAttributes(ctx workflow.Context) error {
	want := attrsOf(r.state)
	if r.attrs.equal(want) {
		return nil
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, want.updates()...); err != nil {
		return fmt.Errorf("upsert search attributes: %w", err)
	}
	r.attrs = want
	return nil
}

// appError turns a core refusal into a non-retryable application error
// whose type is the core's error kind and whose details carry the core
// error, so clients can map it (see CoreError).
func appError(err error) error {
	if err == nil {
		return nil
	}
	var ce *lifecycle.Error
	if errors.As(err, &ce) {
		return temporal.NewNonRetryableApplicationError(ce.Message, string(ce.Kind), nil, *ce)
	}
	return err
}

// CoreError recovers the core's typed error from an error returned by an
// Update or a workflow start, if it carries one.
func CoreError(err error) (*lifecycle.Error, bool) {
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) {
		return nil, false
	}
	var ce lifecycle.Error
	if ae.HasDetails() && ae.Details(&ce) == nil && ce.Kind != "" {
		return &ce, true
	}
	if ae.Type() == "" {
		return nil, false
	}
	return &lifecycle.Error{Kind: lifecycle.Kind(ae.Type()), Message: ae.Message()}, true
}

// SearchAttributes lists Pacto's custom search attributes and their types,
// for registering on a namespace.
func SearchAttributes() map[string]enumspb.IndexedValueType {
	return map[string]enumspb.IndexedValueType{
		StatusKey.GetName():         enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		PendingPartiesKey.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST,
		NextDueKey.GetName():        enumspb.INDEXED_VALUE_TYPE_DATETIME,
		DialogueKey.GetName():       enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	}
}

// RegisterSearchAttributes adds Pacto's search attributes to a namespace;
// attributes already there are left as they are. It reports whether it
// added any.
func RegisterSearchAttributes(ctx context.Context, c client.Client, namespace string) (added bool, err error) {
	have, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return false, fmt.Errorf("list search attributes of %s: %w", namespace, err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range SearchAttributes() {
		if _, ok := have.GetCustomAttributes()[name]; !ok {
			missing[name] = typ
		}
	}
	if len(missing) == 0 {
		return false, nil
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: missing})
	var exists *serviceerror.AlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return false, fmt.Errorf("add search attributes to %s: %w", namespace, err)
	}
	return true, nil
}
