package app

import (
	"fmt"

	"go.temporal.io/sdk/worker"
)

// DefaultWorkflowCache is how many workflows a process keeps in memory
// between their workflow tasks, unless told otherwise. An activity sleeps
// for weeks between changes, so keeping every open one would grow the
// process by about 100 KB per activity (its state and its goroutines);
// a workflow that is not kept is replayed from its history when its next
// task comes, which costs milliseconds. A thousand covers the activities
// being worked on at any one time with room to spare.
const DefaultWorkflowCache = 1000

// SetWorkflowCache bounds how many workflows the worker keeps in memory
// (0 keeps none: every workflow task replays the history). The bound is
// shared by every worker in the process and takes effect for workers
// created after it, once none is running: call it before starting the
// embedded Temporal server or any worker.
func SetWorkflowCache(n int) error {
	if n < 0 {
		return fmt.Errorf("workflow cache size %d: must be 0 or more", n)
	}
	worker.SetStickyWorkflowCacheSize(n)
	return nil
}
