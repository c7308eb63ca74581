package workflows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"pacto/activities"
)

// runDelivery runs the Delivery workflow with a Deliver that fails the
// first `failures` attempts with err, and returns the attempts made and
// the reason it was marked failed ("" if it was not).
func runDelivery(t *testing.T, in DeliveryInput, failures int, err error) (int32, string) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Delivery, workflow.RegisterOptions{Name: DeliveryWorkflowName})
	var attempts atomic.Int32
	env.RegisterActivityWithOptions(func(ctx context.Context, id string) error {
		if n := attempts.Add(1); int(n) <= failures {
			return err
		}
		return nil
	}, activity.RegisterOptions{Name: activities.DeliverName})
	var failedWith string
	env.RegisterActivityWithOptions(func(ctx context.Context, id, reason string) error {
		failedWith = reason
		return nil
	}, activity.RegisterOptions{Name: activities.MarkFailedName})
	env.ExecuteWorkflow(DeliveryWorkflowName, in)
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("delivery workflow: completed=%v err=%v", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
	return attempts.Load(), failedWith
}

// Each test runs under every delivery version: deliveries started by an
// older Pacto still retry and give up the way they did.
func eachVersion(t *testing.T, in DeliveryInput, f func(t *testing.T, in DeliveryInput)) {
	for v := 0; v <= DeliveryVersion; v++ {
		in.Version = v
		t.Run(fmt.Sprintf("version-%d", v), func(t *testing.T) { f(t, in) })
	}
}

func TestDeliveryRetriesThenSucceeds(t *testing.T) {
	eachVersion(t, DefaultDeliveryInput("email-1"), func(t *testing.T, in DeliveryInput) {
		n, failed := runDelivery(t, in, 3, errors.New("connection refused"))
		if n != 4 || failed != "" {
			t.Fatalf("%d attempts, failed %q; want success on the 4th", n, failed)
		}
	})
}

func TestDeliveryGivesUpAfterItsAttempts(t *testing.T) {
	in := DeliveryInput{ID: "webhook-x", Attempts: 5, FirstRetry: time.Second, MaxRetry: 4 * time.Second}
	eachVersion(t, in, func(t *testing.T, in DeliveryInput) {
		n, failed := runDelivery(t, in, 100, errors.New("503 busy"))
		if n != 5 || !strings.Contains(failed, "503 busy") {
			t.Fatalf("%d attempts, failed %q; want 5 then marked failed", n, failed)
		}
	})
}

func TestDeliveryStopsAtAPermanentError(t *testing.T) {
	perm := temporal.NewNonRetryableApplicationError("550 no such user", activities.PermanentErrorType, nil)
	eachVersion(t, DefaultDeliveryInput("email-2"), func(t *testing.T, in DeliveryInput) {
		n, failed := runDelivery(t, in, 100, perm)
		if n != 1 || !strings.Contains(failed, "550") {
			t.Fatalf("%d attempts, failed %q; want one attempt then marked failed", n, failed)
		}
	})
}

// A batch's deliveries go out side by side, each with its own retries: a
// permanent failure of one marks only that one failed.
func TestBatchDeliveriesEachRetryOnTheirOwn(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Delivery, workflow.RegisterOptions{Name: DeliveryWorkflowName})
	var mu sync.Mutex
	attempts := map[string]int{}
	env.RegisterActivityWithOptions(func(ctx context.Context, id string) error {
		mu.Lock()
		defer mu.Unlock()
		attempts[id]++
		switch {
		case id == "refused":
			return temporal.NewNonRetryableApplicationError("550 no such user", activities.PermanentErrorType, nil)
		case id == "flaky" && attempts[id] < 3:
			return errors.New("connection refused")
		}
		return nil
	}, activity.RegisterOptions{Name: activities.DeliverName})
	failed := map[string]string{}
	env.RegisterActivityWithOptions(func(ctx context.Context, id, reason string) error {
		mu.Lock()
		defer mu.Unlock()
		failed[id] = reason
		return nil
	}, activity.RegisterOptions{Name: activities.MarkFailedName})
	in := DefaultDeliveryInput("")
	in.IDs = []string{"ok", "flaky", "refused"}
	env.ExecuteWorkflow(DeliveryWorkflowName, in)
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("delivery workflow: completed=%v err=%v", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
	if attempts["ok"] != 1 || attempts["flaky"] != 3 || attempts["refused"] != 1 {
		t.Fatalf("attempts %v; want ok 1, flaky 3, refused 1", attempts)
	}
	if len(failed) != 1 || !strings.Contains(failed["refused"], "550") {
		t.Fatalf("marked failed: %v; want only refused", failed)
	}
}

// A batch claimed again unchanged restarts nothing; one that has grown is
// a new batch.
func TestBatchDeliveryWorkflowIDFollowsTheRows(t *testing.T) {
	a := BatchDeliveryWorkflowID([]string{"email-1", "email-2"})
	if a != BatchDeliveryWorkflowID([]string{"email-1", "email-2"}) {
		t.Fatal("the same batch got two IDs")
	}
	for _, other := range []string{
		BatchDeliveryWorkflowID([]string{"email-1", "email-2", "email-3"}),
		BatchDeliveryWorkflowID([]string{"email-1"}),
		BatchDeliveryWorkflowID([]string{"email-1\nemail-2"}),
	} {
		if other == a {
			t.Fatalf("different batches share the ID %s", a)
		}
	}
}

// A large batch keeps at most MaxParallelSends sends under way, and sends
// every one.
func TestBatchDeliveriesAreBoundedInParallel(t *testing.T) {
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Delivery, workflow.RegisterOptions{Name: DeliveryWorkflowName})
	var now, peak, sent atomic.Int32
	env.RegisterActivityWithOptions(func(ctx context.Context, id string) error {
		n := now.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		now.Add(-1)
		sent.Add(1)
		return nil
	}, activity.RegisterOptions{Name: activities.DeliverName})
	in := DefaultDeliveryInput("")
	for i := range 40 {
		in.IDs = append(in.IDs, fmt.Sprintf("email-%d", i))
	}
	env.ExecuteWorkflow(DeliveryWorkflowName, in)
	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("delivery workflow: completed=%v err=%v", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
	if sent.Load() != 40 || peak.Load() > MaxParallelSends || peak.Load() < 2 {
		t.Fatalf("sent %d, at most %d at once; want 40, at most %d (and some in parallel)", sent.Load(), peak.Load(), MaxParallelSends)
	}
}
