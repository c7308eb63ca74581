package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"pacto/internal/lifecycle"
	"pacto/internal/store/db"
)

// Activity returns the stored snapshot of an activity.
func (s *Store) Activity(ctx context.Context, id string) (lifecycle.State, error) {
	row, err := s.q.GetActivity(ctx, id)
	if err != nil {
		return lifecycle.State{}, notFound(err)
	}
	return decodeSnapshot(row)
}

// ActivityAndFailure returns an activity as the read model holds it and,
// if the read model refused a later change of it, that failure, read in
// one round trip: what a reader is shown. Of the failure, only ActivityID,
// Seq, RecordedSeq and FirstFailedAt are set.
func (s *Store) ActivityAndFailure(ctx context.Context, id string) (lifecycle.State, *RecordFailure, error) {
	row, err := s.q.GetActivityAndFailure(ctx, id)
	if err != nil {
		return lifecycle.State{}, nil, notFound(err)
	}
	st, err := decodeSnapshot(row.Activity)
	if err != nil || row.FailedSeq == nil || row.FailedSince == nil {
		return st, nil, err
	}
	return st, &RecordFailure{ActivityID: id, Seq: *row.FailedSeq, RecordedSeq: row.Activity.Seq, FirstFailedAt: *row.FailedSince}, nil
}

// ActivitySeq returns the sequence the read model holds for an activity,
// so a writer can wait until its own change has been recorded.
func (s *Store) ActivitySeq(ctx context.Context, id string) (int64, error) {
	seq, err := s.q.ActivitySeq(ctx, id)
	return seq, notFound(err)
}

func decodeSnapshot(row db.Activity) (lifecycle.State, error) {
	var st lifecycle.State
	if err := json.Unmarshal(row.Snapshot, &st); err != nil {
		return lifecycle.State{}, fmt.Errorf("decode snapshot of %s: %w", row.ID, err)
	}
	return st, nil
}

// decodeSnapshots decodes the snapshots of rows, in order.
func decodeSnapshots(rows []db.Activity) ([]lifecycle.State, error) {
	out := make([]lifecycle.State, 0, len(rows))
	for _, r := range rows {
		st, err := decodeSnapshot(r)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// Filter selects activities. Empty fields do not filter. Text is found
// anywhere in the title or summary, literally (no wildcards), ignoring case
// and accents.
type Filter struct {
	// VisibleTo limits the result to activities this party takes part in;
	// empty means all (admins).
	VisibleTo    string
	Status       string
	Party        string
	PendingParty string
	Horizon      string
	Dialogue     string
	Text         string
	DueBefore    *time.Time
	DueAfter     *time.Time
	Overdue      bool
	Now          time.Time
	// After continues from the cursor of a previous page.
	After *Cursor
	Limit int
}

// Cursor marks the last activity of a page in the stable list order.
type Cursor struct {
	ProposedAt time.Time `json:"p"`
	ID         string    `json:"i"`
}

// ListActivities returns one page of activities in a stable order (newest
// proposal first) and the cursor of the next page, if there is one.
func (s *Store) ListActivities(ctx context.Context, f Filter) ([]lifecycle.State, *Cursor, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	p := db.ListActivitiesParams{
		VisibleParty: optional(f.VisibleTo), Status: optional(f.Status), Party: optional(f.Party),
		PendingParty: optional(f.PendingParty), Horizon: optional(f.Horizon), Dialogue: optional(f.Dialogue),
		DueBefore: f.DueBefore, DueAfter: f.DueAfter, OverdueOnly: f.Overdue, Now: f.Now,
		MaxRows: int32(limit + 1),
	}
	if f.After != nil {
		p.CursorAt, p.CursorID = &f.After.ProposedAt, &f.After.ID
	}
	if f.Text != "" {
		q := containsPattern(f.Text)
		p.Q = &q
	}
	rows, err := s.q.ListActivities(ctx, p)
	if err != nil {
		return nil, nil, fmt.Errorf("list activities: %w", err)
	}
	var next *Cursor
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		next = &Cursor{ProposedAt: last.ProposedAt, ID: last.ID}
	}
	out, err := decodeSnapshots(rows)
	if err != nil {
		return nil, nil, err
	}
	return out, next, nil
}

// AuditEvent is one row of an activity's audit log.
type AuditEvent struct {
	Seq      int64           `json:"seq"`
	Type     string          `json:"type"`
	Actor    string          `json:"actor"`
	Party    string          `json:"party,omitempty"`
	At       time.Time       `json:"at"`
	Content  json.RawMessage `json:"content"`
	PrevHash []byte          `json:"prev_hash"`
	Hash     []byte          `json:"hash"`
}

// Audit returns up to limit audit events of an activity after sequence after.
func (s *Store) Audit(ctx context.Context, id string, after int64, limit int) ([]AuditEvent, error) {
	rows, err := s.q.ListAuditEvents(ctx, db.ListAuditEventsParams{ActivityID: id, AfterSeq: after, MaxRows: int32(limit)})
	if err != nil {
		return nil, fmt.Errorf("read audit of %s: %w", id, err)
	}
	out := make([]AuditEvent, len(rows))
	for i, r := range rows {
		out[i] = AuditEvent{Seq: r.Seq, Type: r.Type, Actor: r.Actor, Party: r.Party, At: r.At,
			Content: json.RawMessage(r.Content), PrevHash: r.PrevHash, Hash: r.Hash}
	}
	return out, nil
}

// Notification is one inbox row.
type Notification struct {
	ID        int64           `json:"id"`
	Activity  string          `json:"activity"`
	Seq       int64           `json:"seq"`
	Kind      string          `json:"kind"`
	Content   json.RawMessage `json:"content"`
	CreatedAt time.Time       `json:"created_at"`
	ReadAt    *time.Time      `json:"read_at,omitempty"`
}

// InboxCursor marks the last notification of a page.
type InboxCursor struct {
	Read bool  `json:"r"`
	ID   int64 `json:"i"`
}

// Inbox returns a page of a principal's notifications, unread first and
// newest first within each, and the cursor of the next page.
func (s *Store) Inbox(ctx context.Context, principal string, unreadOnly bool, after *InboxCursor, limit int) ([]Notification, *InboxCursor, error) {
	p := db.ListInboxParams{PrincipalID: principal, UnreadOnly: unreadOnly, MaxRows: int32(limit + 1)}
	if after != nil {
		p.CursorRead, p.CursorID = &after.Read, &after.ID
	}
	rows, err := s.q.ListInbox(ctx, p)
	if err != nil {
		return nil, nil, fmt.Errorf("read inbox of %s: %w", principal, err)
	}
	var next *InboxCursor
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		next = &InboxCursor{Read: last.ReadAt != nil, ID: last.ID}
	}
	out := make([]Notification, len(rows))
	for i, r := range rows {
		out[i] = Notification{ID: r.ID, Activity: r.ActivityID, Seq: r.Seq, Kind: r.Kind,
			Content: json.RawMessage(r.Content), CreatedAt: r.CreatedAt, ReadAt: r.ReadAt}
	}
	return out, next, nil
}

// MarkRead marks the given notifications of a principal read (all of them
// when ids is empty) and returns how many changed.
func (s *Store) MarkRead(ctx context.Context, principal string, ids []int64) (int64, error) {
	if len(ids) == 0 {
		return s.q.MarkAllRead(ctx, principal)
	}
	return s.q.MarkRead(ctx, db.MarkReadParams{PrincipalID: principal, Ids: ids})
}

// IdempotentCreate remembers that principal's request with key and body
// hash created activity. If the key was used before, it returns the
// activity and hash of that first use instead, with existed true.
func (s *Store) IdempotentCreate(ctx context.Context, principal, key string, hash []byte, activity string) (existing string, existingHash []byte, existed bool, err error) {
	n, err := s.q.InsertIdempotencyKey(ctx, db.InsertIdempotencyKeyParams{PrincipalID: principal, Key: key, RequestHash: hash, ActivityID: activity})
	if err != nil {
		return "", nil, false, fmt.Errorf("store idempotency key: %w", err)
	}
	if n == 1 {
		return activity, hash, false, nil
	}
	row, err := s.q.GetIdempotencyKey(ctx, db.GetIdempotencyKeyParams{PrincipalID: principal, Key: key})
	if err != nil {
		return "", nil, false, fmt.Errorf("read idempotency key: %w", err)
	}
	return row.ActivityID, row.RequestHash, true, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// AwaitingParty returns, soonest first, at most limit active activities
// that wait for party: one of its open milestones is due before
// dueBefore, or an extension waits for its decision.
func (s *Store) AwaitingParty(ctx context.Context, party string, dueBefore time.Time, limit int) ([]lifecycle.State, error) {
	rows, err := s.q.AwaitingParty(ctx, db.AwaitingPartyParams{Party: party, DueBefore: dueBefore, MaxRows: int32(limit)})
	if err != nil {
		return nil, fmt.Errorf("activities awaiting %s: %w", party, err)
	}
	return decodeSnapshots(rows)
}
