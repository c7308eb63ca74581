package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"pacto/internal/lifecycle"
	"pacto/internal/notify"
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

// Phases of a meeting, as its Review run moves through them.
const (
	MeetingWaiting   = "waiting"   // for the draft's time
	MeetingDraft     = "draft"     // drafted; statements open
	MeetingFrozen    = "frozen"    // report frozen; minutes to record and sign
	MeetingClosed    = "closed"    // minutes adopted
	MeetingCancelled = "cancelled" // taken off the calendar before it was held
)

// MeetingRun is a meeting as its Review run keeps it.
type MeetingRun struct {
	Dialogue   string
	Meeting    int
	WorkflowID string
	At         time.Time
	Phase      string
	// Minutes are the current version of the minutes, nil before any.
	Minutes *lifecycle.Minutes
}

// ClaimMeeting claims a meeting for the Review run workflowID and returns
// the run that holds it: workflowID, or an earlier run's.
func (s *Store) ClaimMeeting(ctx context.Context, dialogue string, meeting int, workflowID string, at time.Time) (string, error) {
	holder, err := s.q.ClaimMeeting(ctx, db.ClaimMeetingParams{DialogueID: dialogue, Meeting: int32(meeting), WorkflowID: workflowID, MeetingAt: at})
	if err != nil {
		return "", fmt.Errorf("claim %s meeting %d: %w", dialogue, meeting, err)
	}
	return holder, nil
}

// Meeting returns a meeting's run; ErrNotFound before its run started.
func (s *Store) Meeting(ctx context.Context, dialogue string, meeting int) (MeetingRun, error) {
	row, err := s.q.GetMeeting(ctx, db.GetMeetingParams{DialogueID: dialogue, Meeting: int32(meeting)})
	if err != nil {
		return MeetingRun{}, fmt.Errorf("%s meeting %d: %w", dialogue, meeting, notFound(err))
	}
	return meetingRun(row)
}

// MeetingRuns lists a dialogue's meetings whose runs have started.
func (s *Store) MeetingRuns(ctx context.Context, dialogue string) ([]MeetingRun, error) {
	rows, err := s.q.ListMeetings(ctx, dialogue)
	if err != nil {
		return nil, fmt.Errorf("meetings of %s: %w", dialogue, err)
	}
	out := make([]MeetingRun, len(rows))
	for i, r := range rows {
		if out[i], err = meetingRun(r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func meetingRun(r db.Meeting) (MeetingRun, error) {
	m := MeetingRun{Dialogue: r.DialogueID, Meeting: int(r.Meeting), WorkflowID: r.WorkflowID, At: r.MeetingAt, Phase: r.Phase}
	if len(r.Minutes) > 0 {
		m.Minutes = &lifecycle.Minutes{}
		if err := json.Unmarshal(r.Minutes, m.Minutes); err != nil {
			return m, fmt.Errorf("decode the minutes of %s meeting %d: %w", r.DialogueID, r.Meeting, err)
		}
	}
	return m, nil
}

// MeetingChange is one change of a meeting, written by RecordMeeting in
// one transaction: its events in the meeting's audit chain, with their
// notices, and what it changes of the meeting.
type MeetingChange struct {
	Dialogue   string
	Meeting    int
	WorkflowID string
	// Name is the dialogue's name, the title of the notices.
	Name    string
	At      time.Time // the meeting's time
	Phase   string
	Parties []lifecycle.PartyCode
	Events  []lifecycle.Event
	// Agenda, for the drafted meeting's notice.
	Agenda []AgendaItem
	// Statement, when set, is kept with the change.
	Statement *MeetingStatement
	// Minutes, when set, replace the meeting's minutes.
	Minutes *lifecycle.Minutes
}

// RecordMeeting writes change c of a meeting. Repeating it changes
// nothing: events already in the chain, the statement and inbox rows are
// kept once.
func (s *Store) RecordMeeting(ctx context.Context, c MeetingChange) error {
	chain := lifecycle.MeetingChain(c.Dialogue, c.Meeting)
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		if err := q.LockActivity(ctx, chain); err != nil {
			return fmt.Errorf("lock %s: %w", chain, err)
		}
		appended, err := appendAudit(ctx, q, chain, c.Events)
		if err != nil {
			return err
		}
		if c.Statement != nil {
			st := c.Statement
			if err := q.PutMeetingStatement(ctx, db.PutMeetingStatementParams{DialogueID: c.Dialogue, Meeting: int32(c.Meeting), ID: st.ID,
				ActivityID: st.Activity, Party: st.Party, Author: st.Author, Body: st.Body, MadeAt: st.MadeAt}); err != nil {
				return fmt.Errorf("keep statement %s for %s: %w", st.ID, chain, err)
			}
		}
		up := db.UpdateMeetingParams{DialogueID: c.Dialogue, Meeting: int32(c.Meeting), WorkflowID: c.WorkflowID, Phase: c.Phase, MeetingAt: c.At}
		if c.Minutes != nil {
			b, err := json.Marshal(c.Minutes)
			if err != nil {
				return fmt.Errorf("encode the minutes of %s: %w", chain, err)
			}
			up.Minutes, up.MinutesVersion = b, pgtype.Int4{Int32: int32(c.Minutes.Version), Valid: true}
			if c.Minutes.Adopted() {
				up.AdoptedAt = &c.Minutes.AdoptedAt
			}
		}
		if err := q.UpdateMeeting(ctx, up); err != nil {
			return fmt.Errorf("update %s: %w", chain, err)
		}
		return noticeMeeting(ctx, q, c, chain, appended)
	})
}

// noticeMeeting puts a meeting's appended events in the inboxes of those
// who hear of them, and queues their mails and webhooks.
func noticeMeeting(ctx context.Context, q *db.Queries, c MeetingChange, chain string, events []lifecycle.Event) error {
	var seqs []int64
	for _, e := range events {
		aud, ok := notify.MeetingAudienceOf(c.Parties, e)
		if !ok {
			continue
		}
		content, err := meetingNotice(ctx, q, c, e)
		if err != nil {
			return err
		}
		b, err := json.Marshal(content)
		if err != nil {
			return fmt.Errorf("encode notice %s/%d: %w", chain, e.Seq, err)
		}
		roles := make([]string, len(aud.Roles))
		for i, r := range aud.Roles {
			roles[i] = string(r)
		}
		who, err := q.PrincipalsFor(ctx, db.PrincipalsForParams{Parties: lifecycle.Codes(aud.Parties), Roles: roles})
		if err != nil {
			return fmt.Errorf("find recipients of %s/%d: %w", chain, e.Seq, err)
		}
		for _, p := range who {
			if p.ID == e.Actor {
				continue
			}
			if _, err := q.InsertNotification(ctx, db.InsertNotificationParams{
				Key: fmt.Sprintf("%s/%d/%s", chain, e.Seq, p.ID), PrincipalID: p.ID,
				ActivityID: chain, Seq: e.Seq, Kind: string(e.Type), Content: b,
			}); err != nil {
				return fmt.Errorf("notify %s of %s/%d: %w", p.ID, chain, e.Seq, err)
			}
		}
		seqs = append(seqs, e.Seq)
		subs, err := q.MatchingSubscriptions(ctx, db.MatchingSubscriptionsParams{EventType: string(e.Type), Parties: lifecycle.Codes(c.Parties)})
		if err != nil {
			return fmt.Errorf("match webhooks for %s/%d: %w", chain, e.Seq, err)
		}
		for _, sub := range subs {
			if err := q.InsertWebhookDelivery(ctx, db.InsertWebhookDeliveryParams{
				ID: fmt.Sprintf("webhook-%s-%s-%d", sub, chain, e.Seq), ActivityID: chain, Seq: e.Seq,
				Content: b, SubscriptionID: sub,
			}); err != nil {
				return fmt.Errorf("enqueue webhook %s for %s/%d: %w", sub, chain, e.Seq, err)
			}
		}
	}
	if len(seqs) == 0 {
		return nil
	}
	if err := q.InsertEmailDeliveries(ctx, db.InsertEmailDeliveriesParams{ActivityID: chain, Seqs: seqs}); err != nil {
		return fmt.Errorf("enqueue emails of %s: %w", chain, err)
	}
	return nil
}

// meetingNotice is what a meeting event's notice says, with the names
// people read as they stand now.
func meetingNotice(ctx context.Context, q *db.Queries, c MeetingChange, e lifecycle.Event) (NotificationContent, error) {
	parties := lifecycle.Codes(c.Parties)
	rows, err := q.DisplayNames(ctx, db.DisplayNamesParams{Principals: []string{e.Actor}, Parties: parties})
	if err != nil {
		return NotificationContent{}, fmt.Errorf("read the names for a notice of %s meeting %d: %w", c.Dialogue, c.Meeting, err)
	}
	names := make(map[string]string, len(rows))
	for _, r := range rows {
		names[r.Kind+":"+r.Key] = r.Name
	}
	at := c.At
	n := NotificationContent{
		Title: lifecycle.Plain(c.Name), Event: e.Type, Seq: e.Seq, At: e.At, Actor: e.Actor, Party: e.Party,
		Version: e.Version, Due: timePtr(e.Due), Notice: e.Notice, Parties: e.Parties, Comment: e.Comment,
		ActorName: names["principal:"+e.Actor], PartyName: names["party:"+string(e.Party)],
		Dialogue: c.Dialogue, Meeting: c.Meeting, MeetingAt: &at, Digest: e.Digest,
	}
	if e.Type == lifecycle.EventMeetingDrafted {
		n.Agenda = c.Agenda
	}
	for _, p := range e.Parties {
		n.PartyNames = append(n.PartyNames, cmp.Or(names["party:"+string(p)], string(p)))
	}
	return n, nil
}
