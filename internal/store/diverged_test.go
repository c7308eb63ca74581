package store_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// A lost workflow is noted once, in the audit chain and the snapshot,
// listed for admins until a later change is recorded, and the open
// activities the reconciler walks leave it out meanwhile.
func TestMarkLostNotesADivergenceUntilARunRecordsAgain(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	changes := historyOf(t, "act-lost")
	active := snapshotAfter(changes, 3)
	if err := st.Record(ctx, active, slices.Concat(changes...)); err != nil {
		t.Fatal(err)
	}
	other := historyOf(t, "act-other")
	if err := st.Record(ctx, snapshotAfter(other, 1), other[0]); err != nil {
		t.Fatal(err)
	}
	open, err := st.OpenActivities(ctx, "", 10)
	if err != nil || len(open) != 2 || open[0] != (store.OpenActivity{ID: "act-lost", Seq: active.Seq, Status: lifecycle.StatusActive}) {
		t.Fatalf("open activities %+v, %v", open, err)
	}
	if page, err := st.OpenActivities(ctx, "act-lost", 10); err != nil || len(page) != 1 || page[0].ID != "act-other" {
		t.Fatalf("the page after act-lost: %+v, %v", page, err)
	}

	terminated := lifecycle.TemporalRun{RunID: "run-1", Status: lifecycle.RunTerminated, Identity: "ops@host", Reason: "stuck"}
	asked := 0
	confirm := func(lost bool) store.LostRun {
		return func(context.Context) (lifecycle.TemporalRun, bool, error) {
			asked++
			return terminated, lost, nil
		}
	}
	at := t0.Add(5 * time.Hour)
	// A listing that is out of date is not acted on, nor is a run that
	// turns out to be running.
	if marked, err := st.MarkLost(ctx, "act-lost", active.Seq-1, at, confirm(true)); err != nil || marked || asked != 0 {
		t.Fatalf("with a stale seq: marked %v, %v, asked %d", marked, err, asked)
	}
	if marked, err := st.MarkLost(ctx, "act-lost", active.Seq, at, confirm(false)); err != nil || marked || asked != 1 {
		t.Fatalf("with the run alive: marked %v, %v", marked, err)
	}
	if marked, err := st.MarkLost(ctx, "act-lost", active.Seq, at, confirm(true)); err != nil || !marked {
		t.Fatalf("marked %v, %v", marked, err)
	}
	// Only once.
	if marked, err := st.MarkLost(ctx, "act-lost", active.Seq+1, at, confirm(true)); err != nil || marked || asked != 2 {
		t.Fatalf("marked again: %v, %v, asked %d", marked, err, asked)
	}

	got, err := st.Activity(ctx, "act-lost")
	if err != nil || got.Seq != active.Seq+1 || got.Status != lifecycle.StatusActive {
		t.Fatalf("snapshot at seq %d status %s, %v", got.Seq, got.Status, err)
	}
	audit, err := st.Audit(ctx, "act-lost", active.Seq, 10)
	if err != nil || len(audit) != 1 || audit[0].Type != string(lifecycle.EventWorkflowLost) || audit[0].Actor != lifecycle.SystemActor {
		t.Fatalf("audit after the change: %+v, %v", audit, err)
	}
	if v, err := st.VerifyAudit(ctx, "act-lost"); err != nil || !v.Valid || v.Events != int(active.Seq)+1 {
		t.Fatalf("verify: %+v, %v", v, err)
	}
	if n := count(t, st, "SELECT count(*) FROM notifications WHERE kind = 'workflow_lost'"); n != 0 {
		t.Fatalf("%d notifications of the lost workflow; admins list it instead", n)
	}
	ds, err := st.Divergences(ctx, 10)
	if err != nil || len(ds) != 1 {
		t.Fatalf("divergences %+v, %v", ds, err)
	}
	if d := ds[0]; d.ActivityID != "act-lost" || d.Title != "Customs training" || d.Dialogue != "hld" || d.Status != lifecycle.StatusActive ||
		d.Seq != active.Seq+1 || d.Temporal != terminated || d.DetectedAt.IsZero() {
		t.Fatalf("divergence %+v", d)
	}
	if n, err := st.CountDivergences(ctx); err != nil || n != 1 {
		t.Fatalf("count %d, %v", n, err)
	}
	if open, err := st.OpenActivities(ctx, "", 10); err != nil || len(open) != 1 || open[0].ID != "act-other" {
		t.Fatalf("open activities with one diverged: %+v, %v", open, err)
	}

	// A Record of the lost seq again (a stray write of the dead run)
	// resolves nothing; the restarted run's first change does.
	lostSnap := got
	if err := st.Record(ctx, lostSnap, nil); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.CountDivergences(ctx); n != 1 {
		t.Fatalf("resolved by a record at the lost seq")
	}
	admin := lifecycle.Principal{ID: "admin", Roles: []lifecycle.Role{lifecycle.RoleAdmin}}
	evs, err := lifecycle.Decide(lostSnap, lifecycle.Restart{Reason: "back"}, admin, at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	restarted := lifecycle.Apply(lostSnap, evs[0])
	if err := st.Record(ctx, restarted, evs); err != nil {
		t.Fatal(err)
	}
	if ds, err := st.Divergences(ctx, 10); err != nil || len(ds) != 0 {
		t.Fatalf("divergences after the restart: %+v, %v", ds, err)
	}
	if n := count(t, st, "SELECT count(*) FROM diverged_activities WHERE resolved_seq = "+strconv.FormatInt(restarted.Seq, 10)); n != 1 {
		t.Fatal("the row does not say which change resolved it")
	}
	if open, err := st.OpenActivities(ctx, "", 10); err != nil || len(open) != 2 {
		t.Fatalf("open activities after the restart: %+v, %v", open, err)
	}

	// An activity that has ended is never noted lost, whatever Temporal says.
	cancel := actor("pa-approver", "PA", lifecycle.RoleApprover)
	evs, err = lifecycle.Decide(restarted, lifecycle.Cancel{Reason: "done"}, cancel, at.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ended := lifecycle.Apply(restarted, evs[0])
	if err := st.Record(ctx, ended, evs); err != nil {
		t.Fatal(err)
	}
	if marked, err := st.MarkLost(ctx, "act-lost", ended.Seq, at, confirm(true)); err != nil || marked {
		t.Fatalf("an ended activity marked lost: %v, %v", marked, err)
	}
	// A failing confirmation fails the mark and writes nothing.
	boom := errors.New("temporal unavailable")
	oth, _ := st.Activity(ctx, "act-other")
	if _, err := st.MarkLost(ctx, "act-other", oth.Seq, at, func(context.Context) (lifecycle.TemporalRun, bool, error) {
		return lifecycle.TemporalRun{}, false, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("mark with a failing confirmation: %v", err)
	}
	if n, _ := st.CountDivergences(ctx); n != 0 {
		t.Fatalf("%d divergences after a failed confirmation", n)
	}
}

// Of the workers that look at once, one claims the pass; the next is
// claimed only once the interval has passed.
func TestClaimReconcilePass(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	results := make(chan bool, 8)
	for range 8 {
		go func() {
			ok, err := st.ClaimReconcilePass(ctx, time.Hour)
			if err != nil {
				t.Error(err)
			}
			results <- ok
		}()
	}
	claimed := 0
	for range 8 {
		if <-results {
			claimed++
		}
	}
	if claimed != 1 {
		t.Fatalf("%d of 8 workers claimed the pass; want 1", claimed)
	}
	if ok, err := st.ClaimReconcilePass(ctx, time.Second); err != nil || ok {
		t.Fatalf("claimed again at once: %v %v", ok, err)
	}
	time.Sleep(1100 * time.Millisecond)
	if ok, err := st.ClaimReconcilePass(ctx, time.Second); err != nil || !ok {
		t.Fatalf("not claimed after the interval: %v %v", ok, err)
	}
}
