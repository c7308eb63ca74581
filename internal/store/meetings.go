package store

import (
	"context"
	"fmt"
	"time"

	"pacto/internal/store/db"
)

// Kinds of a meeting's report.
const (
	ReportDraft  = "draft"
	ReportFrozen = "frozen"
)

// MeetingReport is a meeting's report as kept: the exact JSON bytes, their
// SHA-256 (hex), and where its figures differed from the audit log's.
type MeetingReport struct {
	Dialogue    string
	Meeting     int
	Kind        string
	JSON        []byte
	SHA256      string
	Differences []string
	CreatedAt   time.Time
}

// PutMeetingReport keeps a meeting's report: a draft replaces the last
// draft; a frozen report is written once, and writing it again (a retried
// activity) leaves the first.
func (s *Store) PutMeetingReport(ctx context.Context, r MeetingReport) error {
	diffs := r.Differences
	if diffs == nil {
		diffs = []string{}
	}
	err := s.q.PutMeetingReport(ctx, db.PutMeetingReportParams{DialogueID: r.Dialogue, Meeting: int32(r.Meeting),
		Kind: r.Kind, Report: r.JSON, Sha256: r.SHA256, Differences: diffs})
	if err != nil {
		return fmt.Errorf("keep the %s report of %s meeting %d: %w", r.Kind, r.Dialogue, r.Meeting, err)
	}
	return nil
}

// MeetingReport returns a meeting's report of kind; ErrNotFound when
// there is none.
func (s *Store) MeetingReport(ctx context.Context, dialogue string, meeting int, kind string) (MeetingReport, error) {
	row, err := s.q.MeetingReport(ctx, db.MeetingReportParams{DialogueID: dialogue, Meeting: int32(meeting), Kind: kind})
	if err != nil {
		return MeetingReport{}, fmt.Errorf("the %s report of %s meeting %d: %w", kind, dialogue, meeting, notFound(err))
	}
	return MeetingReport{Dialogue: row.DialogueID, Meeting: int(row.Meeting), Kind: row.Kind, JSON: row.Report,
		SHA256: row.Sha256, Differences: row.Differences, CreatedAt: row.CreatedAt}, nil
}

// MeetingStatement is what a party's coordinator states about one of the
// dialogue's activities ahead of a meeting.
type MeetingStatement struct {
	ID       string    `json:"id"`
	Activity string    `json:"activity"`
	Party    string    `json:"party"`
	Author   string    `json:"author"`
	Body     string    `json:"body"`
	MadeAt   time.Time `json:"made_at"`
}

// PutMeetingStatement keeps a statement; keeping the same one again (by
// its ID) changes nothing.
func (s *Store) PutMeetingStatement(ctx context.Context, dialogue string, meeting int, st MeetingStatement) error {
	err := s.q.PutMeetingStatement(ctx, db.PutMeetingStatementParams{DialogueID: dialogue, Meeting: int32(meeting), ID: st.ID,
		ActivityID: st.Activity, Party: st.Party, Author: st.Author, Body: st.Body, MadeAt: st.MadeAt})
	if err != nil {
		return fmt.Errorf("keep statement %s for %s meeting %d: %w", st.ID, dialogue, meeting, err)
	}
	return nil
}

// MeetingStatements lists a meeting's statements in the order made.
func (s *Store) MeetingStatements(ctx context.Context, dialogue string, meeting int) ([]MeetingStatement, error) {
	rows, err := s.q.MeetingStatements(ctx, db.MeetingStatementsParams{DialogueID: dialogue, Meeting: int32(meeting)})
	if err != nil {
		return nil, fmt.Errorf("statements for %s meeting %d: %w", dialogue, meeting, err)
	}
	out := make([]MeetingStatement, len(rows))
	for i, r := range rows {
		out[i] = MeetingStatement{ID: r.ID, Activity: r.ActivityID, Party: r.Party, Author: r.Author, Body: r.Body, MadeAt: r.MadeAt}
	}
	return out, nil
}
