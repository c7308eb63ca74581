package store

import (
	"context"
	"fmt"
)

// OutboxCount is how many deliveries of a channel are in a status, and how
// many of them no relay has handed on to a delivery workflow yet.
type OutboxCount struct {
	Channel      string
	Status       string
	Deliveries   int64
	Undispatched int64
}

// OutboxDepth counts the deliveries not sent (pending or failed), by
// channel and status.
func (s *Store) OutboxDepth(ctx context.Context) ([]OutboxCount, error) {
	rows, err := s.q.OutboxDepth(ctx)
	if err != nil {
		return nil, fmt.Errorf("count the outbox: %w", err)
	}
	out := make([]OutboxCount, len(rows))
	for i, r := range rows {
		out[i] = OutboxCount{Channel: r.Channel, Status: r.Status, Deliveries: r.Deliveries, Undispatched: r.Undispatched}
	}
	return out, nil
}
