package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"pacto/activities"
	"pacto/internal/lifecycle"
	"pacto/internal/review"
	"pacto/internal/store"
)

// RecordMinutes is what the minutes update takes: the coordinator
// recording them, the language their plain texts are in, and the minutes.
type RecordMinutes struct {
	By       lifecycle.Principal      `json:"by"`
	Language string                   `json:"language,omitempty"`
	Content  lifecycle.MinutesContent `json:"content"`
}

// SignMinutes is what the sign_minutes update takes: the approver
// signing for their party, and the version they read.
type SignMinutes struct {
	By      lifecycle.Principal `json:"by"`
	Version int                 `json:"version"`
}

// cycle is a version-2 review run: its state and what it needs to change
// it one step at a time.
type cycle struct {
	in ReviewInput
	s  *ReviewState
	id string
	// mu orders the changes that append to the meeting's audit chain, so
	// that their sequences reach the log in order.
	mu workflow.Mutex
}

// reviewCycle runs the meeting's whole cycle: it claims the meeting (a
// meeting has one run, whatever the schedule starts), drafts the report
// and sends it with the agenda, reminds the parties that owe statements,
// freezes the report at the meeting's time with its digest in the audit
// log, then waits for the minutes to be recorded and co-signed and makes
// the proposals they agreed. A moved meeting moves its run's times until
// the report is frozen; a cancelled one ends it.
func reviewCycle(ctx workflow.Context, in ReviewInput, s *ReviewState) (ReviewState, error) {
	c := &cycle{in: in, s: s, id: workflow.GetInfo(ctx).WorkflowExecution.ID, mu: workflow.NewMutex(ctx)}
	actx := workflow.WithActivityOptions(ctx, reviewOptions)
	if err := workflow.SetQueryHandler(ctx, QueryReviewState, func() (ReviewState, error) { return *s, nil }); err != nil {
		return *s, fmt.Errorf("register query: %w", err)
	}
	var holder string
	claim := activities.ClaimRequest{Dialogue: s.Dialogue, Meeting: s.Meeting, WorkflowID: c.id, At: s.MeetingAt}
	if err := workflow.ExecuteActivity(actx, activities.ClaimMeetingName, claim).Get(ctx, &holder); err != nil {
		return *s, err
	}
	if holder != c.id {
		// The meeting was moved and the schedule started this run for it
		// again; the run that holds it follows the move.
		s.Phase = PhaseDuplicate
		return *s, nil
	}
	if err := c.register(ctx); err != nil {
		return *s, err
	}
	reschedule := workflow.GetSignalChannel(ctx, SignalReschedule)

	cancelled, err := c.waitUntil(ctx, reschedule, func() time.Time { return s.DraftAt })
	if err != nil || cancelled {
		return *s, err
	}
	var draft activities.ReportKept
	if err := workflow.ExecuteActivity(actx, activities.DraftReportName, s.request(workflow.Now(ctx))).Get(ctx, &draft); err != nil {
		return *s, err
	}
	err = c.change(ctx, func(seq func() int64) (store.MeetingChange, func(), error) {
		e := c.event(ctx, seq(), lifecycle.EventMeetingDrafted)
		e.Digest, e.Due = draft.SHA256, s.StatementsDue
		// The phase moves before the change is recorded: the meetings
		// row says "draft" the moment it is written, and a statement sent
		// then must find statements open. It waits for this change to be
		// recorded (the mutex) before its own is.
		s.Phase, s.DraftSHA256, s.Owners, s.Parties = PhaseDraft, draft.SHA256, draft.Owners, draft.Parties
		return c.meetingChange(PhaseDraft, e), func() {}, nil
	}, draft.Agenda)
	if err != nil {
		return *s, err
	}

	// Reminders every RemindEvery from the draft while statements are
	// open, to the parties that still owe some; slot counts the turns,
	// s.Reminders the reminders sent.
	slot := 0
	for {
		next := s.DraftAt.Add(time.Duration(slot+1) * in.RemindEvery)
		if !next.Before(s.StatementsDue) {
			break
		}
		cancelled, err := c.waitUntil(ctx, reschedule, func() time.Time { return s.DraftAt.Add(time.Duration(slot+1) * in.RemindEvery) })
		if err != nil || cancelled {
			return *s, err
		}
		if !workflow.Now(ctx).Before(s.StatementsDue) {
			break
		}
		slot++
		if err := c.remind(ctx); err != nil {
			return *s, err
		}
	}
	cancelled, err = c.waitUntil(ctx, reschedule, func() time.Time { return s.MeetingAt })
	if err != nil || cancelled {
		return *s, err
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
	err = c.change(ctx, func(seq func() int64) (store.MeetingChange, func(), error) {
		e := c.event(ctx, seq(), lifecycle.EventReportFrozen)
		e.Digest = frozen.SHA256
		e.Parties = partyCodes(frozen.Missing)
		if len(frozen.Differences) > 0 {
			e.Comment = fmt.Sprintf("%d differences from the audit log", len(frozen.Differences))
		}
		// As with the draft: minutes sent the moment the row says
		// "frozen" find the minutes open.
		s.Phase, s.FrozenSHA256, s.Differences = PhaseFrozen, frozen.SHA256, frozen.Differences
		return c.meetingChange(PhaseFrozen, e), func() {}, nil
	}, nil)
	if err != nil {
		return *s, err
	}

	// The minutes: recorded and co-signed through the updates, for as
	// long as it takes.
	if err := workflow.Await(ctx, func() bool { return s.Minutes != nil && s.Minutes.Adopted() }); err != nil {
		return *s, err
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return *s, err
	}
	var agreed activities.AgreedResult
	if len(s.Minutes.NewActivities) > 0 {
		req := activities.AgreedRequest{Dialogue: s.Dialogue, Meeting: s.Meeting, Principal: s.Minutes.RecordedBy, Agreed: s.Minutes.NewActivities}
		if err := workflow.ExecuteActivity(actx, activities.ProposeAgreedName, req).Get(ctx, &agreed); err != nil {
			return *s, err
		}
	}
	err = c.change(ctx, func(seq func() int64) (store.MeetingChange, func(), error) {
		e := c.event(ctx, seq(), lifecycle.EventMinutesAdopted)
		e.Version = s.Minutes.Version
		for _, id := range agreed.Activities {
			if id != "" {
				e.Activities = append(e.Activities, id)
			}
		}
		var problems []string
		for i, p := range agreed.Problems {
			if p != "" {
				problems = append(problems, fmt.Sprintf("new activity %d: %s", i+1, p))
			}
		}
		e.Comment = strings.Join(problems, "; ")
		return c.meetingChange(PhaseClosed, e), func() { s.Phase, s.Proposed = PhaseClosed, e.Activities }, nil
	}, nil)
	return *s, err
}

// register sets the run's updates: statements while they are open, and
// the minutes and their signatures once the report is frozen.
func (c *cycle) register(ctx workflow.Context) error {
	s := c.s
	err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateStatement,
		func(ctx workflow.Context, st Statement) (store.MeetingStatement, error) {
			made := store.MeetingStatement{ID: workflow.GetCurrentUpdateInfo(ctx).ID, Activity: st.Activity,
				Party: string(st.By.Party), Author: st.By.ID, Body: strings.TrimSpace(st.Body), MadeAt: workflow.Now(ctx)}
			err := c.change(ctx, func(seq func() int64) (store.MeetingChange, func(), error) {
				e := c.event(ctx, seq(), lifecycle.EventStatementMade)
				e.Actor, e.Party, e.Activities = st.By.ID, st.By.Party, []string{st.Activity}
				ch := c.meetingChange(s.Phase, e)
				ch.Statement = &made
				return ch, func() { s.Statements = append(s.Statements, made) }, nil
			}, nil)
			return made, err
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, st Statement) error {
			return appError(s.admits(st, workflow.Now(ctx)))
		}})
	if err != nil {
		return fmt.Errorf("register update %s: %w", UpdateStatement, err)
	}
	parties := func() []lifecycle.PartyCode { return partyCodes(s.Parties) }
	err = minutesUpdate(ctx, c, UpdateMinutes, lifecycle.EventMinutesRecorded,
		func(m lifecycle.Minutes, r RecordMinutes, now time.Time) (lifecycle.Principal, lifecycle.Minutes, error) {
			next, err := lifecycle.RecordMinutes(m, parties(), r.By, r.Language, r.Content, now)
			return r.By, next, err
		})
	if err != nil {
		return err
	}
	return minutesUpdate(ctx, c, UpdateSignMinutes, lifecycle.EventMinutesSigned,
		func(m lifecycle.Minutes, r SignMinutes, now time.Time) (lifecycle.Principal, lifecycle.Minutes, error) {
			next, err := lifecycle.SignMinutes(m, parties(), r.By, r.Version, now)
			return r.By, next, err
		})
}

// minutesUpdate registers update name, which takes the minutes one step
// (step gives who took it and the minutes after it), recorded as an event
// of type t. Its validator refuses, before anything is recorded, a step
// the minutes' rules refuse or one taken before the report is frozen.
func minutesUpdate[R any](ctx workflow.Context, c *cycle, name string, t lifecycle.EventType,
	step func(lifecycle.Minutes, R, time.Time) (lifecycle.Principal, lifecycle.Minutes, error)) error {
	s := c.s
	err := workflow.SetUpdateHandlerWithOptions(ctx, name,
		func(ctx workflow.Context, r R) (lifecycle.Minutes, error) {
			var next lifecycle.Minutes
			err := c.change(ctx, func(seq func() int64) (store.MeetingChange, func(), error) {
				by, m, err := step(c.minutes(), r, workflow.Now(ctx))
				if err != nil {
					return store.MeetingChange{}, nil, err
				}
				next = m
				e := c.event(ctx, seq(), t)
				e.Actor, e.Party, e.Version = by.ID, by.Party, m.Version
				ch := c.meetingChange(s.Phase, e)
				ch.Minutes = &m
				return ch, func() { s.Minutes = &m }, nil
			}, nil)
			return next, appError(err)
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, r R) error {
			if err := c.minutesOpen(); err != nil {
				return err
			}
			_, _, err := step(c.minutes(), r, workflow.Now(ctx))
			return appError(err)
		}})
	if err != nil {
		return fmt.Errorf("register update %s: %w", name, err)
	}
	return nil
}

// minutesOpen refuses the minutes before the meeting's report is frozen.
func (c *cycle) minutesOpen() error {
	if c.s.Phase != PhaseFrozen {
		return appError(&lifecycle.Error{Kind: lifecycle.KindInvalidTransition,
			Message: fmt.Sprintf("the minutes of meeting %d are recorded after the meeting, once its report is frozen", c.s.Meeting)})
	}
	return nil
}

func (c *cycle) minutes() lifecycle.Minutes {
	if c.s.Minutes == nil {
		return lifecycle.Minutes{}
	}
	return *c.s.Minutes
}

// change makes one change of the meeting: under the run's mutex, make
// build makes it from the sequence numbers it takes, the change is recorded,
// and only then is its apply run on the state. A change build refuses, or
// that cannot be recorded, leaves the state as it was.
func (c *cycle) change(ctx workflow.Context, build func(seq func() int64) (store.MeetingChange, func(), error), agenda []store.AgendaItem) error {
	if err := c.mu.Lock(ctx); err != nil {
		return err
	}
	defer c.mu.Unlock()
	next := c.s.Seq
	ch, apply, err := build(func() int64 { next++; return next })
	if err != nil {
		return err
	}
	ch.Agenda = agenda
	actx := workflow.WithActivityOptions(ctx, reviewOptions)
	if err := workflow.ExecuteActivity(actx, activities.RecordMeetingName, ch).Get(ctx, nil); err != nil {
		return err
	}
	c.s.Seq = next
	apply()
	return nil
}

// event is a meeting event of type t at sequence seq, the clock's unless
// its caller names an actor.
func (c *cycle) event(ctx workflow.Context, seq int64, t lifecycle.EventType) lifecycle.Event {
	return lifecycle.Event{Seq: seq, Type: t, At: workflow.Now(ctx), Actor: lifecycle.ClockActor, Meeting: c.s.Meeting}
}

// meetingChange is the change recording e, leaving the meeting in phase.
func (c *cycle) meetingChange(phase string, e ...lifecycle.Event) store.MeetingChange {
	return store.MeetingChange{Dialogue: c.s.Dialogue, Meeting: c.s.Meeting, WorkflowID: c.id,
		At: c.s.MeetingAt, Phase: phase, Events: e}
}

// remind tells the coordinators of the parties that still owe statements.
func (c *cycle) remind(ctx workflow.Context) error {
	s := c.s
	var owing []lifecycle.PartyCode
	for _, p := range s.Parties {
		for act, owners := range s.Owners {
			if slices.Contains(owners, p) && !slices.ContainsFunc(s.Statements, func(st store.MeetingStatement) bool {
				return st.Activity == act && st.Party == p
			}) {
				owing = append(owing, lifecycle.PartyCode(p))
				break
			}
		}
	}
	if len(owing) == 0 {
		return nil // nobody owes one: the turn passes quietly
	}
	return c.change(ctx, func(seq func() int64) (store.MeetingChange, func(), error) {
		e := c.event(ctx, seq(), lifecycle.EventStatementReminder)
		e.Parties, e.Due, e.Notice = owing, s.StatementsDue, s.Reminders+1
		return c.meetingChange(s.Phase, e), func() { s.Reminders++ }, nil
	}, nil)
}

// waitUntil sleeps until at() (read again after each reschedule) and
// follows the calendar's changes meanwhile; true when the meeting was
// cancelled, which ends the run.
func (c *cycle) waitUntil(ctx workflow.Context, reschedule workflow.ReceiveChannel, at func() time.Time) (bool, error) {
	for {
		wait := at().Sub(workflow.Now(ctx))
		if wait <= 0 {
			return false, nil
		}
		tctx, stop := workflow.WithCancel(ctx)
		fired, told := false, false
		// A calendar whose every meeting is cancelled comes as null: it is
		// a change all the same, one that cancels this meeting.
		var meetings []review.Meeting
		sel := workflow.NewSelector(ctx)
		sel.AddFuture(workflow.NewTimer(tctx, wait), func(f workflow.Future) { fired = f.Get(ctx, nil) == nil })
		sel.AddReceive(reschedule, func(ch workflow.ReceiveChannel, _ bool) { ch.Receive(ctx, &meetings); told = true })
		sel.Select(ctx)
		stop()
		if fired {
			continue
		}
		if !told {
			if err := ctx.Err(); err != nil {
				return false, err
			}
			continue
		}
		cancelled, err := c.follow(ctx, meetings)
		if err != nil || cancelled {
			return cancelled, err
		}
	}
}

// follow applies the calendar's meetings to the run's meeting: moved, it
// takes the new times (and, once drafted, says so); gone, it is
// cancelled.
func (c *cycle) follow(ctx workflow.Context, meetings []review.Meeting) (bool, error) {
	s := c.s
	i := slices.IndexFunc(meetings, func(m review.Meeting) bool { return m.Number == s.Meeting })
	if i < 0 {
		err := c.change(ctx, func(seq func() int64) (store.MeetingChange, func(), error) {
			return c.meetingChange(PhaseCancelled, c.event(ctx, seq(), lifecycle.EventMeetingCancelled)),
				func() { s.Phase = PhaseCancelled }, nil
		}, nil)
		return err == nil, err
	}
	m := meetings[i]
	since := time.Time{}
	if i > 0 {
		since = meetings[i-1].At
	}
	if m.At.Equal(s.MeetingAt) {
		s.Since = since
		return false, nil
	}
	err := c.change(ctx, func(seq func() int64) (store.MeetingChange, func(), error) {
		var events []lifecycle.Event
		if s.Phase == PhaseDraft {
			e := c.event(ctx, seq(), lifecycle.EventMeetingMoved)
			e.Due = m.At
			events = append(events, e)
		}
		ch := c.meetingChange(s.Phase, events...)
		ch.At = m.At
		return ch, func() {
			s.MeetingAt, s.Since = m.At, since
			s.DraftAt, s.StatementsDue = m.At.Add(-c.in.DraftBefore), m.At.Add(-c.in.StatementsBefore)
		}, nil
	}, nil)
	return false, err
}

func partyCodes(ss []string) []lifecycle.PartyCode {
	out := make([]lifecycle.PartyCode, len(ss))
	for i, s := range ss {
		out[i] = lifecycle.PartyCode(s)
	}
	return out
}
