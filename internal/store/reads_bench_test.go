package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"pacto/internal/store"
)

// BenchmarkReadModel times the read model's two hot reads with 100,000
// activities: one by id, and a list with every kind of filter the API's
// search box combines (status, pending party, free text). Run with
//
//	go test ./internal/store -run '^$' -bench ReadModel
func BenchmarkReadModel(b *testing.B) {
	ctx := context.Background()
	st := seeded(b)
	const n = 100_000
	copies(b, st, n)
	filters := map[string]store.Filter{
		"list-status-pending-text": {Status: "active", PendingParty: "US", Text: "training", VisibleTo: "US", Limit: 20},
		"list-pending":             {PendingParty: "US", VisibleTo: "US", Limit: 20},
		"list-text-rare":           {Text: "training 99999", VisibleTo: "US", Limit: 20},
		"list-newest":              {VisibleTo: "US", Limit: 20},
	}
	b.Run("get", func(b *testing.B) {
		i := 0
		for b.Loop() {
			i++
			if _, err := st.Activity(ctx, fmt.Sprintf("copy-%d", 1+i%n)); err != nil {
				b.Fatal(err)
			}
		}
	})
	for name, f := range filters {
		b.Run(name, func(b *testing.B) {
			f.Now = time.Now()
			for b.Loop() {
				if _, _, err := st.ListActivities(ctx, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// copies records a real activity and fills the read model with n copies
// of it: a quarter proposed (pending PA and US), half active, a quarter
// completed, titles all alike, each with the search text Record would
// write for it; then analyzes the table, as autovacuum would.
func copies(tb testing.TB, st *store.Store, n int) {
	tb.Helper()
	ctx := context.Background()
	changes := history(tb)
	for i := range changes {
		if err := st.Record(ctx, snapshotAfter(changes, i+1), changes[i]); err != nil {
			tb.Fatal(err)
		}
	}
	summary := snapshotAfter(changes, len(changes)).Summary
	if _, err := st.Pool().Exec(ctx, `
		INSERT INTO activities (id, dialogue_id, title, summary, status, version, seq, proposer, proposer_party,
			parties, pending_parties, horizons, next_due, amber_from, next_wake, snapshot, proposed_at, activated_at, closed_at, search)
		SELECT 'copy-' || g, dialogue_id, 'Customs training ' || g, summary,
			(ARRAY['proposed','active','active','completed'])[1 + g % 4], version, seq, proposer, proposer_party,
			parties, CASE WHEN g % 4 = 0 THEN ARRAY['PA','US'] ELSE '{}' END, horizons,
			next_due + g * interval '1 minute', amber_from + g * interval '1 minute',
			next_wake, jsonb_set(snapshot, '{id}', to_jsonb('copy-' || g)), proposed_at - g * interval '1 second', activated_at, closed_at,
			$2 || ' ' || g || CASE WHEN $3::text = '' THEN '' ELSE ' ' || $3::text END
		FROM activities, generate_series(1, $1::int) g`, n, store.Fold("Customs training"), store.Fold(summary.In(""))); err != nil {
		tb.Fatal(err)
	}
	if _, err := st.Pool().Exec(ctx, "ANALYZE activities"); err != nil {
		tb.Fatal(err)
	}
}
