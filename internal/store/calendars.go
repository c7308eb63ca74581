package store

import (
	"context"
	"errors"
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

// ErrChanged is returned when a row changed since the caller read it.
var ErrChanged = errors.New("changed since it was read")

// ReplaceDialogueCalendar keeps calendar as a dialogue's meeting calendar
// if the stored one is still read (its JSON as DialogueCalendar gave it);
// ErrChanged if someone changed it meanwhile.
func (s *Store) ReplaceDialogueCalendar(ctx context.Context, dialogue string, read, calendar []byte, by string) error {
	n, err := s.q.ReplaceDialogueCalendar(ctx, db.ReplaceDialogueCalendarParams{DialogueID: dialogue, Calendar: calendar, UpdatedBy: by, Read: read})
	if err != nil {
		return fmt.Errorf("set the calendar of dialogue %s: %w", dialogue, err)
	}
	if n == 0 {
		return fmt.Errorf("the calendar of dialogue %s: %w", dialogue, ErrChanged)
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
