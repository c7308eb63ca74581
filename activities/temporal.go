package activities

import (
	"context"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
)

// CancelRequestName is the registered name of the activity that reads who
// asked Temporal to cancel a run.
const CancelRequestName = "CancelRequest"

// CancelRequestInput names the run whose cancellation request to read.
type CancelRequestInput struct {
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
}

// CancelRequest is what Temporal recorded of a request to cancel a run:
// the requesting client's identity and the reason it gave, if any.
type CancelRequest struct {
	Identity string `json:"identity,omitempty"`
	Reason   string `json:"reason,omitempty"`
	// Found is false when the run's history held no request (it was
	// asked by a parent's close policy, or the history could not be read
	// far enough back).
	Found bool `json:"found"`
}

// Inspecting reads what Temporal recorded of an activity's own workflow,
// which the SDK does not hand to workflow code: the workflow learns that
// it was asked to cancel, not who asked.
type Inspecting struct {
	Client client.Client
}

// cancelRequestPages bounds how far back CancelRequest reads: the request
// is among a run's last events, behind at most the handful of events the
// run adds while recording it.
const cancelRequestPages = 5

// CancelRequest reads the run's history from its end for the latest
// request to cancel it.
func (i *Inspecting) CancelRequest(ctx context.Context, in CancelRequestInput) (CancelRequest, error) {
	req := &workflowservice.GetWorkflowExecutionHistoryReverseRequest{
		Namespace:       activity.GetInfo(ctx).Namespace,
		Execution:       &commonpb.WorkflowExecution{WorkflowId: in.WorkflowID, RunId: in.RunID},
		MaximumPageSize: 100,
	}
	for range cancelRequestPages {
		page, err := i.Client.WorkflowService().GetWorkflowExecutionHistoryReverse(ctx, req)
		if err != nil {
			return CancelRequest{}, fmt.Errorf("read the history of %s/%s: %w", in.WorkflowID, in.RunID, err)
		}
		for _, e := range page.GetHistory().GetEvents() {
			if e.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED {
				a := e.GetWorkflowExecutionCancelRequestedEventAttributes()
				return CancelRequest{Identity: a.GetIdentity(), Reason: a.GetCause(), Found: true}, nil
			}
		}
		if len(page.GetNextPageToken()) == 0 {
			break
		}
		req.NextPageToken = page.GetNextPageToken()
	}
	return CancelRequest{}, nil
}
