package store

import (
	"context"
	"fmt"

	"pacto/internal/store/db"
)

// SetDialogueCalendar keeps a dialogue's meeting calendar, as JSON, and
// who set it.
func (s *Store) SetDialogueCalendar(ctx context.Context, dialogue string, calendar []byte, by string) error {
	if err := s.q.SetDialogueCalendar(ctx, db.SetDialogueCalendarParams{DialogueID: dialogue, Calendar: calendar, UpdatedBy: by}); err != nil {
		return fmt.Errorf("set the calendar of dialogue %s: %w", dialogue, err)
	}
	return nil
}

// DialogueCalendar returns a dialogue's meeting calendar as JSON;
// ErrNotFound when it has none.
func (s *Store) DialogueCalendar(ctx context.Context, dialogue string) ([]byte, error) {
	row, err := s.q.DialogueCalendar(ctx, dialogue)
	if err != nil {
		return nil, notFound(err)
	}
	return row.Calendar, nil
}
