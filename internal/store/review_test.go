package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// ReplayDialogue reads a dialogue's activities and their events from the
// audit log alone, cut at asOf, across batches, and refuses a broken chain.
func TestReplayDialogueReadsTheAuditLog(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	defer store.SetReplayBatch(2)()
	ids := []string{"act-5", "act-1", "act-4", "act-2", "act-3"}
	want := map[string]lifecycle.State{}
	for _, id := range ids {
		changes := historyOf(t, id)
		for i, evs := range changes {
			if err := st.Record(ctx, snapshotAfter(changes, i+1), evs); err != nil {
				t.Fatal(err)
			}
		}
		want[id] = snapshotAfter(changes, len(changes))
	}
	// The read model says act-3 left the dialogue; the audit log does not.
	if _, err := st.Pool().Exec(ctx, `UPDATE activities SET dialogue_id = 'elsewhere' WHERE id = 'act-3'`); err != nil {
		t.Fatal(err)
	}
	replay := func(asOf time.Time) (order []string, got map[string]lifecycle.State, err error) {
		got = map[string]lifecycle.State{}
		err = st.ReplayDialogue(ctx, "hld", asOf, func(id string, evs []store.AuditedEvent) error {
			order = append(order, id)
			var s lifecycle.State
			for _, e := range evs {
				s = lifecycle.Apply(s, e.Event)
			}
			got[id] = s
			return nil
		})
		return order, got, err
	}
	order, got, err := replay(t0.Add(24 * time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(order, []string{"act-1", "act-2", "act-3", "act-4", "act-5"}) {
		t.Fatalf("order: %v", order)
	}
	// Compared as JSON: decoding makes empty slices of nil ones.
	if g, w := asJSON(t, got), asJSON(t, want); g != w {
		t.Fatalf("replayed states differ from the core's:\n%+v\n%+v", got, want)
	}
	// Cut between the two approvals: proposed, approved by PA only.
	_, got, err = replay(t0.Add(90 * time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if s := got["act-2"]; s.Status != lifecycle.StatusProposed || s.Seq != 2 {
		t.Fatalf("act-2 at the cut: %s, seq %d", s.Status, s.Seq)
	}
	if order, _, err := replay(t0.Add(-time.Second)); err != nil || len(order) != 0 {
		t.Fatalf("before any proposal: %v, %v", order, err)
	}
	err = st.ReplayDialogue(ctx, "other", t0.Add(24*time.Hour), func(id string, _ []store.AuditedEvent) error {
		return fmt.Errorf("%s is not in dialogue other", id)
	})
	if err != nil {
		t.Fatal(err)
	}

	if _, err := st.Pool().Exec(ctx, `ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update;
		UPDATE audit_events SET content = replace(content, '"pa-approver"', '"mallory"') WHERE activity_id = 'act-4' AND seq = 2;
		ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := replay(t0.Add(24 * time.Hour)); err == nil || !strings.Contains(err.Error(), "act-4: event 2 breaks the hash chain") {
		t.Fatalf("a rewritten event: %v", err)
	}
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
