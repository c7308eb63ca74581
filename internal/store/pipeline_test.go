package store

import (
	"context"
	"strings"
	"testing"

	"pacto/internal/store/db"
)

// A step must be exactly one query: one that makes none (or two) cannot
// be matched with its result, so send refuses the whole pipeline before
// anything reaches the database.
func TestPipelineRefusesAStepThatIsNotOneQuery(t *testing.T) {
	ctx := context.Background()
	var p pipeline
	p.queue("first", func(q *db.Queries) error { return q.LockActivity(ctx, "a") })
	p.queue("nothing", func(*db.Queries) error { return nil })
	p.queue("two", func(q *db.Queries) error {
		_ = q.LockActivity(ctx, "a")
		return q.LockActivity(ctx, "b")
	})
	if len(p.steps) != 1 || p.batch.Len() != 1 {
		t.Fatalf("%d steps and %d queries queued, want the one good step", len(p.steps), p.batch.Len())
	}
	err := p.send(ctx, nil) // no transaction: it must not be reached
	if err == nil || !strings.Contains(err.Error(), "nothing: the step made 0 queries") {
		t.Fatalf("send: %v", err)
	}
}
