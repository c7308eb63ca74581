package app

import (
	"time"

	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
)

// testEnvironment is a time-skipping environment for workflows whose
// activities use a real PostgreSQL. Its deadlock detection allows more
// than the default second a workflow task may take: under the race
// detector on a busy two-core machine a task can stall that long without
// any deadlock, and the runs' behaviour, not their speed, is under test.
func testEnvironment(suite *testsuite.WorkflowTestSuite) *testsuite.TestWorkflowEnvironment {
	env := suite.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: 30 * time.Second})
	return env
}
