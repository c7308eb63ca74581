package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"go.temporal.io/sdk/activity"

	"pacto/internal/lifecycle"
	"pacto/internal/review"
	"pacto/internal/store"
)

// Registered names of the Review workflow's activities.
const (
	DraftReportName   = "DraftReport"
	FreezeReportName  = "FreezeReport"
	KeepStatementName = "KeepStatement"
	ClaimMeetingName  = "ClaimMeeting"
	RecordMeetingName = "RecordMeeting"
	ProposeAgreedName = "ProposeAgreed"
)

// ReportRequest says which meeting's report to compile: the changes
// counted are those in (Since, AsOf].
type ReportRequest struct {
	Dialogue  string    `json:"dialogue"`
	Meeting   int       `json:"meeting"`
	MeetingAt time.Time `json:"meeting_at"`
	Since     time.Time `json:"since"`
	AsOf      time.Time `json:"as_of"`
}

// ReportKept is what a report activity kept: the report's figures the
// workflow needs to check statements against, and its digest.
type ReportKept struct {
	// Owners lists, per activity of the dialogue, the parties owning its
	// milestones; Parties are the dialogue's parties.
	Owners      map[string][]string `json:"owners"`
	Parties     []string            `json:"parties"`
	SHA256      string              `json:"sha256"`
	Differences []string            `json:"differences,omitempty"`
	// Agenda lists the activities the meeting reviews; Missing, for a
	// frozen report, the parties that owed statements and made none.
	Agenda  []store.AgendaItem `json:"agenda,omitempty"`
	Missing []string           `json:"missing,omitempty"`
}

// StatementRequest is a statement to keep for a meeting.
type StatementRequest struct {
	Dialogue  string                 `json:"dialogue"`
	Meeting   int                    `json:"meeting"`
	Statement store.MeetingStatement `json:"statement"`
}

// Reviewing compiles and keeps meetings' reports, statements and
// minutes.
type Reviewing struct {
	Store *store.Store
	// Proposer makes the proposals of adopted minutes; nil refuses them.
	Proposer Proposer
}

// Proposer makes a proposal in a dialogue as a principal, as the API
// does; the same key makes it once.
type Proposer interface {
	ProposeAgreed(ctx context.Context, principal, dialogue, key string, proposal json.RawMessage) (string, error)
}

// DraftReport compiles a meeting's draft report from the read model and
// keeps it, replacing any earlier draft.
func (r *Reviewing) DraftReport(ctx context.Context, req ReportRequest) (ReportKept, error) {
	rep, err := review.Compile(ctx, r.Store, req.Dialogue, strconv.Itoa(req.Meeting), req.MeetingAt, req.Since, req.AsOf)
	if err != nil {
		return ReportKept{}, err
	}
	return r.keep(ctx, req, store.ReportDraft, rep, nil)
}

// FreezeReport compiles a meeting's report at the meeting's time, checks
// its figures against those recomputed from the audit log, and keeps it
// as the meeting's frozen report with its SHA-256. A report that differs
// from the log is kept all the same, with the differences beside it, so
// that the meeting has its record and the discrepancy is in plain view.
func (r *Reviewing) FreezeReport(ctx context.Context, req ReportRequest) (ReportKept, error) {
	meeting := strconv.Itoa(req.Meeting)
	rep, err := review.Compile(ctx, r.Store, req.Dialogue, meeting, req.MeetingAt, req.Since, req.AsOf)
	if err != nil {
		return ReportKept{}, err
	}
	again, err := review.Recompute(ctx, r.Store, req.Dialogue, meeting, req.MeetingAt, req.Since, req.AsOf)
	if err != nil {
		return ReportKept{}, err
	}
	diffs := review.Differences(rep, again)
	made, err := r.Store.MeetingStatements(ctx, req.Dialogue, req.Meeting)
	if err != nil {
		return ReportKept{}, err
	}
	rep = rep.WithStatements(made)
	if len(diffs) > 0 {
		activity.GetLogger(ctx).Error("the meeting's report differs from the audit log; keeping it with the differences",
			"dialogue", req.Dialogue, "meeting", req.Meeting, "differences", diffs)
	}
	return r.keep(ctx, req, store.ReportFrozen, rep, diffs)
}

func (r *Reviewing) keep(ctx context.Context, req ReportRequest, kind string, rep review.Report, diffs []string) (ReportKept, error) {
	body, err := review.JSON(rep)
	if err != nil {
		return ReportKept{}, err
	}
	sum := sha256.Sum256(body)
	digest := hex.EncodeToString(sum[:])
	err = r.Store.PutMeetingReport(ctx, store.MeetingReport{Dialogue: req.Dialogue, Meeting: req.Meeting, Kind: kind,
		JSON: body, SHA256: digest, Differences: diffs})
	if err != nil {
		return ReportKept{}, err
	}
	out := ReportKept{Owners: map[string][]string{}, SHA256: digest, Differences: diffs}
	for _, p := range rep.Parties {
		out.Parties = append(out.Parties, string(p.Code))
	}
	for _, a := range rep.Activities {
		out.Owners[a.ID] = lifecycle.Codes(a.StatementOwners())
		out.Agenda = append(out.Agenda, store.AgendaItem{Activity: a.ID, Title: a.Title})
	}
	for _, m := range rep.Missing {
		if !slices.Contains(out.Missing, string(m.Party)) {
			out.Missing = append(out.Missing, string(m.Party))
		}
	}
	return out, nil
}

// KeepStatement keeps a statement made for a meeting.
func (r *Reviewing) KeepStatement(ctx context.Context, req StatementRequest) error {
	if err := r.Store.PutMeetingStatement(ctx, req.Dialogue, req.Meeting, req.Statement); err != nil {
		return fmt.Errorf("keep a statement: %w", err)
	}
	return nil
}

// ClaimRequest claims a meeting for a Review run.
type ClaimRequest struct {
	Dialogue   string    `json:"dialogue"`
	Meeting    int       `json:"meeting"`
	WorkflowID string    `json:"workflow_id"`
	At         time.Time `json:"at"`
}

// ClaimMeeting claims a meeting for the run asking, and returns the
// workflow ID of the run that holds it.
func (r *Reviewing) ClaimMeeting(ctx context.Context, req ClaimRequest) (string, error) {
	return r.Store.ClaimMeeting(ctx, req.Dialogue, req.Meeting, req.WorkflowID, req.At)
}

// RecordMeeting writes one change of a meeting: its events, their
// notices, and the statement or minutes it keeps. The dialogue's name
// and parties, which the notices need, are read here.
func (r *Reviewing) RecordMeeting(ctx context.Context, c store.MeetingChange) error {
	name, err := r.Store.DialogueName(ctx, c.Dialogue)
	if err != nil {
		return err
	}
	frame, err := r.Store.DialogueFrame(ctx, c.Dialogue)
	if err != nil {
		return fmt.Errorf("the parties of dialogue %s: %w", c.Dialogue, err)
	}
	c.Name, c.Parties = name, nil
	for _, p := range frame.Parties {
		c.Parties = append(c.Parties, p.Code)
	}
	return r.Store.RecordMeeting(ctx, c)
}

// AgreedRequest asks for the proposals of adopted minutes, made as the
// coordinator who recorded them.
type AgreedRequest struct {
	Dialogue  string                     `json:"dialogue"`
	Meeting   int                        `json:"meeting"`
	Principal string                     `json:"principal"`
	Agreed    []lifecycle.AgreedActivity `json:"agreed"`
}

// AgreedResult is what became of each agreed activity, in order: the id
// it was proposed under, or why it could not be.
type AgreedResult struct {
	Activities []string `json:"activities"`
	Problems   []string `json:"problems"`
}

// ProposeAgreed makes each agreed activity a proposal. A proposal the API
// refuses (its content no longer passes, its author left) is reported,
// not retried: the adopted minutes stand, and a coordinator proposes it
// by hand.
func (r *Reviewing) ProposeAgreed(ctx context.Context, req AgreedRequest) (AgreedResult, error) {
	out := AgreedResult{Activities: make([]string, len(req.Agreed)), Problems: make([]string, len(req.Agreed))}
	for i, a := range req.Agreed {
		if r.Proposer == nil {
			out.Problems[i] = "this worker makes no proposals"
			continue
		}
		key := fmt.Sprintf("minutes %s %d %d", req.Dialogue, req.Meeting, i+1)
		id, err := r.Proposer.ProposeAgreed(ctx, req.Principal, req.Dialogue, key, a.Proposal)
		var refused *RefusedError
		switch {
		case errors.As(err, &refused):
			out.Problems[i] = refused.Error()
		case err != nil:
			return AgreedResult{}, err
		default:
			out.Activities[i] = id
		}
	}
	return out, nil
}

// RefusedError is a Proposer's refusal of a proposal, as opposed to an
// outage worth retrying.
type RefusedError struct{ Reason string }

func (e *RefusedError) Error() string { return e.Reason }
