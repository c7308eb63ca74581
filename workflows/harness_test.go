package workflows

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"pacto/activities"
	"pacto/internal/lifecycle"
)

// t0 is a Monday; every scenario starts there so event times are exact.
var t0 = time.Date(2027, 1, 4, 15, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

var (
	dialogueParties = []lifecycle.Party{
		{Code: "PA", TimeZone: "America/Panama", Language: "es"},
		{Code: "US", TimeZone: "America/New_York", Language: "en"},
		{Code: "MX", TimeZone: "America/Mexico_City", Language: "es"},
	}
	paCoord    = principal("pa-coordinator", "PA", lifecycle.RoleCoordinator)
	paApprover = principal("pa-approver", "PA", lifecycle.RoleApprover)
	paObserver = principal("pa-observer", "PA", lifecycle.RoleObserver)
	usCoord    = principal("us-coordinator", "US", lifecycle.RoleCoordinator)
	usApprover = principal("us-approver", "US", lifecycle.RoleApprover)
	mxApprover = principal("mx-approver", "MX", lifecycle.RoleApprover)
	// paBoth holds both roles, to prove the four-eyes rule.
	paBoth = principal("pa-both", "PA", lifecycle.RoleCoordinator, lifecycle.RoleApprover)
)

// TestMain makes the SDK hash this (large) test binary once, up front. The
// test environment otherwise does it lazily inside the first workflow
// goroutine that schedules an activity, and on a loaded machine that trips
// the SDK's one-second deadlock detector.
func TestMain(m *testing.M) {
	_ = (&workflow.Info{}).GetBinaryChecksum()
	os.Exit(m.Run())
}

func principal(id string, party lifecycle.PartyCode, roles ...lifecycle.Role) lifecycle.Principal {
	return lifecycle.Principal{ID: id, Party: party, Roles: roles}
}

// proposal is a two-party proposal with one milestone owned by PA, due 30
// days after activation, with every text in both authentic languages of
// the dialogue (PA reads Spanish, the US English), so either party may
// approve it.
func proposal(id string) lifecycle.Propose {
	return lifecycle.Propose{
		ActivityID:      id,
		Dialogue:        "hld-pa-us",
		DialogueParties: dialogueParties,
		Parties:         []lifecycle.PartyCode{"PA", "US"},
		Title:           bilingual("Joint customs training", "Capacitación aduanera conjunta"),
		Summary: bilingual("Train border officials on shared risk profiles.",
			"Capacitar a funcionarios fronterizos en perfiles de riesgo compartidos."),
		Objectives: []lifecycle.Text{bilingual("Train 40 officials", "Capacitar a 40 funcionarios")},
		Milestones: []lifecycle.MilestoneSpec{
			{ID: "m1", Title: bilingual("First cohort trained", "Primera cohorte capacitada"), Owner: "PA", Due: "P30D",
				Indicator: &lifecycle.Indicator{Target: 40, Unit: bilingual("officials", "funcionarios")}},
		},
	}
}

// bilingual is a text written in English and Spanish.
func bilingual(en, es string) lifecycle.Text {
	return lifecycle.Text{"en": en, "es": es}
}

// recorder is the test double of the Record activity: it keeps every call
// that succeeds, after refusing the first failFirst attempts (the read
// model being down).
type recorder struct {
	mu        sync.Mutex
	calls     []activities.RecordInput
	failFirst int
	failed    int
	// refuseSeq, while refusing is set, makes the Record reaching that seq
	// fail as the read model refusing the data would.
	refuseSeq int64
	refusing  bool
	refused   int
}

func (r *recorder) Record(_ context.Context, in activities.RecordInput) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failed < r.failFirst {
		r.failed++
		return errors.New("read model unavailable")
	}
	if r.refusing && in.Snapshot.Seq == r.refuseSeq {
		r.refused++
		if !in.Refusable {
			return errors.New("invalid byte sequence for encoding \"UTF8\": 0x00")
		}
		return temporal.NewNonRetryableApplicationError("invalid byte sequence", activities.ErrRecordRefused, nil)
	}
	r.calls = append(r.calls, in)
	return nil
}

func (r *recorder) events() []lifecycle.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []lifecycle.Event
	for _, c := range r.calls {
		out = append(out, c.Events...)
	}
	return out
}

// outcome is what happened to one Update.
type outcome struct {
	name     string
	accepted bool
	rejected error
	state    lifecycle.State
	result   UpdateResult
	err      error
	done     bool
}

type harness struct {
	t        *testing.T
	env      *testsuite.TestWorkflowEnvironment
	rec      *recorder
	start    time.Time
	outcomes []*outcome
}

func newHarness(t *testing.T, start time.Time, rec *recorder) *harness {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Cooperation, workflow.RegisterOptions{Name: WorkflowName})
	env.RegisterActivityWithOptions(rec.Record, activity.RegisterOptions{Name: activities.RecordName})
	env.SetStartTime(start)
	env.SetTestTimeout(30 * time.Second)
	return &harness{t: t, env: env, rec: rec, start: start}
}

// at runs f when the workflow's clock reaches start+d.
func (h *harness) at(d time.Duration, f func()) {
	h.env.RegisterDelayedCallback(f, d)
}

// send schedules an Update at start+d and returns where its outcome lands.
func send[C lifecycle.Command](h *harness, d time.Duration, name string, actor lifecycle.Principal, cmd C) *outcome {
	o := &outcome{name: name}
	h.outcomes = append(h.outcomes, o)
	h.at(d, func() {
		h.env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
			OnAccept: func() { o.accepted = true },
			OnReject: func(err error) { o.rejected = err; o.done = true },
			OnComplete: func(res any, err error) {
				o.done = true
				o.err = err
				switch r := res.(type) {
				case lifecycle.State:
					o.state = r
				case UpdateResult:
					// Runs of version 2 answer compactly; the state the
					// answer speaks of is the workflow's at this moment.
					o.result = r
					o.state = h.query()
					if o.state.Seq < r.Seq || (o.state.Seq == r.Seq && StateHash(o.state) != r.StateHash) {
						h.t.Errorf("update %s answered seq %d hash %.8s; the workflow holds seq %d hash %.8s", name, r.Seq, r.StateHash, o.state.Seq, StateHash(o.state))
					}
				}
			},
		}, Request[C]{Actor: actor, Command: cmd})
	})
	return o
}

// query returns the workflow's current state.
func (h *harness) query() lifecycle.State {
	h.t.Helper()
	v, err := h.env.QueryWorkflow(QueryState)
	if err != nil {
		h.t.Fatalf("query: %v", err)
	}
	var s lifecycle.State
	if err := v.Get(&s); err != nil {
		h.t.Fatalf("decode state: %v", err)
	}
	return s
}

// run executes the workflow to its end and returns its final state; it
// fails the test unless the workflow completed and every Update resolved.
func (h *harness) run(in Input) lifecycle.State {
	h.t.Helper()
	final, next := h.execute(in)
	if next != nil {
		h.t.Fatal("workflow continued as new")
	}
	for _, o := range h.outcomes {
		if !o.done {
			h.t.Errorf("update %s never resolved", o.name)
		}
	}
	checkRecords(h.t, h.rec, final)
	return final
}

// execute runs one workflow run. It returns the final state, or the input
// of the next run if this one continued as new.
func (h *harness) execute(in Input) (lifecycle.State, *Input) {
	h.t.Helper()
	id := "continued"
	if in.Propose != nil {
		id = in.Propose.ActivityID
	} else if in.State != nil {
		id = in.State.ID
	}
	h.env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: id, TaskQueue: TaskQueue})
	h.env.ExecuteWorkflow(WorkflowName, in)
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("workflow did not complete")
	}
	var can *workflow.ContinueAsNewError
	if err := h.env.GetWorkflowError(); errors.As(err, &can) {
		var next Input
		if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
			h.t.Fatalf("decode continue-as-new input: %v", err)
		}
		return lifecycle.State{}, &next
	} else if err != nil {
		h.t.Fatalf("workflow failed: %v", err)
	}
	var s lifecycle.State
	if err := h.env.GetWorkflowResult(&s); err != nil {
		h.t.Fatalf("decode result: %v", err)
	}
	return s, nil
}

// checkRecords asserts that Record saw every event exactly once, in order,
// each call's snapshot at the sequence of its last event.
func checkRecords(t *testing.T, rec *recorder, final lifecycle.State) {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var seq int64
	for i, c := range rec.calls {
		if len(c.Events) == 0 {
			t.Fatalf("record call %d has no events", i)
		}
		for _, e := range c.Events {
			if e.Seq != seq+1 {
				t.Fatalf("record call %d: event seq %d after %d", i, e.Seq, seq)
			}
			seq = e.Seq
		}
		if c.Snapshot.Seq != seq {
			t.Fatalf("record call %d: snapshot seq %d, last event seq %d", i, c.Snapshot.Seq, seq)
		}
	}
	if seq != final.Seq {
		t.Fatalf("recorded up to seq %d, final state at %d", seq, final.Seq)
	}
}

// wantAccepted fails unless every given Update was accepted without error.
func wantAccepted(t *testing.T, os ...*outcome) {
	t.Helper()
	for _, o := range os {
		if o.rejected != nil || o.err != nil || !o.accepted {
			t.Errorf("update %s: accepted=%v rejected=%v err=%v", o.name, o.accepted, o.rejected, o.err)
		}
	}
}

// wantRejected fails unless the Update was refused by its validator with
// the given core error kind (so it never entered history).
func wantRejected(t *testing.T, o *outcome, kind lifecycle.Kind) {
	t.Helper()
	if o.accepted {
		t.Errorf("update %s was accepted; want rejected with %s", o.name, kind)
		return
	}
	ce, ok := CoreError(o.rejected)
	if !ok {
		t.Errorf("update %s: rejection %v carries no core error", o.name, o.rejected)
		return
	}
	if ce.Kind != kind {
		t.Errorf("update %s rejected with %s (%s); want %s", o.name, ce.Kind, ce.Message, kind)
	}
}

// eventsOf returns the recorded events of type typ.
func eventsOf(rec *recorder, typ lifecycle.EventType) []lifecycle.Event {
	var out []lifecycle.Event
	for _, e := range rec.events() {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// times returns the At of each event.
func times(evs []lifecycle.Event) []time.Time {
	out := make([]time.Time, len(evs))
	for i, e := range evs {
		out[i] = e.At
	}
	return out
}

func wantTimes(t *testing.T, what string, got []time.Time, want ...time.Time) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d times %v, want %v", what, len(got), got, want)
	}
	for i := range got {
		if !got[i].Equal(want[i]) {
			t.Errorf("%s[%d] at %s, want %s", what, i, got[i], want[i])
		}
	}
}
