// Package activities holds the Temporal activities: the only code through
// which an activity workflow touches the world.
package activities

import (
	"context"

	"pacto/internal/lifecycle"
)

// RecordName is the registered name of the Record activity.
const RecordName = "Record"

// RecordInput is one change of an activity: the snapshot after it and the
// events that led there, in sequence order. Snapshot.Seq equals the Seq of
// the last event.
type RecordInput struct {
	Snapshot lifecycle.State   `json:"snapshot"`
	Events   []lifecycle.Event `json:"events"`
	// Refusable says the workflow handles a refusal that retrying cannot
	// cure (ErrRecordRefused); runs of older versions retry for ever.
	Refusable bool `json:"refusable,omitempty"`
}

// Recorder writes an activity's new state, its audit events and its
// notifications to the read model. Implementations must be idempotent on
// (activity, sequence): the workflow retries Record until it succeeds.
type Recorder interface {
	Record(ctx context.Context, in RecordInput) error
}
