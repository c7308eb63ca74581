package main

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/temporal"
	"go.temporal.io/server/temporaltest"

	"pacto/internal/lifecycle"
	"pacto/workflows"
)

// `pacto setup` on a namespace that does not exist says how to create it;
// with --create-namespace it creates it, with the retention asked, and
// returns only once Pacto's search attributes are usable there: a
// visibility query with them and a start that sets them (as a proposal
// does) succeed at once.
func TestSetupCreatesTheNamespaceAndReturnsOnceUsable(t *testing.T) {
	ctx := context.Background()
	quiet := sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	// As on a real cluster, a frontend reads search attributes from its
	// cache, which learns of new ones only when it next refreshes (the
	// test server otherwise reads them afresh each time).
	ts := temporaltest.NewServer(temporaltest.WithT(t), temporaltest.WithBaseClientOptions(client.Options{Logger: quiet}),
		temporaltest.WithBaseServerOptions(temporal.WithDynamicConfigClient(dynamicconfig.StaticClient{
			dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(): []dynamicconfig.ConstrainedValue{{Value: false}},
		})))
	const ns = "pacto-setup"
	t.Setenv("TEMPORAL_ADDRESS", ts.GetFrontendHostPort())
	t.Setenv("TEMPORAL_NAMESPACE", ns)

	code, _, stderr := pacto(t, "setup")
	if code != 1 || !strings.Contains(stderr, "namespace pacto-setup does not exist: create it with `pacto setup --create-namespace` on a self-hosted cluster, or in Temporal Cloud's console") {
		t.Fatalf("setup on a missing namespace: exit %d %q", code, stderr)
	}
	if code, _, stderr := pacto(t, "setup", "--create-namespace", "--retention", "12h"); code != 2 || !strings.Contains(stderr, "at least a day") {
		t.Fatalf("a retention under a day: exit %d %q", code, stderr)
	}

	began := time.Now()
	code, out, stderr := pacto(t, "setup", "--create-namespace", "--retention", "7d")
	if code != 0 || !strings.Contains(out, "namespace pacto-setup created (retention 7d)") || !strings.Contains(out, "search attributes registered on namespace pacto-setup") {
		t.Fatalf("setup --create-namespace: exit %d %q %q", code, out, stderr)
	}
	t.Logf("setup --create-namespace took %s: %s", time.Since(began).Round(time.Millisecond), strings.TrimSpace(out))

	c, err := client.Dial(client.Options{HostPort: ts.GetFrontendHostPort(), Namespace: ns, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: "PactoPendingParties = 'PA'"}); err != nil {
		t.Fatalf("a visibility query right after setup: %v", err)
	}
	proposed := lifecycle.State{ID: "act-setup", Dialogue: "hld-pa-us", Status: lifecycle.StatusProposed,
		Parties: []lifecycle.Party{{Code: "PA"}, {Code: "US"}}}
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "act-setup", TaskQueue: "nobody-polls",
		TypedSearchAttributes: workflows.StartSearchAttributes(proposed)}, workflows.WorkflowName)
	if err != nil {
		t.Fatalf("a start with Pacto's search attributes right after setup: %v", err)
	}
	_ = c.TerminateWorkflow(ctx, run.GetID(), run.GetRunID(), "test over")
	d, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns})
	if err != nil || d.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration() != 7*24*time.Hour {
		t.Fatalf("the namespace's retention: %v %v", d.GetConfig().GetWorkflowExecutionRetentionTtl(), err)
	}

	// Again: nothing to do, and it says so.
	code, out, stderr = pacto(t, "setup", "--create-namespace")
	if code != 0 || strings.Contains(out, "created") || !strings.Contains(out, "already registered") || !strings.Contains(out, "usable") {
		t.Fatalf("setup again: exit %d %q %q", code, out, stderr)
	}
}
