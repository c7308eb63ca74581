package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"pacto/activities"
	"pacto/internal/lifecycle"
	"pacto/internal/pgtest"
	"pacto/internal/review"
	"pacto/internal/store"
	"pacto/workflows"
)

// The dialogue's year in these tests: two meetings, each drafted 30 days
// ahead, statements closing 7 days ahead, reminders every 7 days.
var (
	meeting1 = time.Date(2027, 3, 16, 15, 0, 0, 0, time.UTC)
	meeting2 = time.Date(2027, 9, 16, 15, 0, 0, 0, time.UTC)
	calendar = []review.Meeting{{Number: 1, At: meeting1, Host: "PA"}, {Number: 2, At: meeting2, Host: "US"}}
)

const (
	draftBefore      = 30 * 24 * time.Hour
	statementsBefore = 7 * 24 * time.Hour
	remindEvery      = 7 * 24 * time.Hour
	day              = 24 * time.Hour
)

var (
	paCoordinator = lifecycle.Principal{ID: "pa-coordinator", Party: "PA", Roles: []lifecycle.Role{lifecycle.RoleCoordinator}}
	usCoordinator = lifecycle.Principal{ID: "us-coordinator", Party: "US", Roles: []lifecycle.Role{lifecycle.RoleCoordinator}}
	paApprover    = lifecycle.Principal{ID: "pa-approver", Party: "PA", Roles: []lifecycle.Role{lifecycle.RoleApprover}}
	usApprover    = lifecycle.Principal{ID: "us-approver", Party: "US", Roles: []lifecycle.Role{lifecycle.RoleApprover}}
)

// proposed is one call of the fake Proposer.
type proposed struct {
	Principal, Dialogue, Key string
	Proposal                 string
	Failed                   bool
}

// fakeProposer stands in for the API's proposals of adopted minutes: it
// keeps each call, fails the keys in fail once (an outage), refuses those
// in refuse, and gives each key it accepts an id of its own.
type fakeProposer struct {
	mu     sync.Mutex
	calls  []proposed
	fail   map[string]bool
	refuse map[string]string
}

func (f *fakeProposer) ProposeAgreed(_ context.Context, principal, dialogue, key string, proposal json.RawMessage) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	call := proposed{Principal: principal, Dialogue: dialogue, Key: key, Proposal: string(proposal)}
	if f.fail[key] {
		delete(f.fail, key)
		call.Failed = true
		f.calls = append(f.calls, call)
		return "", errors.New("connection refused")
	}
	f.calls = append(f.calls, call)
	if reason, ok := f.refuse[key]; ok {
		return "", &activities.RefusedError{Reason: reason}
	}
	return "agreed-" + key, nil
}

func (f *fakeProposer) made() []proposed {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// cycleStore is a database with the demo dialogue and two activities
// proposed and activated in January 2027, before the first meeting's
// draft: act-customs, with a milestone of PA's due at the end of May and
// one of the US's due in mid-July, and act-ports, with one milestone of
// the US's due in August.
func cycleStore(t *testing.T) (*store.Store, map[string]*lifecycle.State) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if _, err := SeedDemo(ctx, st, t.TempDir()+"/tokens.json"); err != nil {
		t.Fatal(err)
	}
	acts := map[string]*lifecycle.State{}
	milestone := func(id string, owner lifecycle.PartyCode, due string) lifecycle.MilestoneSpec {
		return lifecycle.MilestoneSpec{ID: id, Title: lifecycle.Text{"es": "Hito " + id, "en": "Milestone " + id}, Owner: owner, Due: due}
	}
	for i, a := range []struct {
		id, es, en string
		ms         []lifecycle.MilestoneSpec
	}{
		{"act-customs", "Capacitación aduanera", "Customs training", []lifecycle.MilestoneSpec{
			milestone("m1", "PA", "2027-05-31T22:00:00Z"), milestone("m2", "US", "2027-07-15T22:00:00Z")}},
		{"act-ports", "Seguridad portuaria", "Port security", []lifecycle.MilestoneSpec{milestone("m1", "US", "2027-08-01T22:00:00Z")}},
	} {
		s := &lifecycle.State{}
		acts[a.id] = s
		at := time.Date(2027, 1, 11+i, 15, 0, 0, 0, time.UTC)
		step(t, st, s, usCoordinator, at, lifecycle.Propose{ActivityID: a.id, Dialogue: DemoDialogue, Rules: lifecycle.CurrentRules,
			DialogueParties: []lifecycle.Party{{Code: "PA", TimeZone: "America/Panama", Language: "es"}, {Code: "US", TimeZone: "America/New_York", Language: "en"}},
			Parties:         []lifecycle.PartyCode{"PA", "US"}, Title: lifecycle.Text{"es": a.es, "en": a.en}, Milestones: a.ms})
		step(t, st, s, paApprover, at.Add(time.Hour), lifecycle.DecideProposal{Version: 1, Decision: lifecycle.DecisionApprove})
		step(t, st, s, usApprover, at.Add(2*time.Hour), lifecycle.DecideProposal{Version: 1, Decision: lifecycle.DecisionApprove})
		if s.Status != lifecycle.StatusActive {
			t.Fatalf("%s is %s after both approvals", a.id, s.Status)
		}
	}
	return st, acts
}

// step decides c on s as who at at and records it, as the activity's
// workflow would.
func step(t *testing.T, st *store.Store, s *lifecycle.State, who lifecycle.Principal, at time.Time, c lifecycle.Command) {
	t.Helper()
	evs, err := lifecycle.Decide(*s, c, who, at)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		*s = lifecycle.Apply(*s, e)
	}
	if err := st.Record(context.Background(), *s, evs); err != nil {
		t.Fatal(err)
	}
}

// reviewRun is one Review run in the time-skipping test environment, with
// the real activities over the test's database.
type reviewRun struct {
	t     *testing.T
	env   *testsuite.TestWorkflowEnvironment
	start time.Time
	mu    sync.Mutex
	// outcome holds, per update ID, nil when it was taken and the error
	// when it was refused or failed.
	outcome map[string]error
}

// newReviewRun prepares a run under workflow ID id starting at start;
// a non-zero scheduled is the time a schedule would have fired it for.
func newReviewRun(t *testing.T, st *store.Store, p activities.Proposer, id string, start, scheduled time.Time) *reviewRun {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := testEnvironment(&suite)
	workflows.Register(env)
	RegisterReviewActivities(env, st, p)
	env.SetStartTime(start)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: id})
	env.SetTestTimeout(time.Minute)
	if !scheduled.IsZero() {
		key := temporal.NewSearchAttributeKeyTime("TemporalScheduledStartTime")
		if err := env.SetTypedSearchAttributesOnStart(temporal.NewSearchAttributes(key.ValueSet(scheduled))); err != nil {
			t.Fatal(err)
		}
	}
	return &reviewRun{t: t, env: env, start: start, outcome: map[string]error{}}
}

// at runs f when the run's clock reaches when.
func (r *reviewRun) at(when time.Time, f func()) {
	r.t.Helper()
	if when.Before(r.start) {
		r.t.Fatalf("callback at %s is before the run starts at %s", when, r.start)
	}
	r.env.RegisterDelayedCallback(f, when.Sub(r.start))
}

// update sends an update; its outcome is kept under id.
func (r *reviewRun) update(name, id string, arg any) {
	done := func(err error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.outcome[id] = err
	}
	r.env.UpdateWorkflow(name, id, &testsuite.TestUpdateCallback{
		OnAccept:   func() {},
		OnReject:   done,
		OnComplete: func(_ any, err error) { done(err) },
	}, arg)
}

// result is the outcome of update id; it fails the test when the update
// had none.
func (r *reviewRun) result(id string) error {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	err, ok := r.outcome[id]
	if !ok {
		r.t.Fatalf("update %s had no outcome", id)
	}
	return err
}

// taken checks the updates were taken.
func (r *reviewRun) taken(ids ...string) {
	r.t.Helper()
	for _, id := range ids {
		if err := r.result(id); err != nil {
			r.t.Errorf("update %s was refused: %v", id, err)
		}
	}
}

// refusedAs checks update id was refused with the core's error kind.
func (r *reviewRun) refusedAs(id string, kind lifecycle.Kind) {
	r.t.Helper()
	err := r.result(id)
	if ce, ok := workflows.CoreError(err); !ok || ce.Kind != kind {
		r.t.Errorf("update %s: %v; want it refused as %s", id, err, kind)
	}
}

func (r *reviewRun) state() workflows.ReviewState {
	r.t.Helper()
	v, err := r.env.QueryWorkflow(workflows.QueryReviewState)
	if err != nil {
		r.t.Fatal(err)
	}
	var s workflows.ReviewState
	if err := v.Get(&s); err != nil {
		r.t.Fatal(err)
	}
	return s
}

// run executes the workflow with in and returns its final state.
func (r *reviewRun) run(in workflows.ReviewInput) workflows.ReviewState {
	r.t.Helper()
	r.env.ExecuteWorkflow(workflows.ReviewWorkflowName, in)
	if !r.env.IsWorkflowCompleted() || r.env.GetWorkflowError() != nil {
		r.t.Fatalf("review: completed %v, error %v", r.env.IsWorkflowCompleted(), r.env.GetWorkflowError())
	}
	var end workflows.ReviewState
	if err := r.env.GetWorkflowResult(&end); err != nil {
		r.t.Fatal(err)
	}
	return end
}

func cycleInput() workflows.ReviewInput {
	return workflows.ReviewInput{Version: workflows.ReviewVersion, Dialogue: DemoDialogue, Meetings: calendar,
		DraftBefore: draftBefore, StatementsBefore: statementsBefore, RemindEvery: remindEvery}
}

func statement(by lifecycle.Principal, activity, body string) workflows.Statement {
	return workflows.Statement{By: by, Activity: activity, Body: body}
}

func minutesBy(by lifecycle.Principal, lang, decision string, agreed ...lifecycle.AgreedActivity) workflows.RecordMinutes {
	return workflows.RecordMinutes{By: by, Language: lang,
		Content: lifecycle.MinutesContent{Decisions: []lifecycle.Text{lifecycle.Plain(decision)}, NewActivities: agreed}}
}

func sign(by lifecycle.Principal, version int) workflows.SignMinutes {
	return workflows.SignMinutes{By: by, Version: version}
}

// inbox lists, per kind of notice, who got one of a chain's events, in
// order of principal.
func inbox(t *testing.T, st *store.Store, chain string) map[string][]string {
	t.Helper()
	rows, err := st.Pool().Query(context.Background(),
		`SELECT kind, principal_id FROM notifications WHERE activity_id = $1 ORDER BY kind, seq, principal_id`, chain)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var kind, who string
		if err := rows.Scan(&kind, &who); err != nil {
			t.Fatal(err)
		}
		out[kind] = append(out[kind], who)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// eventsOf is the chain's events of type typ.
func eventsOf(events []lifecycle.Event, typ lifecycle.EventType) []lifecycle.Event {
	var out []lifecycle.Event
	for _, e := range events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

func typesOf(events []lifecycle.Event) []lifecycle.EventType {
	out := make([]lifecycle.EventType, len(events))
	for i, e := range events {
		out[i] = e.Type
	}
	return out
}

// frozenReport reads a meeting's frozen report and checks it is what
// the run kept and the audit log says: its digest is that of its bytes,
// the run's and the report_frozen event's; its figures are those
// recomputed from the audit log as of the meeting.
func frozenReport(t *testing.T, st *store.Store, meeting int, end workflows.ReviewState, frozenEvent lifecycle.Event) review.Report {
	t.Helper()
	ctx := context.Background()
	kept, err := st.MeetingReport(ctx, DemoDialogue, meeting, store.ReportFrozen)
	if err != nil {
		t.Fatal(err)
	}
	if sum := hexSum(kept.JSON); kept.SHA256 != sum || end.FrozenSHA256 != sum || frozenEvent.Digest != sum {
		t.Errorf("meeting %d's frozen report: stored digest %s, bytes %s, run %s, report_frozen %s; want them all equal",
			meeting, kept.SHA256, sum, end.FrozenSHA256, frozenEvent.Digest)
	}
	var rep review.Report
	if err := json.Unmarshal(kept.JSON, &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.AsOf.Equal(end.MeetingAt) || !rep.MeetingAt.Equal(end.MeetingAt) || !frozenEvent.At.Equal(end.MeetingAt) {
		t.Errorf("meeting %d's report frozen as of %s for a meeting at %s (event at %s); want all at %s",
			meeting, rep.AsOf, rep.MeetingAt, frozenEvent.At, end.MeetingAt)
	}
	log, err := review.Recompute(ctx, st, DemoDialogue, fmt.Sprint(meeting), end.MeetingAt, end.Since, end.MeetingAt)
	if err != nil {
		t.Fatal(err)
	}
	if d := review.Differences(rep, log); len(d) != 0 || len(kept.Differences) != 0 || len(end.Differences) != 0 {
		t.Errorf("meeting %d's frozen report differs from the audit log: %v (kept %v, run %v)", meeting, d, kept.Differences, end.Differences)
	}
	return rep
}

// A year of the dialogue: two meetings, each run from its draft to its
// adopted minutes over the real activities and database. Each draft goes
// out at its time to the coordinators and approvers of both parties; the
// parties still owing statements are reminded weekly and only they; the
// report is frozen at the meeting with the statement missing marked, its
// figures those of the audit log and its digest in the meeting's audit
// chain; minutes are recorded, signed, amended (signatures reset),
// co-signed and adopted, and their new activities proposed once each.
// The activities' changes between the meetings show in the second
// report. A second run for a meeting already claimed records nothing.
func TestReviewCycleOverAYear(t *testing.T) {
	ctx := context.Background()
	st, acts := cycleStore(t)
	proposer := &fakeProposer{fail: map[string]bool{"minutes hld-pa-us 1 1": true},
		refuse: map[string]string{"minutes hld-pa-us 2 1": "the proposal names a party that left"}}
	draft1, draft2 := meeting1.Add(-draftBefore), meeting2.Add(-draftBefore)
	chain1, chain2 := lifecycle.MeetingChain(DemoDialogue, 1), lifecycle.MeetingChain(DemoDialogue, 2)

	// Meeting 1: its run is started for it two weeks ahead of the draft,
	// and waits.
	agreed := []lifecycle.AgreedActivity{
		{Title: lifecycle.Plain("Laboratorio aduanero"), Proposal: json.RawMessage(`{"title":{"es":"Laboratorio aduanero"}}`)},
		{Title: lifecycle.Plain("Escáneres portuarios"), Proposal: json.RawMessage(`{"title":{"es":"Escáneres portuarios"}}`)},
	}
	amended := []lifecycle.AgreedActivity{agreed[0], {Title: lifecycle.Plain("Port scanners"), Proposal: json.RawMessage(`{"title":{"en":"Port scanners"}}`)}}
	r1 := newReviewRun(t, st, proposer, workflows.ReviewRunID(DemoDialogue, draft1), draft1.Add(-14*day), time.Time{})
	var waiting, drafted, afterAmendment workflows.ReviewState
	r1.at(draft1.Add(-13*day), func() { waiting = r1.state() })
	r1.at(draft1.Add(time.Hour), func() {
		drafted = r1.state()
		r1.update(workflows.UpdateMinutes, "minutes-early", minutesBy(paCoordinator, "es", "Demasiado pronto"))
	})
	// The US makes its statements between the first reminder and the
	// second; PA makes none.
	r1.at(draft1.Add(10*day), func() {
		r1.update(workflows.UpdateStatement, "us-customs", statement(usCoordinator, "act-customs", "The first course was held."))
		r1.update(workflows.UpdateStatement, "us-ports", statement(usCoordinator, "act-ports", "Scanners ordered."))
	})
	r1.at(meeting1.Add(time.Hour), func() {
		r1.update(workflows.UpdateMinutes, "minutes-1", minutesBy(paCoordinator, "es", "Seguir con la capacitación", agreed...))
	})
	r1.at(meeting1.Add(2*time.Hour), func() { r1.update(workflows.UpdateSignMinutes, "pa-signs-1", sign(paApprover, 1)) })
	r1.at(meeting1.Add(3*time.Hour), func() {
		r1.update(workflows.UpdateMinutes, "minutes-2", minutesBy(usCoordinator, "en", "Continue the training; scanners in 2028", amended...))
	})
	r1.at(meeting1.Add(4*time.Hour), func() {
		afterAmendment = r1.state()
		r1.update(workflows.UpdateSignMinutes, "us-signs-stale", sign(usApprover, 1))
		r1.update(workflows.UpdateSignMinutes, "pa-signs-2", sign(paApprover, 2))
	})
	r1.at(meeting1.Add(5*time.Hour), func() {
		r1.update(workflows.UpdateSignMinutes, "us-signs-2", sign(usApprover, 2))
		r1.update(workflows.UpdateMinutes, "minutes-after", minutesBy(paCoordinator, "es", "Un cambio tardío"))
	})
	in1 := cycleInput()
	in1.Meeting = 1
	end1 := r1.run(in1)

	if waiting.Phase != workflows.PhaseWaiting || waiting.Meeting != 1 || !waiting.DraftAt.Equal(draft1) || !waiting.StatementsDue.Equal(meeting1.Add(-statementsBefore)) {
		t.Errorf("before its draft meeting 1's run is %+v; want waiting for a draft at %s", waiting, draft1)
	}
	if drafted.Phase != workflows.PhaseDraft || drafted.DraftSHA256 == "" || !slices.Equal(drafted.Parties, []string{"PA", "US"}) ||
		!slices.Equal(drafted.Owners["act-customs"], []string{"PA", "US"}) || !slices.Equal(drafted.Owners["act-ports"], []string{"US"}) {
		t.Errorf("after its draft meeting 1's run is %+v", drafted)
	}
	r1.refusedAs("minutes-early", lifecycle.KindInvalidTransition)
	r1.taken("us-customs", "us-ports", "minutes-1", "pa-signs-1", "minutes-2", "pa-signs-2", "us-signs-2")
	if m := afterAmendment.Minutes; m == nil || m.Version != 2 || len(m.Signatures) != 0 || m.RecordedBy != "us-coordinator" {
		t.Errorf("after the amendment the minutes are %+v; want version 2 recorded by the US coordinator, unsigned", m)
	}
	r1.refusedAs("us-signs-stale", lifecycle.KindStaleVersion)
	r1.refusedAs("minutes-after", lifecycle.KindInvalidTransition)

	events1 := auditEvents(t, st, chain1)
	want1 := []lifecycle.EventType{
		lifecycle.EventMeetingDrafted, lifecycle.EventStatementReminder, lifecycle.EventStatementMade, lifecycle.EventStatementMade,
		lifecycle.EventStatementReminder, lifecycle.EventStatementReminder, lifecycle.EventReportFrozen,
		lifecycle.EventMinutesRecorded, lifecycle.EventMinutesSigned, lifecycle.EventMinutesRecorded,
		lifecycle.EventMinutesSigned, lifecycle.EventMinutesSigned, lifecycle.EventMinutesAdopted,
	}
	if got := typesOf(events1); !slices.Equal(got, want1) {
		t.Fatalf("meeting 1's audit chain holds %v; want %v", got, want1)
	}
	if v, err := st.VerifyAudit(ctx, chain1); err != nil || !v.Valid {
		t.Errorf("meeting 1's audit chain does not verify: %+v, %v", v, err)
	}

	// The draft, at its time, with its digest.
	draftEvent := eventsOf(events1, lifecycle.EventMeetingDrafted)[0]
	draftKept, err := st.MeetingReport(ctx, DemoDialogue, 1, store.ReportDraft)
	if err != nil {
		t.Fatal(err)
	}
	if !draftEvent.At.Equal(draft1) || draftEvent.Digest != draftKept.SHA256 || draftKept.SHA256 != hexSum(draftKept.JSON) ||
		draftEvent.Digest != end1.DraftSHA256 || !draftEvent.Due.Equal(meeting1.Add(-statementsBefore)) {
		t.Errorf("meeting_drafted %+v; want it at %s with the draft's digest %s", draftEvent, draft1, draftKept.SHA256)
	}

	// Reminders at 7, 14 and 21 days from the draft (28 is past the close
	// of statements), each to the parties owing one then: both at first,
	// then PA alone once the US had made its statements.
	reminders := eventsOf(events1, lifecycle.EventStatementReminder)
	wantParties := [][]lifecycle.PartyCode{{"PA", "US"}, {"PA"}, {"PA"}}
	for i, e := range reminders {
		if !e.At.Equal(draft1.Add(time.Duration(i+1)*remindEvery)) || !slices.Equal(e.Parties, wantParties[i]) || e.Notice != i+1 {
			t.Errorf("reminder %d: at %s to %v, notice %d; want at %s to %v", i+1, e.At, e.Parties, e.Notice, draft1.Add(time.Duration(i+1)*remindEvery), wantParties[i])
		}
	}
	if end1.Reminders != 3 {
		t.Errorf("the run counts %d reminders, want 3", end1.Reminders)
	}

	// Inboxes: the draft to both parties' coordinators and approvers, the
	// reminders to the owing parties' coordinators only.
	box := inbox(t, st, chain1)
	everyone := []string{"pa-approver", "pa-coordinator", "us-approver", "us-coordinator"}
	if !slices.Equal(box["meeting_drafted"], everyone) {
		t.Errorf("meeting 1's draft went to %v; want %v", box["meeting_drafted"], everyone)
	}
	if want := []string{"pa-coordinator", "us-coordinator", "pa-coordinator", "pa-coordinator"}; !slices.Equal(box["statement_reminder"], want) {
		t.Errorf("meeting 1's reminders went to %v; want %v", box["statement_reminder"], want)
	}
	if len(box["statement_made"]) != 0 || len(box["minutes_signed"]) != 0 {
		t.Errorf("inbox notices of statements or signatures: %v", box)
	}

	// The frozen report: at the meeting, resting on the audit log, PA's
	// statement on act-customs marked missing, and PA named as missing in
	// report_frozen.
	frozen1 := eventsOf(events1, lifecycle.EventReportFrozen)[0]
	rep1 := frozenReport(t, st, 1, end1, frozen1)
	if !slices.Equal(rep1.Missing, []review.MissingStatement{{Activity: "act-customs", Party: "PA"}}) || len(rep1.Statements) != 2 ||
		!slices.Equal(frozen1.Parties, []lifecycle.PartyCode{"PA"}) {
		t.Errorf("meeting 1's report: missing %v, %d statements, report_frozen names %v; want PA's on act-customs missing, the US's two made",
			rep1.Missing, len(rep1.Statements), frozen1.Parties)
	}
	if rep1.ByParty["PA"] != (review.Counts{Upcoming: 1}) || rep1.ByParty["US"] != (review.Counts{Upcoming: 2}) ||
		!slices.Equal(rep1.Changes.Activated, []string{"act-customs", "act-ports"}) || len(rep1.Changes.Completed) != 0 || !rep1.Since.IsZero() {
		t.Errorf("meeting 1's figures: by party %v, changes %+v since %s", rep1.ByParty, rep1.Changes, rep1.Since)
	}

	// The minutes: version 2 adopted when the US signed it; its new
	// activities proposed as the coordinator who recorded it, each under
	// a key of its own that a retry repeats.
	adopted := eventsOf(events1, lifecycle.EventMinutesAdopted)[0]
	wantIDs := []string{"agreed-minutes hld-pa-us 1 1", "agreed-minutes hld-pa-us 1 2"}
	if adopted.Version != 2 || !slices.Equal(adopted.Activities, wantIDs) || adopted.Comment != "" ||
		end1.Phase != workflows.PhaseClosed || !slices.Equal(end1.Proposed, wantIDs) {
		t.Errorf("minutes_adopted %+v, run ended %s proposing %v; want version 2 with %v", adopted, end1.Phase, end1.Proposed, wantIDs)
	}
	calls := proposer.made()
	wantProposal := map[string]string{"minutes hld-pa-us 1 1": string(amended[0].Proposal), "minutes hld-pa-us 1 2": string(amended[1].Proposal)}
	var done []string
	for i, c := range calls {
		if c.Principal != "us-coordinator" || c.Dialogue != DemoDialogue || c.Proposal != wantProposal[c.Key] {
			t.Errorf("proposal %d: %+v; want %s proposed as the US coordinator in %s", i, c, wantProposal[c.Key], DemoDialogue)
		}
		if !c.Failed {
			done = append(done, c.Key)
		}
	}
	if len(calls) != 3 || !calls[0].Failed || calls[1].Key != calls[0].Key || !slices.Equal(done, []string{"minutes hld-pa-us 1 1", "minutes hld-pa-us 1 2"}) {
		t.Errorf("proposals made: %+v; want each new activity proposed once, the first after a failed try under the same key", calls)
	}

	// The meeting's row: closed, the adopted minutes kept; and they do not
	// change any more, whatever writes them.
	row, err := st.Meeting(ctx, DemoDialogue, 1)
	if err != nil {
		t.Fatal(err)
	}
	var adoptedAt *time.Time
	if err := st.Pool().QueryRow(ctx, `SELECT adopted_at FROM meetings WHERE dialogue_id = $1 AND meeting = 1`, DemoDialogue).Scan(&adoptedAt); err != nil {
		t.Fatal(err)
	}
	if row.Phase != store.MeetingClosed || row.WorkflowID != workflows.ReviewRunID(DemoDialogue, draft1) || row.Minutes == nil ||
		row.Minutes.Version != 2 || adoptedAt == nil || !adoptedAt.Equal(meeting1.Add(5*time.Hour)) {
		t.Errorf("meeting 1's row: %+v adopted at %v; want closed, minutes version 2 adopted at %s", row, adoptedAt, meeting1.Add(5*time.Hour))
	}
	changed := *row.Minutes
	changed.Decisions = []lifecycle.Text{lifecycle.Plain("rewritten")}
	if err := st.RecordMeeting(ctx, store.MeetingChange{Dialogue: DemoDialogue, Meeting: 1, WorkflowID: row.WorkflowID, At: row.At,
		Phase: store.MeetingClosed, Minutes: &changed}); err == nil {
		t.Error("the adopted minutes of meeting 1 were rewritten in the database")
	}

	// A second run for meeting 1 finds it held and records nothing.
	notices, rows := countRows(t, st, chain1)
	dup := newReviewRun(t, st, proposer, "review-hld-pa-us-again", draft1.Add(time.Hour), time.Time{})
	if end := dup.run(in1); end.Phase != workflows.PhaseDuplicate || end.Seq != 0 {
		t.Errorf("a second run for meeting 1 ended %s at seq %d; want %s having recorded nothing", end.Phase, end.Seq, workflows.PhaseDuplicate)
	}
	if n, r := countRows(t, st, chain1); n != notices || r != rows {
		t.Errorf("the second run for meeting 1 recorded: %d notices and %d audit rows, were %d and %d", n, r, notices, rows)
	}
	if again, err := st.Meeting(ctx, DemoDialogue, 1); err != nil || again.WorkflowID != row.WorkflowID || again.Phase != store.MeetingClosed {
		t.Errorf("meeting 1 after a second run: %+v, %v", again, err)
	}

	// Between the meetings: PA completes its customs milestone ten days
	// late, the US completes the ports one on time (which completes that
	// activity), and the US's customs milestone falls overdue.
	step(t, st, acts["act-customs"], paCoordinator, time.Date(2027, 6, 10, 15, 0, 0, 0, time.UTC), lifecycle.CompleteMilestone{MilestoneID: "m1"})
	step(t, st, acts["act-ports"], usCoordinator, time.Date(2027, 6, 20, 15, 0, 0, 0, time.UTC), lifecycle.CompleteMilestone{MilestoneID: "m1"})
	if acts["act-ports"].Status != lifecycle.StatusCompleted {
		t.Fatalf("act-ports is %s after its only milestone was completed", acts["act-ports"].Status)
	}

	// Meeting 2: its run is started by the schedule at the draft's time,
	// and finds its meeting by it. Both parties state early: nobody is
	// reminded.
	r2 := newReviewRun(t, st, proposer, workflows.ReviewRunID(DemoDialogue, draft2), draft2, draft2)
	r2.at(draft2.Add(day), func() {
		r2.update(workflows.UpdateStatement, "pa-customs", statement(paCoordinator, "act-customs", "Se completó con retraso."))
		r2.update(workflows.UpdateStatement, "us-customs", statement(usCoordinator, "act-customs", "Our milestone slipped."))
		r2.update(workflows.UpdateStatement, "us-ports", statement(usCoordinator, "act-ports", "Done."))
	})
	r2.at(meeting2.Add(time.Hour), func() {
		r2.update(workflows.UpdateMinutes, "minutes-1", minutesBy(paCoordinator, "es", "Cerrar el proyecto portuario",
			lifecycle.AgreedActivity{Title: lifecycle.Plain("Segunda fase"), Proposal: json.RawMessage(`{"title":{"es":"Segunda fase"}}`)}))
	})
	r2.at(meeting2.Add(2*time.Hour), func() {
		r2.update(workflows.UpdateSignMinutes, "pa-signs", sign(paApprover, 1))
		r2.update(workflows.UpdateSignMinutes, "us-signs", sign(usApprover, 1))
	})
	end2 := r2.run(cycleInput())
	r2.taken("pa-customs", "us-customs", "minutes-1", "pa-signs", "us-signs")
	// act-ports is completed: it owes no statement any more.
	r2.refusedAs("us-ports", lifecycle.KindInvalidInput)
	if end2.Meeting != 2 || !end2.Since.Equal(meeting1) || end2.Phase != workflows.PhaseClosed {
		t.Fatalf("meeting 2's run ended as %+v; want meeting 2 since meeting 1, closed", end2)
	}
	// Every statement was made early: the reminder turns passed quietly,
	// and none counts as sent.
	if end2.Reminders != 0 {
		t.Errorf("meeting 2's run counts %d reminders sent, want none", end2.Reminders)
	}
	events2 := auditEvents(t, st, chain2)
	want2 := []lifecycle.EventType{lifecycle.EventMeetingDrafted, lifecycle.EventStatementMade, lifecycle.EventStatementMade,
		lifecycle.EventReportFrozen, lifecycle.EventMinutesRecorded, lifecycle.EventMinutesSigned, lifecycle.EventMinutesSigned, lifecycle.EventMinutesAdopted}
	if got := typesOf(events2); !slices.Equal(got, want2) {
		t.Fatalf("meeting 2's audit chain holds %v; want %v", got, want2)
	}
	if v, err := st.VerifyAudit(ctx, chain2); err != nil || !v.Valid {
		t.Errorf("meeting 2's audit chain does not verify: %+v, %v", v, err)
	}
	if e := events2[0]; !e.At.Equal(draft2) || e.Digest != end2.DraftSHA256 {
		t.Errorf("meeting 2's draft event %+v; want it at %s with digest %s", e, draft2, end2.DraftSHA256)
	}
	if box := inbox(t, st, chain2); !slices.Equal(box["meeting_drafted"], everyone) || len(box["statement_reminder"]) != 0 {
		t.Errorf("meeting 2's inbox notices: %v; want the draft to %v and no reminder", box, everyone)
	}
	frozen2 := eventsOf(events2, lifecycle.EventReportFrozen)[0]
	rep2 := frozenReport(t, st, 2, end2, frozen2)
	if len(rep2.Missing) != 0 || len(frozen2.Parties) != 0 || len(rep2.Statements) != 2 {
		t.Errorf("meeting 2's report: missing %v, report_frozen names %v, %d statements; want none missing, two made", rep2.Missing, frozen2.Parties, len(rep2.Statements))
	}
	// Since the last meeting: the customs milestone of PA's completed
	// late, the US's overdue, the ports activity completed on time.
	if rep2.ByParty["PA"] != (review.Counts{Late: 1}) || rep2.ByParty["US"] != (review.Counts{OnTime: 1, Overdue: 1}) ||
		!slices.Equal(rep2.Changes.Completed, []string{"act-ports"}) || len(rep2.Changes.Activated) != 0 || !rep2.Since.Equal(meeting1) {
		t.Errorf("meeting 2's figures: by party %v, changes %+v since %s", rep2.ByParty, rep2.Changes, rep2.Since)
	}
	if rep2.ByParty["PA"] == rep1.ByParty["PA"] || rep2.ByParty["US"] == rep1.ByParty["US"] {
		t.Error("meeting 2's counts are meeting 1's")
	}
	// The proposal refused: the minutes stand, the problem said.
	adopted2 := eventsOf(events2, lifecycle.EventMinutesAdopted)[0]
	if len(adopted2.Activities) != 0 || adopted2.Comment != "new activity 1: the proposal names a party that left" {
		t.Errorf("meeting 2's minutes_adopted %+v; want no activity and the refusal said", adopted2)
	}
	if n := len(proposer.made()); n != 4 {
		t.Errorf("%d proposals asked for over the year; want 3 for meeting 1 and 1 for meeting 2", n)
	}
	runs, err := st.MeetingRuns(ctx, DemoDialogue)
	if err != nil || len(runs) != 2 || runs[1].Phase != store.MeetingClosed || !runs[1].At.Equal(meeting2) || runs[1].Minutes == nil || !runs[1].Minutes.Adopted() {
		t.Errorf("the dialogue's meetings: %+v, %v; want both closed with adopted minutes", runs, err)
	}
}

// countRows counts a chain's inbox notices and audit rows.
func countRows(t *testing.T, st *store.Store, chain string) (notices, audit int) {
	t.Helper()
	err := st.Pool().QueryRow(context.Background(),
		`SELECT (SELECT count(*) FROM notifications WHERE activity_id = $1), (SELECT count(*) FROM audit_events WHERE activity_id = $1)`, chain).Scan(&notices, &audit)
	if err != nil {
		t.Fatal(err)
	}
	return notices, audit
}

// adopt has the PA coordinator record minutes an hour after the meeting
// and both approvers sign them an hour later, which ends the run.
func (r *reviewRun) adopt(meetingAt time.Time) {
	r.at(meetingAt.Add(time.Hour), func() {
		r.update(workflows.UpdateMinutes, "minutes", minutesBy(paCoordinator, "es", "Seguir"))
	})
	r.at(meetingAt.Add(2*time.Hour), func() {
		r.update(workflows.UpdateSignMinutes, "pa-signs", sign(paApprover, 1))
		r.update(workflows.UpdateSignMinutes, "us-signs", sign(usApprover, 1))
	})
}

// A meeting moved two weeks later after its draft: the run takes the new
// times, says so in the meeting's chain, reminds from the new draft time
// and freezes the report at the new meeting time. Meanwhile another run
// started for the moved meeting finds it held and records nothing.
func TestReviewFollowsAMeetingMovedAfterItsDraft(t *testing.T) {
	ctx := context.Background()
	st, _ := cycleStore(t)
	draft := meeting1.Add(-draftBefore)
	moved := meeting1.Add(14 * day)
	chain := lifecycle.MeetingChain(DemoDialogue, 1)
	id := workflows.ReviewRunID(DemoDialogue, draft)
	r := newReviewRun(t, st, nil, id, draft, draft)
	var after workflows.ReviewState
	var dup workflows.ReviewState
	var notices, rows, dupNotices, dupRows int
	r.at(draft.Add(day), func() {
		r.env.SignalWorkflow(workflows.SignalReschedule, []review.Meeting{{Number: 1, At: moved, Host: "PA"}, calendar[1]})
	})
	r.at(draft.Add(2*day), func() {
		after = r.state()
		// The schedule's run for the moved meeting's draft time, had it
		// fired: it must leave the meeting to the run that holds it.
		notices, rows = countRows(t, st, chain)
		in := cycleInput()
		in.Meetings = []review.Meeting{{Number: 1, At: moved, Host: "PA"}, calendar[1]}
		other := moved.Add(-draftBefore)
		dup = newReviewRun(t, st, nil, workflows.ReviewRunID(DemoDialogue, other), other, other).run(in)
		dupNotices, dupRows = countRows(t, st, chain)
	})
	r.adopt(moved)
	end := r.run(cycleInput())

	if !after.MeetingAt.Equal(moved) || !after.DraftAt.Equal(moved.Add(-draftBefore)) || !after.StatementsDue.Equal(moved.Add(-statementsBefore)) ||
		after.Phase != workflows.PhaseDraft {
		t.Errorf("after the move the run is %+v; want the meeting at %s, still in draft", after, moved)
	}
	if dup.Phase != workflows.PhaseDuplicate || dup.Meeting != 1 {
		t.Errorf("the second run for the moved meeting ended %+v; want %s", dup, workflows.PhaseDuplicate)
	}
	if dupNotices != notices || dupRows != rows || rows != 2 {
		t.Errorf("the second run recorded: %d notices and %d audit rows after it, %d and %d before; want the draft and the move alone", dupNotices, dupRows, notices, rows)
	}
	events := auditEvents(t, st, chain)
	want := []lifecycle.EventType{lifecycle.EventMeetingDrafted, lifecycle.EventMeetingMoved,
		lifecycle.EventStatementReminder, lifecycle.EventStatementReminder, lifecycle.EventStatementReminder, lifecycle.EventReportFrozen,
		lifecycle.EventMinutesRecorded, lifecycle.EventMinutesSigned, lifecycle.EventMinutesSigned, lifecycle.EventMinutesAdopted}
	if got := typesOf(events); !slices.Equal(got, want) {
		t.Fatalf("the meeting's audit chain holds %v; want %v", got, want)
	}
	if e := events[1]; !e.At.Equal(draft.Add(day)) || !e.Due.Equal(moved) {
		t.Errorf("meeting_moved %+v; want it at %s saying %s", e, draft.Add(day), moved)
	}
	// The moved draft time is 14 days on: reminders at 7, 14 and 21 days
	// from it, to both parties, who made no statement.
	for i, e := range eventsOf(events, lifecycle.EventStatementReminder) {
		if at := moved.Add(-draftBefore).Add(time.Duration(i+1) * remindEvery); !e.At.Equal(at) || !slices.Equal(e.Parties, []lifecycle.PartyCode{"PA", "US"}) {
			t.Errorf("reminder %d at %s to %v; want at %s to both parties", i+1, e.At, e.Parties, at)
		}
	}
	frozen := eventsOf(events, lifecycle.EventReportFrozen)[0]
	if !end.MeetingAt.Equal(moved) || end.Phase != workflows.PhaseClosed {
		t.Fatalf("the run ended %+v; want the meeting at %s, closed", end, moved)
	}
	rep := frozenReport(t, st, 1, end, frozen)
	if len(rep.Missing) != 3 || !slices.Equal(frozen.Parties, []lifecycle.PartyCode{"PA", "US"}) {
		t.Errorf("frozen report missing %v, report_frozen names %v; want the three statements owed, both parties", rep.Missing, frozen.Parties)
	}
	if box := inbox(t, st, chain); len(box["meeting_moved"]) != 4 {
		t.Errorf("the move was told to %v; want both parties' coordinators and approvers", box["meeting_moved"])
	}
	row, err := st.Meeting(ctx, DemoDialogue, 1)
	if err != nil || !row.At.Equal(moved) || row.WorkflowID != id || row.Phase != store.MeetingClosed {
		t.Errorf("the meeting's row: %+v, %v; want it at %s, held by %s, closed", row, err, moved, id)
	}
	if v, err := st.VerifyAudit(ctx, chain); err != nil || !v.Valid {
		t.Errorf("the meeting's audit chain does not verify: %+v, %v", v, err)
	}
}

// A meeting taken off the calendar before its draft ends its run: the
// cancellation is in the meeting's chain and told to both parties, and
// nothing is drafted. So it is when the calendar keeps other meetings,
// and when it keeps none (the calendar's meetings then come as null).
func TestReviewEndsForAMeetingCancelledBeforeItsDraft(t *testing.T) {
	for _, c := range []struct {
		name     string
		meetings []review.Meeting
	}{
		{"others-left", []review.Meeting{calendar[1]}},
		{"none-left", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			st, _ := cycleStore(t)
			draft := meeting1.Add(-draftBefore)
			chain := lifecycle.MeetingChain(DemoDialogue, 1)
			r := newReviewRun(t, st, nil, workflows.ReviewRunID(DemoDialogue, draft), draft.Add(-10*day), time.Time{})
			cancelAt := draft.Add(-3 * day)
			r.at(cancelAt, func() { r.env.SignalWorkflow(workflows.SignalReschedule, c.meetings) })
			in := cycleInput()
			in.Meeting = 1
			end := r.run(in)
			if end.Phase != workflows.PhaseCancelled || end.DraftSHA256 != "" {
				t.Errorf("the run ended %+v; want %s before any draft", end, workflows.PhaseCancelled)
			}
			events := auditEvents(t, st, chain)
			if got := typesOf(events); !slices.Equal(got, []lifecycle.EventType{lifecycle.EventMeetingCancelled}) || !events[0].At.Equal(cancelAt) {
				t.Errorf("the meeting's chain holds %v; want meeting_cancelled at %s", events, cancelAt)
			}
			if box := inbox(t, st, chain); len(box["meeting_cancelled"]) != 4 {
				t.Errorf("the cancellation was told to %v; want both parties' coordinators and approvers", box)
			}
			if row, err := st.Meeting(ctx, DemoDialogue, 1); err != nil || row.Phase != store.MeetingCancelled {
				t.Errorf("the meeting's row: %+v, %v; want it cancelled", row, err)
			}
			if _, err := st.MeetingReport(ctx, DemoDialogue, 1, store.ReportDraft); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a cancelled meeting's draft: %v; want none", err)
			}
		})
	}
}
