package review_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"pacto/internal/lifecycle"
	"pacto/internal/review"
)

// BenchmarkReport compiles and recomputes the report of a dialogue of
// 1,000 activities beside another dialogue of as many.
func BenchmarkReport(b *testing.B) {
	ctx := context.Background()
	st := seeded(b)
	activated := t0.Add(2 * time.Hour)
	for i := range 2000 {
		dialogue := []string{"hld", "other"}[i%2]
		steps := approvals(activated)
		if i%3 == 0 {
			steps = append(steps, complete("m1", paCoordinator, activated.AddDate(0, 0, i%60)))
		}
		live(b, st, dialogue, fmt.Sprintf("act-%04d", i), t0, []lifecycle.MilestoneSpec{
			milestone("m1", "PA", "P30D", lifecycle.HorizonShort), milestone("m2", "US", "P1Y", lifecycle.HorizonLong)}, steps...)
	}
	b.Run("compile", func(b *testing.B) {
		for b.Loop() {
			if _, err := review.Compile(ctx, st, "hld", "2027-1", meetingAt, since, asOf); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("recompute", func(b *testing.B) {
		for b.Loop() {
			if _, err := review.Recompute(ctx, st, "hld", "2027-1", meetingAt, since, asOf); err != nil {
				b.Fatal(err)
			}
		}
	})
}
