package workflows

import (
	"context"
	"errors"
	"fmt"
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
// ahead, the schedule is removed.
func SetReviewSchedule(ctx context.Context, c client.Client, in ReviewInput, now time.Time) error {
	in.Version, in.Meeting = ReviewVersion, 0
	dialogue, policy := in.Dialogue, in.withDefaults()
	var ahead []review.Meeting
	for _, m := range in.Meetings {
		if draft := m.At.Add(-policy.DraftBefore); draft.After(now) {
			ahead = append(ahead, review.Meeting{Number: m.Number, At: draft, Host: m.Host})
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
		ID:        "review-" + dialogue,
		Workflow:  ReviewWorkflowName,
		Args:      []any{in},
		TaskQueue: TaskQueue,
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
