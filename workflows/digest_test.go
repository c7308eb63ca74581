package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"pacto/activities"
	"pacto/internal/store"
)

// runDigestWith runs the Digest workflow started at start (and, if
// scheduled is set, as a schedule's run for that time) with a QueueDigests
// that fails its first `failures` attempts, and returns the times it was
// asked to queue for.
func runDigestWith(t *testing.T, start, scheduled time.Time, failures int) []time.Time {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	Register(env)
	var asked []time.Time
	env.RegisterActivityWithOptions(func(_ context.Context, at time.Time) (store.DigestRun, error) {
		asked = append(asked, at)
		if len(asked) <= failures {
			return store.DigestRun{}, errors.New("database unavailable")
		}
		return store.DigestRun{Due: 1, Queued: 1, Notices: 2}, nil
	}, activity.RegisterOptions{Name: activities.QueueDigestsName})
	env.SetStartTime(start)
	if !scheduled.IsZero() {
		key := temporal.NewSearchAttributeKeyTime("TemporalScheduledStartTime")
		if err := env.SetTypedSearchAttributesOnStart(temporal.NewSearchAttributes(key.ValueSet(scheduled))); err != nil {
			t.Fatal(err)
		}
	}
	env.ExecuteWorkflow(DigestWorkflowName, DigestInput{Version: DigestVersion})
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("digest: completed %v, error %v", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
	var run store.DigestRun
	if err := env.GetWorkflowResult(&run); err != nil || run != (store.DigestRun{Due: 1, Queued: 1, Notices: 2}) {
		t.Fatalf("result %+v, %v", run, err)
	}
	return asked
}

// A run queues as of the hour the schedule meant it for, even when a
// worker takes it up late, and retries the queueing until it succeeds.
func TestDigestQueuesAsOfItsScheduledHour(t *testing.T) {
	hour := time.Date(2027, 3, 16, 13, 0, 0, 0, time.UTC)
	asked := runDigestWith(t, hour.Add(3*time.Minute), hour, 3)
	if len(asked) != 4 {
		t.Fatalf("%d attempts; want the 3 failures and a success", len(asked))
	}
	for _, at := range asked {
		if !at.Equal(hour) {
			t.Fatalf("queued as of %s; want the scheduled %s", at, hour)
		}
	}
	// Started by hand, without a schedule: as of its start.
	start := hour.Add(17 * time.Minute)
	if asked := runDigestWith(t, start, time.Time{}, 0); len(asked) != 1 || !asked[0].Equal(start) {
		t.Fatalf("a run without a schedule queued as of %v; want %s", asked, start)
	}
}
