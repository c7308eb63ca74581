package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"pacto/activities"
	"pacto/internal/store"
)

// DigestWorkflowName is the registered name of the daily digest workflow.
const DigestWorkflowName = "Digest"

// DigestScheduleID names the Temporal schedule that starts the digest
// workflow at the start of every hour.
const DigestScheduleID = "pacto-digest"

// DigestInput is what the schedule starts each digest run with.
type DigestInput struct {
	// Version is the behaviour the run follows (see DigestVersion); the
	// schedule's action carries the version of the worker that last set it.
	Version int `json:"version,omitempty"`
}

// DigestVersion is the behaviour new digest runs start under:
//
//	1  one QueueDigests activity, as of the time the schedule meant the
//	   run for (its start time, when no schedule started it).
const DigestVersion = 1

// scheduledStartKey is the search attribute a schedule sets on each run
// it starts: the time the run was due.
var scheduledStartKey = temporal.NewSearchAttributeKeyTime("TemporalScheduledStartTime")

// digestOptions retry the queueing with backoff, and give up well before
// the next hour's run, which the schedule would otherwise skip for
// overlapping; that run then queues whatever is still due.
var digestOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    10 * time.Minute,
	ScheduleToCloseTimeout: 50 * time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    time.Minute,
	},
}

// Digest queues the daily digests due at the hour it runs for: each
// principal whose chosen hour has struck in their party's zone since their
// last digest gets one mail of the notices collected for them, queued in
// the outbox for the relay and the Delivery workflow to send. Using the
// scheduled time, rather than when a worker got round to the run, keeps a
// run that starts a little late on its own hour; a run that comes hours
// late (after an outage) still queues every digest whose hour has passed.
func Digest(ctx workflow.Context, in DigestInput) (store.DigestRun, error) {
	at, ok := workflow.GetTypedSearchAttributes(ctx).GetTime(scheduledStartKey)
	if !ok || at.IsZero() {
		at = workflow.Now(ctx)
	}
	var run store.DigestRun
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, digestOptions), activities.QueueDigestsName, at).Get(ctx, &run)
	return run, err
}
