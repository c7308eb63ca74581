package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"pacto/activities"
)

// DeliveryWorkflowName is the registered name of the delivery workflow.
const DeliveryWorkflowName = "Delivery"

// DeliveryInput names one outbox row and how hard to try.
type DeliveryInput struct {
	ID string `json:"id"`
	// Attempts bounds the tries before the delivery is marked failed.
	Attempts int `json:"attempts"`
	// FirstRetry and MaxRetry shape the exponential backoff.
	FirstRetry time.Duration `json:"first_retry"`
	MaxRetry   time.Duration `json:"max_retry"`
}

// DefaultDeliveryInput is the retry policy for one delivery: 10 attempts,
// from 30 seconds apart growing to an hour, about 8 hours in all.
func DefaultDeliveryInput(id string) DeliveryInput {
	return DeliveryInput{ID: id, Attempts: 10, FirstRetry: 30 * time.Second, MaxRetry: time.Hour}
}

// DeliveryWorkflowID is the workflow ID of a delivery's first try; one
// delivery has at most one such run.
func DeliveryWorkflowID(id string) string { return "delivery/" + id }

// Delivery sends one email or webhook with retries and backoff. When the
// attempts run out, or the error is permanent, it marks the delivery
// failed, where the admin API shows it and can retry it.
func Delivery(ctx workflow.Context, in DeliveryInput) error {
	send := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        in.FirstRetry,
			BackoffCoefficient:     2,
			MaximumInterval:        in.MaxRetry,
			MaximumAttempts:        int32(in.Attempts),
			NonRetryableErrorTypes: []string{activities.PermanentErrorType},
		},
	})
	err := workflow.ExecuteActivity(send, activities.DeliverName, in.ID).Get(ctx, nil)
	if err == nil {
		return nil
	}
	mark := workflow.WithActivityOptions(ctx, recordOptions)
	return workflow.ExecuteActivity(mark, activities.MarkFailedName, in.ID, err.Error()).Get(ctx, nil)
}
