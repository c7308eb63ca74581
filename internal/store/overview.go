package store

import (
	"context"
	"fmt"
	"time"

	"pacto/internal/store/db"
)

// DialogueCounts count a dialogue's activities: in each status, and of
// those, how many have milestones of each term (short, medium, long).
type DialogueCounts struct {
	ByStatus     map[string]int64
	ByStatusTerm map[string]map[string]int64 // status → term → activities
}

// DialogueCounts counts the activities of dialogue, only those party
// visibleTo takes part in when it is not empty.
func (s *Store) DialogueCounts(ctx context.Context, dialogue, visibleTo string) (DialogueCounts, error) {
	out := DialogueCounts{ByStatus: map[string]int64{}, ByStatusTerm: map[string]map[string]int64{}}
	statuses, err := s.q.DialogueStatusCounts(ctx, db.DialogueStatusCountsParams{Dialogue: dialogue, VisibleParty: optional(visibleTo)})
	if err != nil {
		return out, fmt.Errorf("count the activities of dialogue %s: %w", dialogue, err)
	}
	for _, r := range statuses {
		out.ByStatus[r.Status] = r.Activities
	}
	terms, err := s.q.DialogueTermCounts(ctx, db.DialogueTermCountsParams{Dialogue: dialogue, VisibleParty: optional(visibleTo)})
	if err != nil {
		return out, fmt.Errorf("count the activities of dialogue %s by term: %w", dialogue, err)
	}
	for _, r := range terms {
		if out.ByStatusTerm[r.Status] == nil {
			out.ByStatusTerm[r.Status] = map[string]int64{}
		}
		out.ByStatusTerm[r.Status][r.Term] = r.Activities
	}
	return out, nil
}

// Timeliness is how a party met the milestones it owns that fell due in
// one period: completed by the due time, completed after it, and still
// open past it (in an activity that runs).
type Timeliness struct {
	Party   string
	Period  int // the period's index in the bounds given, from 0
	OnTime  int64
	Late    int64
	Overdue int64
}

// MilestoneTimeliness counts, per owner party and period, the milestones of
// dialogue due in the period: period i runs from bounds[i] up to
// bounds[i+1]. Only activities party visibleTo takes part in count when it
// is not empty. Overdue is as of now. Periods where a party had nothing
// due are left out.
func (s *Store) MilestoneTimeliness(ctx context.Context, dialogue, visibleTo string, bounds []time.Time, now time.Time) ([]Timeliness, error) {
	if len(bounds) < 2 {
		return nil, nil
	}
	rows, err := s.q.MilestoneTimeliness(ctx, db.MilestoneTimelinessParams{
		Now: now, Bounds: bounds, Dialogue: dialogue, VisibleParty: optional(visibleTo),
	})
	if err != nil {
		return nil, fmt.Errorf("count the milestones of dialogue %s by period: %w", dialogue, err)
	}
	out := make([]Timeliness, len(rows))
	for i, r := range rows {
		out[i] = Timeliness{Party: r.OwnerParty, Period: int(r.Period) - 1, OnTime: r.OnTime, Late: r.Late, Overdue: r.Overdue}
	}
	return out, nil
}
