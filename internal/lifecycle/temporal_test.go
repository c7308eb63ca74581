package lifecycle_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	lc "pacto/internal/lifecycle"
)

var (
	temporalActor = lc.Principal{ID: lc.TemporalActor}
	systemActor   = lc.Principal{ID: lc.SystemActor}
	admin         = lc.Principal{ID: "admin", Roles: []lc.Role{lc.RoleAdmin}}
)

// A cancellation asked of Temporal ends the activity as cancelled, by
// Temporal, with the identity and reason Temporal recorded, from any
// status that has not ended; no role or reason is needed.
func TestCancelInTemporal(t *testing.T) {
	active := activeAt(t, proposed(t, proposal()), t0)
	suspended, _ := run(t, active, lc.Suspend{Reason: "elections"}, approver("PA"), t0.Add(day))
	for name, s := range map[string]lc.State{"proposed": proposed(t, proposal()), "active": active, "suspended": suspended} {
		t.Run(name, func(t *testing.T) {
			at := t0.Add(2 * day)
			got, evs := run(t, s, lc.CancelInTemporal{Identity: "temporal-cli:ops@host", Reason: "stuck run"}, temporalActor, at)
			wantTypes(t, evs, lc.EventCancelled)
			e := evs[0]
			if e.Actor != lc.TemporalActor || e.Party != "" || e.Comment != "stuck run" || e.Seq != s.Seq+1 ||
				e.Temporal == nil || e.Temporal.Identity != "temporal-cli:ops@host" || e.Temporal.Reason != "stuck run" {
				t.Fatalf("event %+v (temporal %+v)", e, e.Temporal)
			}
			if got.Status != lc.StatusCancelled || !got.ClosedAt.Equal(at) || got.Reason != "stuck run" {
				t.Fatalf("state %s closed %s reason %q", got.Status, got.ClosedAt, got.Reason)
			}
			noWake(t, got)
		})
	}

	// Without a reason the activity still ends; its last reason stays.
	got, evs := run(t, suspended, lc.CancelInTemporal{}, temporalActor, t0.Add(2*day))
	if got.Status != lc.StatusCancelled || evs[0].Comment != "" || got.Reason != "elections" {
		t.Fatalf("without a reason: %s, comment %q, reason %q", got.Status, evs[0].Comment, got.Reason)
	}

	// An activity that has ended takes it as nothing to do.
	for _, ended := range []lc.State{got, declined(t)} {
		if evs, err := lc.Decide(ended, lc.CancelInTemporal{Identity: "x"}, temporalActor, t0.Add(3*day)); err != nil || len(evs) != 0 {
			t.Fatalf("on a %s activity: %v %v; want nothing", ended.Status, types(evs), err)
		}
	}

	// Nobody else records one: not an approver, not Pacto itself.
	refuse(t, active, lc.CancelInTemporal{}, approver("PA"), t0, lc.KindForbidden, "")
	refuse(t, active, lc.CancelInTemporal{}, systemActor, t0, lc.KindForbidden, "")
	refuse(t, active, lc.CancelInTemporal{}, admin, t0, lc.KindForbidden, "")
	refuse(t, lc.State{}, lc.CancelInTemporal{}, temporalActor, t0, lc.KindInvalidTransition, "")
}

// What Temporal recorded comes from outside any form: it is made
// storable and bounded rather than refused, since the cancellation
// happened either way.
func TestCancelInTemporalKeepsOutsideTextStorable(t *testing.T) {
	active := activeAt(t, proposed(t, proposal()), t0)
	identity := "ops\x00@host\x07" + string([]byte{0xff}) + strings.Repeat("h", 500)
	reason := strings.Repeat("r", 5000) + "\uFFFF"
	_, evs := run(t, active, lc.CancelInTemporal{Identity: identity, Reason: reason}, temporalActor, t0)
	run := evs[0].Temporal
	for what, v := range map[string]string{"identity": run.Identity, "reason": run.Reason, "comment": evs[0].Comment} {
		if err := lc.CheckText(v); err != nil {
			t.Errorf("%s %q: %v", what, v[:min(len(v), 40)], err)
		}
	}
	if n := utf8.RuneCountInString(run.Identity); n != 200 || !strings.HasPrefix(run.Identity, "ops\uFFFD@host\uFFFD\uFFFD") {
		t.Errorf("identity %q (%d runes)", run.Identity[:20], n)
	}
	if n := utf8.RuneCountInString(run.Reason); n != 4000 || !strings.HasSuffix(run.Reason, "…") {
		t.Errorf("reason of %d runes ending %q", n, run.Reason[len(run.Reason)-5:])
	}
}

// Pacto's reconciler notes a lost workflow: an event with what Temporal
// said, which changes nothing else of the activity, so a restart goes on
// from where the lost run had recorded.
func TestNoteWorkflowLost(t *testing.T) {
	active := activeAt(t, proposed(t, proposal()), t0)
	at := t0.Add(3 * day)
	lost := lc.TemporalRun{RunID: "run-1", Status: lc.RunTerminated, Identity: "ops@host", Reason: "by mistake"}
	got, evs := run(t, active, lc.NoteWorkflowLost{Run: lost}, systemActor, at)
	wantTypes(t, evs, lc.EventWorkflowLost)
	if e := evs[0]; e.Actor != lc.SystemActor || *e.Temporal != lost || !e.At.Equal(at) || e.Seq != active.Seq+1 {
		t.Fatalf("event %+v", e)
	}
	want := active.Clone()
	want.Seq = active.Seq + 1
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(want)
	if !bytes.Equal(a, b) {
		t.Fatalf("the state changed beyond its seq:\n%s\nwant\n%s", a, b)
	}
	if !wake(t, got).Equal(wake(t, active)) {
		t.Fatalf("the clock moved: %s, was %s", wake(t, got), wake(t, active))
	}

	refuse(t, active, lc.NoteWorkflowLost{Run: lost}, temporalActor, at, lc.KindForbidden, "")
	refuse(t, active, lc.NoteWorkflowLost{Run: lost}, admin, at, lc.KindForbidden, "")
	refuse(t, active, lc.NoteWorkflowLost{}, systemActor, at, lc.KindInvalidInput, "run.status")
	refuse(t, declined(t), lc.NoteWorkflowLost{Run: lost}, systemActor, at, lc.KindInvalidTransition, "")
	refuse(t, lc.State{}, lc.NoteWorkflowLost{Run: lost}, systemActor, at, lc.KindInvalidTransition, "")
}

// An admin restarts an activity that has not ended, with a reason; the
// event says who, and the activity is otherwise as it was.
func TestRestart(t *testing.T) {
	active := activeAt(t, proposed(t, proposal()), t0)
	lost, _ := run(t, active, lc.NoteWorkflowLost{Run: lc.TemporalRun{Status: lc.RunNotFound}}, systemActor, t0.Add(day))
	at := t0.Add(2 * day)
	got, evs := run(t, lost, lc.Restart{Reason: "terminated by mistake"}, admin, at)
	wantTypes(t, evs, lc.EventRestarted)
	if e := evs[0]; e.Actor != "admin" || e.Comment != "terminated by mistake" || e.Seq != lost.Seq+1 {
		t.Fatalf("event %+v", e)
	}
	if got.Status != lc.StatusActive || got.Reason != active.Reason || !wake(t, got).Equal(wake(t, active)) {
		t.Fatalf("state %s reason %q", got.Status, got.Reason)
	}
	// Commands go on as before.
	if _, evs := run(t, got, lc.ReportProgress{MilestoneID: "m1", Note: "back"}, coord("PA"), at); len(evs) != 1 {
		t.Fatalf("progress after the restart: %v", types(evs))
	}

	refuse(t, active, lc.Restart{Reason: "r"}, approver("PA"), at, lc.KindForbidden, "")
	refuse(t, active, lc.Restart{Reason: "r"}, systemActor, at, lc.KindForbidden, "")
	refuse(t, active, lc.Restart{Reason: " "}, admin, at, lc.KindInvalidInput, "reason")
	refuse(t, active, lc.Restart{Reason: "a\x00b"}, admin, at, lc.KindInvalidInput, "reason")
	refuse(t, declined(t), lc.Restart{Reason: "r"}, admin, at, lc.KindInvalidTransition, "")
	refuse(t, lc.State{}, lc.Restart{Reason: "r"}, admin, at, lc.KindInvalidTransition, "")
}

func declined(t *testing.T) lc.State {
	t.Helper()
	s, _ := run(t, proposed(t, proposal()), lc.DecideProposal{Version: 1, Decision: lc.DecisionDecline, Comment: "no"}, approver("US"), t0.Add(time.Hour))
	if s.Status != lc.StatusDeclined {
		t.Fatalf("declined: %s", s.Status)
	}
	return s
}
