package review

import (
	"context"
	"fmt"
	"slices"
	"time"

	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// changeTypes are the audit events a report lists as changes, and the
// extension approvals it counts.
var changeTypes = []lifecycle.EventType{
	lifecycle.EventProposed, lifecycle.EventActivated, lifecycle.EventDeclined,
	lifecycle.EventCancelled, lifecycle.EventCompleted, lifecycle.EventExtensionApproved,
}

// Compile builds a dialogue's report for a meeting from the read model:
// the stored snapshot of every activity proposed by asOf, with its
// milestones' states at asOf, and the changes and extensions granted in
// (since, asOf] from the audit log. The snapshots are the latest the read
// model holds, so asOf is meant to be the time of compiling; a milestone
// completed after asOf still counts as open.
func Compile(ctx context.Context, st *store.Store, dialogue, meeting string, meetingAt, since, asOf time.Time) (Report, error) {
	rep, err := frame(ctx, st, dialogue, meeting, meetingAt, since, asOf)
	if err != nil {
		return Report{}, err
	}
	states, err := st.ReviewActivities(ctx, dialogue, asOf)
	if err != nil {
		return Report{}, fmt.Errorf("compile report of %s: %w", dialogue, err)
	}
	events, err := st.ReviewEvents(ctx, dialogue, changeTypes, since, asOf)
	if err != nil {
		return Report{}, fmt.Errorf("compile report of %s: %w", dialogue, err)
	}
	for _, s := range states {
		rep.Activities = append(rep.Activities, activityReport(s, asOf))
	}
	rep.finish(events)
	return rep, nil
}

// Recompute builds the same figures as Compile from the audit log alone:
// it replays each activity's recorded events up to asOf with the core's
// own Apply, checking every hash chain on the way. A report whose figures
// differ from Recompute's does not rest on the audit log (see
// Differences).
func Recompute(ctx context.Context, st *store.Store, dialogue, meeting string, meetingAt, since, asOf time.Time) (Report, error) {
	rep, err := frame(ctx, st, dialogue, meeting, meetingAt, since, asOf)
	if err != nil {
		return Report{}, err
	}
	var events []store.TypedEvent
	err = st.ReplayDialogue(ctx, dialogue, asOf, func(id string, evs []store.AuditedEvent) error {
		var s lifecycle.State
		for _, e := range evs {
			s = lifecycle.Apply(s, e.Event)
			if e.RowAt.After(since) && slices.Contains(changeTypes, e.Type) {
				events = append(events, store.TypedEvent{Activity: id, Type: e.Type})
			}
		}
		rep.Activities = append(rep.Activities, activityReport(s, asOf))
		return nil
	})
	if err != nil {
		return Report{}, fmt.Errorf("recompute report of %s: %w", dialogue, err)
	}
	rep.finish(events)
	return rep, nil
}

// frame starts a report with what the dialogue itself says: its name,
// parties and languages.
func frame(ctx context.Context, st *store.Store, dialogue, meeting string, meetingAt, since, asOf time.Time) (Report, error) {
	name, err := st.DialogueName(ctx, dialogue)
	if err != nil {
		return Report{}, fmt.Errorf("report of dialogue %s: %w", dialogue, err)
	}
	f, err := st.DialogueFrame(ctx, dialogue)
	if err != nil {
		return Report{}, fmt.Errorf("report of dialogue %s: %w", dialogue, err)
	}
	all, err := st.Parties(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("report of dialogue %s: %w", dialogue, err)
	}
	names := make(map[string]string, len(all))
	for _, p := range all {
		names[p.Code] = p.Name
	}
	rep := Report{
		Dialogue: dialogue, DialogueName: name, Meeting: meeting,
		MeetingAt: meetingAt, Since: since, AsOf: asOf,
		Languages:  append([]string{}, f.Languages...),
		Parties:    make([]Party, len(f.Parties)),
		Activities: []ActivityReport{},
	}
	for i, p := range f.Parties {
		rep.Parties[i] = Party{Code: p.Code, Name: names[string(p.Code)], Language: p.Language, TimeZone: p.TimeZone}
	}
	return rep, nil
}

// activityReport is where an activity and its milestones stand at asOf.
func activityReport(s lifecycle.State, asOf time.Time) ActivityReport {
	a := ActivityReport{ID: s.ID, Title: s.Title, Status: s.Status,
		Parties: make([]lifecycle.PartyCode, len(s.Parties)), Milestones: make([]MilestoneReport, len(s.Milestones))}
	for i, p := range s.Parties {
		a.Parties[i] = p.Code
	}
	for i, m := range s.Milestones {
		r := MilestoneReport{ID: m.ID, Title: m.Title, Owner: m.Owner, Term: m.Term, State: milestoneState(m, asOf)}
		if r.Term == "" {
			r.Term = m.Horizon // given, or derived only once the activity is active
		}
		if !m.DueAt.IsZero() {
			r.DueAt = new(m.DueAt)
		}
		if m.Status == lifecycle.MilestoneCompleted && !m.CompletedAt.After(asOf) {
			r.CompletedAt = new(m.CompletedAt)
		}
		if in := m.Indicator; in != nil {
			r.Indicator = &Indicator{Baseline: in.Baseline, Target: in.Target, Actual: in.Actual, Unit: in.Unit}
		}
		a.Milestones[i] = r
	}
	return a
}

// milestoneState is a milestone's state at asOf.
func milestoneState(m lifecycle.Milestone, asOf time.Time) string {
	switch {
	case m.Status == lifecycle.MilestonePending:
		return StatePending
	case m.Status == lifecycle.MilestoneCompleted && !m.CompletedAt.After(asOf):
		if m.CompletedAt.After(m.DueAt) {
			return StateLate
		}
		return StateOnTime
	case m.DueAt.Before(asOf):
		return StateOverdue
	default:
		return StateUpcoming
	}
}

// counted reports whether an activity's milestones count in the totals:
// not those of an activity declined, expired or cancelled, which nobody
// is working towards any more (they are still listed).
func counted(s lifecycle.Status) bool {
	switch s {
	case lifecycle.StatusDeclined, lifecycle.StatusExpired, lifecycle.StatusCancelled:
		return false
	}
	return true
}

// finish adds the changes and extensions granted from the window's audit
// events, and the counts.
func (r *Report) finish(events []store.TypedEvent) {
	granted := map[string]int{}
	lists := map[lifecycle.EventType]*[]string{
		lifecycle.EventProposed: &r.Changes.Proposed, lifecycle.EventActivated: &r.Changes.Activated,
		lifecycle.EventDeclined: &r.Changes.Declined, lifecycle.EventCancelled: &r.Changes.Cancelled,
		lifecycle.EventCompleted: &r.Changes.Completed,
	}
	for _, e := range events {
		if e.Type == lifecycle.EventExtensionApproved {
			granted[e.Activity]++
		} else if l, ok := lists[e.Type]; ok {
			*l = append(*l, e.Activity)
		}
	}
	for _, l := range lists {
		slices.Sort(*l)
		*l = slices.Compact(*l)
		if *l == nil {
			*l = []string{}
		}
	}
	for i := range r.Activities {
		r.Activities[i].ExtensionsGranted = granted[r.Activities[i].ID]
	}
	r.count()
}

// count counts the milestones of the activities that count, per owner
// party and per term.
func (r *Report) count() {
	r.ByParty = map[lifecycle.PartyCode]Counts{}
	r.ByTerm = map[lifecycle.Horizon]Counts{}
	for _, a := range r.Activities {
		if !counted(a.Status) {
			continue
		}
		for _, m := range a.Milestones {
			p, t := r.ByParty[m.Owner], r.ByTerm[m.Term]
			p.add(m.State)
			t.add(m.State)
			r.ByParty[m.Owner], r.ByTerm[m.Term] = p, t
		}
	}
}

// VisibleTo is the report as people of party may read it: only the
// activities the party takes part in, and the counts and changes of those.
func (r Report) VisibleTo(party lifecycle.PartyCode) Report {
	kept := map[string]bool{}
	var acts []ActivityReport
	for _, a := range r.Activities {
		if slices.Contains(a.Parties, party) {
			acts = append(acts, a)
			kept[a.ID] = true
		}
	}
	r.Activities = append([]ActivityReport{}, acts...)
	keep := func(ids []string) []string {
		out := []string{}
		for _, id := range ids {
			if kept[id] {
				out = append(out, id)
			}
		}
		return out
	}
	var sts []Statement
	for _, st := range r.Statements {
		if kept[st.Activity] {
			sts = append(sts, st)
		}
	}
	var missing []MissingStatement
	for _, m := range r.Missing {
		if kept[m.Activity] {
			missing = append(missing, m)
		}
	}
	r.Statements, r.Missing = sts, missing
	c := r.Changes
	r.Changes = Changes{Proposed: keep(c.Proposed), Activated: keep(c.Activated), Declined: keep(c.Declined),
		Cancelled: keep(c.Cancelled), Completed: keep(c.Completed)}
	r.count()
	return r
}

func (c *Counts) add(state string) {
	switch state {
	case StateOnTime:
		c.OnTime++
	case StateLate:
		c.Late++
	case StateOverdue:
		c.Overdue++
	case StateUpcoming:
		c.Upcoming++
	case StatePending:
		c.Pending++
	}
}

// WithStatements is the report with the statements made for its meeting
// and, for every activity, the owner parties that made none.
func (r Report) WithStatements(made []store.MeetingStatement) Report {
	r.Statements, r.Missing = nil, nil
	for _, st := range made {
		r.Statements = append(r.Statements, Statement{Activity: st.Activity, Party: lifecycle.PartyCode(st.Party),
			Author: st.Author, Body: st.Body, MadeAt: st.MadeAt})
	}
	for _, a := range r.Activities {
		for _, p := range a.StatementOwners() {
			if !slices.ContainsFunc(made, func(st store.MeetingStatement) bool { return st.Activity == a.ID && st.Party == string(p) }) {
				r.Missing = append(r.Missing, MissingStatement{Activity: a.ID, Party: p})
			}
		}
	}
	return r
}

// StatementOwners are the parties that owe a statement on the activity
// ahead of a meeting: those owning its milestones, in the order their
// milestones come, while the activity runs (active or suspended).
func (a ActivityReport) StatementOwners() []lifecycle.PartyCode {
	if a.Status != lifecycle.StatusActive && a.Status != lifecycle.StatusSuspended {
		return nil
	}
	var out []lifecycle.PartyCode
	for _, m := range a.Milestones {
		if m.Owner != "" && !slices.Contains(out, m.Owner) {
			out = append(out, m.Owner)
		}
	}
	return out
}
