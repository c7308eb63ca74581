package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"pacto/internal/lifecycle"
	"pacto/internal/store/db"
)

// DialogueName returns the name of a dialogue.
func (s *Store) DialogueName(ctx context.Context, id string) (string, error) {
	d, err := s.q.GetDialogue(ctx, id)
	if err != nil {
		return "", notFound(err)
	}
	return d.Name, nil
}

// ReviewActivities returns the stored snapshots of a dialogue's activities
// proposed by asOf, oldest proposal first (ties by id).
func (s *Store) ReviewActivities(ctx context.Context, dialogue string, asOf time.Time) ([]lifecycle.State, error) {
	rows, err := s.q.ReviewActivities(ctx, db.ReviewActivitiesParams{Dialogue: dialogue, AsOf: asOf})
	if err != nil {
		return nil, fmt.Errorf("activities of dialogue %s: %w", dialogue, err)
	}
	return decodeSnapshots(rows)
}

// TypedEvent names an audit event by its activity and type.
type TypedEvent struct {
	Activity string
	Type     lifecycle.EventType
}

// ReviewEvents returns, from the audit log, the events of the given types
// of a dialogue's activities that happened in (since, asOf], by activity
// and then in order.
func (s *Store) ReviewEvents(ctx context.Context, dialogue string, types []lifecycle.EventType, since, asOf time.Time) ([]TypedEvent, error) {
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = string(t)
	}
	rows, err := s.q.ReviewStatusEvents(ctx, db.ReviewStatusEventsParams{Dialogue: dialogue, Types: names, Since: since, AsOf: asOf})
	if err != nil {
		return nil, fmt.Errorf("events of dialogue %s: %w", dialogue, err)
	}
	out := make([]TypedEvent, len(rows))
	for i, r := range rows {
		out[i] = TypedEvent{Activity: r.ActivityID, Type: lifecycle.EventType(r.Type)}
	}
	return out, nil
}

// AuditedEvent is an event as the audit log holds it, with the time its
// row was recorded at (the event's time to the microsecond).
type AuditedEvent struct {
	lifecycle.Event
	RowAt time.Time
}

// replayBatch is how many activities' audit logs are read at a time, so
// a large dialogue is replayed in bounded memory.
var replayBatch = 200

// ReplayDialogue reads, from the audit log alone, the events recorded by
// asOf of every activity proposed in a dialogue by asOf, and hands each
// activity's events to fn in chain order, activities in proposal order.
// It checks each hash chain as it reads and fails on a broken one, so a
// replay never rests on an altered log.
func (s *Store) ReplayDialogue(ctx context.Context, dialogue string, asOf time.Time, fn func(id string, events []AuditedEvent) error) error {
	ids, err := s.q.AuditDialogueActivities(ctx, db.AuditDialogueActivitiesParams{Dialogue: dialogue, AsOf: asOf})
	if err != nil {
		return fmt.Errorf("audited activities of dialogue %s: %w", dialogue, err)
	}
	for start := 0; start < len(ids); start += replayBatch {
		batch := ids[start:min(start+replayBatch, len(ids))]
		rows, err := s.q.AuditEventsOf(ctx, db.AuditEventsOfParams{Ids: batch, AsOf: asOf})
		if err != nil {
			return fmt.Errorf("audit of dialogue %s: %w", dialogue, err)
		}
		byID := make(map[string][]AuditedEvent, len(batch))
		prev := map[string][]byte{}
		for _, r := range rows {
			p, ok := prev[r.ActivityID]
			if !ok {
				p = genesis
			}
			evs := byID[r.ActivityID]
			var c auditContent
			switch {
			case r.Seq != int64(len(evs))+1:
				return fmt.Errorf("audit of %s: event %d follows %d", r.ActivityID, r.Seq, len(evs))
			case !bytes.Equal(r.PrevHash, p) || !bytes.Equal(r.Hash, chainHash(p, []byte(r.Content))):
				return fmt.Errorf("audit of %s: event %d breaks the hash chain", r.ActivityID, r.Seq)
			}
			if err := json.Unmarshal([]byte(r.Content), &c); err != nil {
				return fmt.Errorf("audit of %s: decode event %d: %w", r.ActivityID, r.Seq, err)
			}
			if c.Activity != r.ActivityID || c.Event.Seq != r.Seq || string(c.Event.Type) != r.Type {
				return fmt.Errorf("audit of %s: event %d disagrees with its hashed content", r.ActivityID, r.Seq)
			}
			byID[r.ActivityID] = append(evs, AuditedEvent{Event: c.Event, RowAt: r.At})
			prev[r.ActivityID] = r.Hash
		}
		for _, id := range batch {
			if err := fn(id, byID[id]); err != nil {
				return err
			}
		}
	}
	return nil
}
