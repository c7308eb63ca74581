package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"pacto/internal/codec"
	"pacto/workflows"
)

// digestSpec starts a digest run at the start of every hour (UTC): each
// run queues the digests whose hour has struck in their readers' zones,
// which for zones a half hour off UTC is half an hour after it.
var digestSpec = client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: time.Hour}}}

// digestAction is what the schedule starts: this build's digest workflow,
// on queue.
func digestAction(queue string) *client.ScheduleWorkflowAction {
	return &client.ScheduleWorkflowAction{
		ID:        workflows.DigestScheduleID,
		Workflow:  workflows.DigestWorkflowName,
		Args:      []any{workflows.DigestInput{Version: workflows.DigestVersion}},
		TaskQueue: queue,
		// A run that cannot finish gives way to the next hour's.
		WorkflowExecutionTimeout: 55 * time.Minute,
	}
}

// EnsureDigestSchedule creates the Temporal schedule that starts the
// digest workflow every hour on queue (empty: workflows.TaskQueue), or,
// if it exists with the action of an older build or another queue, brings
// it up to this one's. Any number of workers may call it at once; a
// missed hour (the server was down) is caught up within the hour, and a
// run still going when the next is due makes that one skip. dc is the
// data converter c was made with (nil: the SDK's default), to read the
// schedule's arguments.
func EnsureDigestSchedule(ctx context.Context, c client.Client, dc converter.DataConverter, queue string) error {
	if dc == nil {
		dc = converter.GetDefaultDataConverter()
	}
	queue = cmp.Or(queue, workflows.TaskQueue)
	sc := c.ScheduleClient()
	_, err := sc.Create(ctx, client.ScheduleOptions{
		ID:            workflows.DigestScheduleID,
		Spec:          digestSpec,
		Action:        digestAction(queue),
		Overlap:       enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		CatchupWindow: time.Hour,
	})
	if err == nil {
		return nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("create the digest schedule: %w", err)
	}
	err = sc.GetHandle(ctx, workflows.DigestScheduleID).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			v := digestActionVersion(in.Description.Schedule.Action, dc, queue)
			if v > workflows.DigestVersion || (v == workflows.DigestVersion && encodedAsNow(in.Description.Schedule.Action, dc)) {
				// As new as this build's, or newer: a worker of an older
				// build, still running, does not turn it back.
				return nil, temporal.ErrSkipScheduleUpdate
			}
			s := in.Description.Schedule
			s.Action, s.Spec = digestAction(queue), &digestSpec
			return &client.ScheduleUpdate{Schedule: &s}, nil
		},
	})
	if err != nil {
		return fmt.Errorf("update the digest schedule: %w", err)
	}
	return nil
}

// digestActionVersion is the DigestInput.Version a schedule's action
// starts runs on queue with; 0 if it starts something else. The
// schedule's arguments come back as stored, encoded by dc.
func digestActionVersion(a client.ScheduleAction, dc converter.DataConverter, queue string) int {
	wa, ok := a.(*client.ScheduleWorkflowAction)
	if !ok || wa.Workflow != workflows.DigestWorkflowName || wa.TaskQueue != queue || len(wa.Args) != 1 {
		return 0
	}
	p, ok := wa.Args[0].(*commonpb.Payload)
	if !ok {
		return 0
	}
	var in workflows.DigestInput
	if err := dc.FromPayload(p, &in); err != nil {
		return 0
	}
	return in.Version
}

// encodedAsNow reports whether the schedule's arguments (of an action
// digestActionVersion could read) are encoded as dc encodes today: with
// the same encoding and, when encrypted, under the same key. Arguments
// stored in plain text before the codec was turned on, or sealed under a
// key since rotated, are rewritten, so that the schedule does not keep
// needing a key about to be retired.
func encodedAsNow(a client.ScheduleAction, dc converter.DataConverter) bool {
	stored := a.(*client.ScheduleWorkflowAction).Args[0].(*commonpb.Payload)
	fresh, err := dc.ToPayload(workflows.DigestInput{Version: workflows.DigestVersion})
	if err != nil {
		return true // nothing better to write
	}
	for _, k := range []string{converter.MetadataEncoding, codec.MetadataKeyID} {
		if string(stored.GetMetadata()[k]) != string(fresh.GetMetadata()[k]) {
			return false
		}
	}
	return true
}

// keepDigestSchedule ensures the digest schedule, trying again with
// backoff while Temporal cannot be reached, until it succeeds or ctx ends.
func keepDigestSchedule(ctx context.Context, c client.Client, dc converter.DataConverter, queue string, log *slog.Logger) {
	pause := time.Second
	for {
		err := EnsureDigestSchedule(ctx, c, dc, queue)
		if err == nil || ctx.Err() != nil {
			return
		}
		log.WarnContext(ctx, "daily digests: cannot set their schedule yet; retrying", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Minute)
	}
}
