package workflows

import (
	"crypto/sha256"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"pacto/activities"
)

// DeliveryWorkflowName is the registered name of the delivery workflow.
const DeliveryWorkflowName = "Delivery"

// DeliveryInput names what to send, and how hard to try: one outbox row
// (ID: an admin's retry, or a delivery started before batches), or a batch
// of rows (IDs), which is what the worker's relay starts.
type DeliveryInput struct {
	ID  string   `json:"id,omitempty"`
	IDs []string `json:"ids,omitempty"`
	// Attempts bounds the tries before a delivery is marked failed.
	Attempts int `json:"attempts"`
	// FirstRetry and MaxRetry shape the exponential backoff.
	FirstRetry time.Duration `json:"first_retry"`
	MaxRetry   time.Duration `json:"max_retry"`
	// Version is the behaviour the workflow runs under (see
	// DeliveryVersion); zero for deliveries started before versions.
	Version int `json:"version,omitempty"`
}

// DeliveryVersion is the behaviour new delivery workflows start under:
//
//	0  each send is an ordinary activity.
//	1  each send is a local activity: a delivery that succeeds at once
//	   costs the server no task beyond the workflow's own, and retries
//	   whose backoff outgrows a workflow task become durable timers.
const DeliveryVersion = 1

// MaxParallelSends bounds the sends one batch has under way at once: mail
// servers commonly limit the connections a client may hold.
const MaxParallelSends = 8

// DefaultDeliveryInput sends one delivery with the default retry policy:
// 10 attempts, from 30 seconds apart growing to an hour, about 8 hours in
// all.
func DefaultDeliveryInput(id string) DeliveryInput {
	return DeliveryInput{ID: id, Attempts: 10, FirstRetry: 30 * time.Second, MaxRetry: time.Hour, Version: DeliveryVersion}
}

// DeliveryWorkflowID is the workflow ID of a single delivery's first try;
// one delivery has at most one such run.
func DeliveryWorkflowID(id string) string { return "delivery/" + id }

// BatchDeliveryWorkflowID is the workflow ID that sends a batch of
// deliveries: the same batch always gets the same ID.
func BatchDeliveryWorkflowID(ids []string) string {
	h := sha256.New()
	for _, id := range ids {
		fmt.Fprintf(h, "%d:%s", len(id), id)
	}
	return fmt.Sprintf("deliveries/%x", h.Sum(nil)[:12])
}

// Delivery sends emails and webhooks, each with its own retries and
// backoff, all at once. When a delivery's attempts run out, or its error
// is permanent, it is marked failed, where the admin API shows it and can
// retry it.
func Delivery(ctx workflow.Context, in DeliveryInput) error {
	ids := in.IDs
	if in.ID != "" {
		ids = append(ids, in.ID)
	}
	wg := workflow.NewWaitGroup(ctx)
	errs := make([]error, len(ids))
	sending := workflow.NewSemaphore(ctx, MaxParallelSends)
	for i, id := range ids {
		wg.Add(1)
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer wg.Done()
			if errs[i] = sending.Acquire(ctx, 1); errs[i] != nil {
				return
			}
			defer sending.Release(1)
			errs[i] = deliverOne(ctx, in, id)
		})
	}
	wg.Wait(ctx)
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// deliverOne sends one delivery, and marks it failed if it cannot.
func deliverOne(ctx workflow.Context, in DeliveryInput, id string) error {
	retry := &temporal.RetryPolicy{
		InitialInterval:        in.FirstRetry,
		BackoffCoefficient:     2,
		MaximumInterval:        in.MaxRetry,
		MaximumAttempts:        int32(in.Attempts),
		NonRetryableErrorTypes: []string{activities.PermanentErrorType},
	}
	var send, mark workflow.Future
	local := in.Version >= 1
	if local {
		send = workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
			StartToCloseTimeout: time.Minute, ScheduleToCloseTimeout: 10 * 365 * 24 * time.Hour, RetryPolicy: retry,
		}), activities.DeliverName, id)
	} else {
		send = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: time.Minute, RetryPolicy: retry,
		}), activities.DeliverName, id)
	}
	err := send.Get(ctx, nil)
	if err == nil {
		return nil
	}
	if local {
		mark = workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, localRecordOptions), activities.MarkFailedName, id, err.Error())
	} else {
		mark = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, recordOptions), activities.MarkFailedName, id, err.Error())
	}
	return mark.Get(ctx, nil)
}
