package store_test

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkRecord times Record for each change of an activity's approval
// round (proposal, first approval, the approval that activates) against a
// real PostgreSQL: what a decision waits on besides Temporal. Run with
//
//	go test ./internal/store -run '^$' -bench Record
func BenchmarkRecord(b *testing.B) {
	ctx := context.Background()
	st := seeded(b)
	names := []string{"propose", "approve", "activate"}
	// Counted across runs: with -count, each sub-benchmark runs again on
	// the same database, and must record new activities, not retry old ones.
	i := 0
	for step, name := range names {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				i++
				b.StopTimer()
				changes := historyOf(b, fmt.Sprintf("%s-%d", name, i))
				for j := range step {
					if err := st.Record(ctx, snapshotAfter(changes, j+1), changes[j]); err != nil {
						b.Fatal(err)
					}
				}
				snap := snapshotAfter(changes, step+1)
				b.StartTimer()
				if err := st.Record(ctx, snap, changes[step]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
