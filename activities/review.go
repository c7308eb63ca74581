package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"time"

	"go.temporal.io/sdk/activity"

	"pacto/internal/review"
	"pacto/internal/store"
)

// Registered names of the Review workflow's activities.
const (
	DraftReportName   = "DraftReport"
	FreezeReportName  = "FreezeReport"
	KeepStatementName = "KeepStatement"
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
}

// StatementRequest is a statement to keep for a meeting.
type StatementRequest struct {
	Dialogue  string                 `json:"dialogue"`
	Meeting   int                    `json:"meeting"`
	Statement store.MeetingStatement `json:"statement"`
}

// Reviewing compiles and keeps meetings' reports and statements.
type Reviewing struct {
	Store *store.Store
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
		owners := []string{}
		for _, m := range a.Milestones {
			if o := string(m.Owner); o != "" && !slices.Contains(owners, o) {
				owners = append(owners, o)
			}
		}
		out.Owners[a.ID] = owners
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
