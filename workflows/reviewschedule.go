package workflows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"pacto/internal/review"
)

// ReviewScheduleID names the Temporal schedule that starts the Review
// workflow of each of a dialogue's meetings. Each run's workflow ID is
// this followed by the time it was started for (the schedule adds it).
func ReviewScheduleID(dialogue string) string { return "pacto-meetings-" + dialogue }

// reviewOverlap lets each firing start its run: each is another meeting's
// review, which must start even while the previous meeting's is still
// going (meetings on given dates may be less than a draft's lead apart).
const reviewOverlap = enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL

// reviewCatchup is how late a missed draft (Temporal was down) is still
// started.
const reviewCatchup = 24 * time.Hour

// SetReviewSchedule creates or updates the meetings schedule of
// in.Dialogue so that it starts a Review run with in at each draft time
// still to come after now (in.DraftBefore ahead of each of in.Meetings,
// the calendar's whole list). The runs all get the whole list and each
// finds its meeting from the time it was started for. With no draft time
// ahead, the schedule is removed. The runs go to TaskQueue; see
// SetReviewScheduleOn for another queue.
func SetReviewSchedule(ctx context.Context, c client.Client, in ReviewInput, now time.Time) error {
	return SetReviewScheduleOn(ctx, c, TaskQueue, in, now)
}

// SetReviewScheduleOn is SetReviewSchedule with the runs on queue (empty:
// TaskQueue).
func SetReviewScheduleOn(ctx context.Context, c client.Client, queue string, in ReviewInput, now time.Time) error {
	if queue == "" {
		queue = TaskQueue
	}
	in.Version, in.Meeting = ReviewVersion, 0
	dialogue, policy := in.Dialogue, in.Defaults()
	var ahead []review.Meeting
	started := in.Started
	in.Started = nil
	for _, m := range in.Meetings {
		draft := m.At.Add(-policy.DraftBefore)
		switch {
		case slices.Contains(started, m.Number):
			// Its run is under way and follows the calendar itself.
		case draft.After(now):
			ahead = append(ahead, review.Meeting{Number: m.Number, At: draft, Host: m.Host})
		case m.At.After(now):
			// Its draft time has passed (the calendar came late, or the
			// meeting was moved closer): its run starts now.
			if err := startReview(ctx, c, queue, in, m, draft); err != nil {
				return err
			}
		}
	}
	id := ReviewScheduleID(dialogue)
	sc := c.ScheduleClient()
	if len(ahead) == 0 {
		err := sc.GetHandle(ctx, id).Delete(ctx)
		var missing *serviceerror.NotFound
		if err != nil && !errors.As(err, &missing) {
			return fmt.Errorf("remove the meetings schedule of %s: %w", dialogue, err)
		}
		return nil
	}
	spec := review.ScheduleSpec(ahead)
	action := &client.ScheduleWorkflowAction{
		ID:        "review-" + dialogue, // the schedule adds the time: see ReviewRunID
		Workflow:  ReviewWorkflowName,
		Args:      []any{in},
		TaskQueue: queue,
	}
	_, err := sc.Create(ctx, client.ScheduleOptions{
		ID: id, Spec: spec, Action: action,
		Overlap:       reviewOverlap,
		CatchupWindow: reviewCatchup,
	})
	if err == nil {
		return nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("create the meetings schedule of %s: %w", dialogue, err)
	}
	err = sc.GetHandle(ctx, id).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := in.Description.Schedule
			s.Spec, s.Action = &spec, action
			s.Policy = &client.SchedulePolicies{Overlap: reviewOverlap, CatchupWindow: reviewCatchup}
			return &client.ScheduleUpdate{Schedule: &s}, nil
		},
	})
	if err != nil {
		return fmt.Errorf("update the meetings schedule of %s: %w", dialogue, err)
	}
	return nil
}

// ReviewRunID is the workflow ID of the Review run of dialogue's meeting
// whose draft is due at draft: the ID the schedule gives the run it
// starts then (its action's ID and the time), so that a run started by
// hand for a draft time already past and one the schedule started, or
// catches up, are one and the same.
func ReviewRunID(dialogue string, draft time.Time) string {
	return "review-" + dialogue + "-" + draft.UTC().Format(time.RFC3339)
}

// startReview starts the Review run of meeting m, unless it was started
// already.
func startReview(ctx context.Context, c client.Client, queue string, in ReviewInput, m review.Meeting, draft time.Time) error {
	in.Meeting = m.Number
	id := ReviewRunID(in.Dialogue, draft)
	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: queue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
	}, ReviewWorkflowName, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		return fmt.Errorf("start the review of %s meeting %d: %w", in.Dialogue, m.Number, err)
	}
	return nil
}

// PauseReviewSchedule pauses or resumes the meetings schedule of
// dialogue, with note saying why (shown in the Temporal Web UI). A paused
// schedule starts no review; runs under way go on. Without a schedule
// (no draft time ahead) there is nothing to pause.
func PauseReviewSchedule(ctx context.Context, c client.Client, dialogue string, paused bool, note string) error {
	h := c.ScheduleClient().GetHandle(ctx, ReviewScheduleID(dialogue))
	d, err := h.Describe(ctx)
	var missing *serviceerror.NotFound
	if errors.As(err, &missing) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the meetings schedule of %s: %w", dialogue, err)
	}
	if d.Schedule.State != nil && d.Schedule.State.Paused == paused {
		return nil
	}
	if paused {
		err = h.Pause(ctx, client.SchedulePauseOptions{Note: note})
	} else {
		err = h.Unpause(ctx, client.ScheduleUnpauseOptions{Note: note})
	}
	if err != nil {
		return fmt.Errorf("pause (%v) the meetings schedule of %s: %w", paused, dialogue, err)
	}
	return nil
}
