package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"pacto/internal/lifecycle"
	"pacto/internal/store/db"
)

// ErrNotEnded refuses to record a change in the read model of an activity
// that has not ended: its workflow records its changes.
var ErrNotEnded = errors.New("the activity has not ended")

// DecideEnded records a command on an activity that has ended, whose
// workflow records nothing more: with the activity locked, it decides
// the command on the read model's snapshot (decide runs the core), and
// records the events it makes, the snapshot they lead to, their audit
// rows and notifications, as Record does. Only publication decisions
// reach an ended activity. ErrNotEnded if the read model does not hold
// the activity as ended (its workflow may still be recording), and the
// core's error if it refuses.
func (s *Store) DecideEnded(ctx context.Context, id string, decide func(lifecycle.State) ([]lifecycle.Event, error)) (lifecycle.State, error) {
	var snap lifecycle.State
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		if err := q.LockActivity(ctx, id); err != nil {
			return fmt.Errorf("lock activity %s: %w", id, err)
		}
		row, err := q.GetActivity(ctx, id)
		if err != nil {
			return notFound(err)
		}
		if snap, err = decodeSnapshot(row); err != nil {
			return err
		}
		if !snap.Status.Terminal() {
			return ErrNotEnded
		}
		events, err := decide(snap)
		if err != nil || len(events) == 0 {
			return err
		}
		for _, e := range events {
			snap = lifecycle.Apply(snap, e)
		}
		return record(ctx, tx, snap, events)
	})
	if err != nil {
		return lifecycle.State{}, err
	}
	return snap, nil
}

// IATIParty is a party as the IATI export names it.
type IATIParty struct {
	Code     lifecycle.PartyCode
	Name     string
	Language string
	OrgRef   string
	OrgType  string
}

// IATIDialogue is what the IATI export needs of a dialogue: its
// publication settings and its parties.
type IATIDialogue struct {
	ID   string
	Name string
	// Languages are the dialogue's authentic languages.
	Languages []string
	DialogueIATI
	Parties []IATIParty
}

// Party returns the dialogue's party with code c.
func (d IATIDialogue) Party(c lifecycle.PartyCode) (IATIParty, bool) {
	for _, p := range d.Parties {
		if p.Code == c {
			return p, true
		}
	}
	return IATIParty{}, false
}

// IATIDialogue returns a dialogue's publication settings and parties;
// ErrNotFound if there is no such dialogue.
func (s *Store) IATIDialogue(ctx context.Context, id string) (IATIDialogue, error) {
	d, err := s.q.DialogueIATI(ctx, id)
	if err != nil {
		return IATIDialogue{}, notFound(err)
	}
	rows, err := s.q.ListDialogueParties(ctx, id)
	if err != nil {
		return IATIDialogue{}, fmt.Errorf("parties of dialogue %s: %w", id, err)
	}
	out := IATIDialogue{ID: d.ID, Name: d.Name, Languages: d.Languages, DialogueIATI: dialogueIATIOf(d.IatiReportingParty, d.IatiSector, d.IatiRecipientCountries)}
	for _, r := range rows {
		out.Parties = append(out.Parties, IATIParty{Code: lifecycle.PartyCode(r.Code), Name: r.Name, Language: r.Language, OrgRef: r.IatiOrgRef, OrgType: r.IatiOrgType})
	}
	return out, nil
}

// PublishedActivity is an activity every party consents to publish, as
// the IATI export reads it.
type PublishedActivity struct {
	// ID is the activity's id (the row's, which the snapshot repeats).
	ID    string
	State lifecycle.State
	// LastEventAt is when the last event in its audit log happened.
	LastEventAt time.Time
	// Evidence is every evidence link reported on its milestones, in the
	// order reported; the snapshot keeps only the latest of each.
	Evidence []Evidence
}

// Evidence is one evidence link reported on a milestone.
type Evidence struct {
	Milestone string
	URL       string
	At        time.Time
}

// PublishedPage returns, by id after after, at most limit of a
// dialogue's published activities, each checked against the core's
// rule again, with their evidence: one page of an export, which pages
// through a dialogue this way so that its memory does not grow with it.
// next is the id to ask for the next page after, or "" after the last.
func (s *Store) PublishedPage(ctx context.Context, dialogue, after string, limit int) (page []PublishedActivity, next string, err error) {
	rows, err := s.q.PublishedActivities(ctx, db.PublishedActivitiesParams{Dialogue: dialogue, AfterID: after, MaxRows: int32(limit)})
	if err != nil {
		return nil, "", fmt.Errorf("list the published activities of %s: %w", dialogue, err)
	}
	if len(rows) == limit {
		next = rows[len(rows)-1].ID
	}
	out := make([]PublishedActivity, 0, len(rows))
	ids := make([]string, 0, len(rows))
	byID := map[string]int{}
	for _, r := range rows {
		var st lifecycle.State
		if err := json.Unmarshal(r.Snapshot, &st); err != nil {
			return nil, "", fmt.Errorf("decode snapshot of %s: %w", r.ID, err)
		}
		if !lifecycle.Published(st) {
			// The column says published but the snapshot does not: the
			// snapshot is the truth, and nothing unconsented goes out.
			continue
		}
		byID[r.ID] = len(out)
		ids = append(ids, r.ID)
		out = append(out, PublishedActivity{ID: r.ID, State: st, LastEventAt: r.LastEventAt})
	}
	if len(ids) == 0 {
		return out, next, nil
	}
	evs, err := s.q.EvidenceOf(ctx, ids)
	if err != nil {
		return nil, "", fmt.Errorf("read the evidence of %s's activities: %w", dialogue, err)
	}
	for _, e := range evs {
		var links []string
		if err := json.Unmarshal(e.Evidence, &links); err != nil {
			return nil, "", fmt.Errorf("decode the evidence of %s/%d: %w", e.ActivityID, e.Seq, err)
		}
		a := &out[byID[e.ActivityID]]
		for _, l := range links {
			a.Evidence = append(a.Evidence, Evidence{Milestone: e.Milestone, URL: l, At: e.At})
		}
	}
	return out, next, nil
}
