package api

import (
	"context"
	"slices"
	"time"

	"pacto/internal/store"
)

// DialoguesOf lists the dialogues principal p takes part in through its
// party; an admin, every dialogue.
func (s *Server) DialoguesOf(ctx context.Context, p store.Principal) ([]store.Dialogue, error) {
	ds, err := s.store.Dialogues(ctx)
	if err != nil {
		return nil, err
	}
	if hasRole(p, "admin") {
		return ds, nil
	}
	out := []store.Dialogue{}
	for _, d := range ds {
		if p.Party != "" && slices.Contains(d.Parties, p.Party) {
			out = append(out, d)
		}
	}
	return out, nil
}

// DialogueStats are a dialogue's figures, counted in the read model over
// the activities a principal may see.
type DialogueStats struct {
	Dialogue store.Dialogue
	Parties  []store.Party // the dialogue's, in its order
	Counts   store.DialogueCounts
	// Timeliness counts, per owner party and period, the milestones met on
	// time, met late and overdue (see store.MilestoneTimeliness).
	Timeliness []store.Timeliness
}

// DialogueStats returns dialogue id's figures for principal p, of the
// activities p may see as List shows them; periods run from bounds[i] to
// bounds[i+1]. A dialogue p's party is not in is not found, as an
// activity p may not see is.
func (s *Server) DialogueStats(ctx context.Context, p store.Principal, id string, bounds []time.Time) (DialogueStats, error) {
	ds, err := s.DialoguesOf(ctx, p)
	if err != nil {
		return DialogueStats{}, err
	}
	i := slices.IndexFunc(ds, func(d store.Dialogue) bool { return d.ID == id })
	if i < 0 {
		return DialogueStats{}, fail(probNotFound, "no such dialogue")
	}
	out := DialogueStats{Dialogue: ds[i]}
	parties, err := s.store.Parties(ctx)
	if err != nil {
		return DialogueStats{}, err
	}
	for _, code := range out.Dialogue.Parties {
		if j := slices.IndexFunc(parties, func(p store.Party) bool { return p.Code == code }); j >= 0 {
			out.Parties = append(out.Parties, parties[j])
		}
	}
	visibleTo := p.Party
	if hasRole(p, "admin") {
		visibleTo = ""
	}
	if out.Counts, err = s.store.DialogueCounts(ctx, id, visibleTo); err != nil {
		return DialogueStats{}, err
	}
	if out.Timeliness, err = s.store.MilestoneTimeliness(ctx, id, visibleTo, bounds, s.now()); err != nil {
		return DialogueStats{}, err
	}
	return out, nil
}
