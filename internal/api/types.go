package api

import (
	"time"

	"pacto/internal/lifecycle"
)

// ProposeRequest is the body of POST /v1/activities.
type ProposeRequest struct {
	Dialogue   string           `json:"dialogue"`
	Parties    []string         `json:"parties"`
	Title      lifecycle.Text   `json:"title"`
	Summary    lifecycle.Text   `json:"summary,omitempty"`
	Objectives []lifecycle.Text `json:"objectives,omitempty"`
	Milestones []MilestoneInput `json:"milestones"`
	Policy     *PolicyInput     `json:"policy,omitempty"`
	// Sector (DAC 5-digit) and RecipientCountries (ISO 3166-1 alpha-2)
	// classify the activity for open data; left out, the dialogue's.
	Sector             string   `json:"sector,omitempty"`
	RecipientCountries []string `json:"recipient_countries,omitempty"`
}

// MilestoneInput is a proposed milestone.
type MilestoneInput struct {
	ID        string          `json:"id,omitempty"`
	Title     lifecycle.Text  `json:"title"`
	Horizon   string          `json:"horizon,omitempty"`
	Owner     string          `json:"owner"`
	Due       string          `json:"due"`
	Indicator *IndicatorInput `json:"indicator,omitempty"`
}

// IndicatorInput is a milestone's measure as proposed.
type IndicatorInput struct {
	Baseline *float64       `json:"baseline,omitempty"`
	Target   float64        `json:"target"`
	Unit     lifecycle.Text `json:"unit,omitempty"`
}

// PolicyInput overrides the clock's cadences; durations are ISO-8601 (P7D, PT2M).
type PolicyInput struct {
	ApprovalWindow        string `json:"approval_window,omitempty"`
	ApprovalReminderEvery string `json:"approval_reminder_every,omitempty"`
	DueSoonLead           string `json:"due_soon_lead,omitempty"`
	OverdueReminderEvery  string `json:"overdue_reminder_every,omitempty"`
	OverdueReminders      *int   `json:"overdue_reminders,omitempty"`
}

// AmendRequest is the body of PATCH /v1/activities/{id}: fields left out
// keep their current value.
type AmendRequest struct {
	Version    *int              `json:"version,omitempty"`
	Title      lifecycle.Text    `json:"title,omitempty"`
	Summary    lifecycle.Text    `json:"summary,omitempty"`
	Objectives *[]lifecycle.Text `json:"objectives,omitempty"`
	Milestones *[]MilestoneInput `json:"milestones,omitempty"`
	// Sector and RecipientCountries, when given, replace the activity's;
	// empty ones leave it to the dialogue's.
	Sector             *string   `json:"sector,omitempty"`
	RecipientCountries *[]string `json:"recipient_countries,omitempty"`
}

// DecisionRequest is an approver's decision on a version.
type DecisionRequest struct {
	Version  int    `json:"version"`
	Decision string `json:"decision"`
	Comment  string `json:"comment,omitempty"`
	Party    string `json:"party,omitempty"`
}

// ProgressRequest reports on, or completes, a milestone.
type ProgressRequest struct {
	Evidence []string `json:"evidence,omitempty"`
	Actual   *float64 `json:"actual,omitempty"`
	Note     string   `json:"note,omitempty"`
}

// ExtensionRequest asks to move a milestone's due time.
type ExtensionRequest struct {
	NewDue string `json:"new_due"`
	Reason string `json:"reason"`
}

// ExtensionDecisionRequest is an approver's decision on an extension.
type ExtensionDecisionRequest struct {
	Decision string `json:"decision"`
	Comment  string `json:"comment,omitempty"`
	Party    string `json:"party,omitempty"`
}

// ReasonRequest is the body of suspend, resume and cancel.
type ReasonRequest struct {
	Reason string `json:"reason"`
}

// ActivityView is an activity as the API shows it: the workflow's state
// plus what is derived from it at the time of the request.
//
// Each material text is an object keyed by language, with every authentic
// language it is written in; the *_text fields give it in the reader's
// language (Language), or the nearest there is, for display.
type ActivityView struct {
	ID       string `json:"id"`
	Dialogue string `json:"dialogue"`
	// Languages are the authentic languages; MissingTexts names, per
	// language, the texts not yet written in it (empty when none are).
	Languages      []string            `json:"languages"`
	MissingTexts   map[string][]string `json:"missing_texts"`
	Language       string              `json:"language"`
	Title          TextView            `json:"title"`
	TitleText      string              `json:"title_text"`
	Summary        TextView            `json:"summary"`
	SummaryText    string              `json:"summary_text"`
	Objectives     []TextView          `json:"objectives"`
	ObjectivesText []string            `json:"objectives_text"`
	// Sector and RecipientCountries are the activity's own open-data
	// classification (the dialogue's applies where they are empty).
	Sector             string            `json:"sector,omitempty"`
	RecipientCountries []string          `json:"recipient_countries"`
	Parties            []lifecycle.Party `json:"parties"`
	Proposer           string            `json:"proposer"`
	ProposerParty      string            `json:"proposer_party"`
	Status             string            `json:"status"`
	Version            int               `json:"version"`
	Seq                int64             `json:"seq"`
	Colour             string            `json:"colour"`
	PendingParties     []string          `json:"pending_parties"`
	OverdueMilestones  []string          `json:"overdue_milestones"`
	NextDue            *time.Time        `json:"next_due,omitempty"`
	Approvals          []ApprovalView    `json:"approvals"`
	// Published is whether every party consents to publishing the
	// current version; Publication is each party's consent.
	Published   bool                  `json:"published"`
	Publication []ConsentView         `json:"publication"`
	Milestones  []MilestoneView       `json:"milestones"`
	Extensions  []lifecycle.Extension `json:"extensions"`
	Policy      PolicyView            `json:"policy"`
	ProposedAt  time.Time             `json:"proposed_at"`
	ExpiresAt   *time.Time            `json:"expires_at,omitempty"`
	ActivatedAt *time.Time            `json:"activated_at,omitempty"`
	SuspendedAt *time.Time            `json:"suspended_at,omitempty"`
	ClosedAt    *time.Time            `json:"closed_at,omitempty"`
	Reason      string                `json:"reason,omitempty"`
	// ReadModel is set when the read model is behind the activity's
	// workflow because it refused a change (see /v1/admin/record-failures).
	ReadModel *ReadModelView `json:"read_model,omitempty"`
}

// ReadModelView says the read model is behind an activity's workflow: the
// response shows the workflow's own state, but lists, the audit log and
// inboxes do not hold the change yet.
type ReadModelView struct {
	Behind      bool      `json:"behind"`
	RecordedSeq int64     `json:"recorded_seq"`
	Since       time.Time `json:"since"`
	Detail      string    `json:"detail"`
}

// ApprovalView is one party's standing decision.
type ApprovalView struct {
	Party    string     `json:"party"`
	Decision string     `json:"decision"`
	Version  int        `json:"version,omitempty"`
	By       string     `json:"by,omitempty"`
	At       *time.Time `json:"at,omitempty"`
	Comment  string     `json:"comment,omitempty"`
}

// MilestoneView is a milestone with its derived colour.
type MilestoneView struct {
	ID        string           `json:"id"`
	Title     TextView         `json:"title"`
	TitleText string           `json:"title_text"`
	Horizon   string           `json:"horizon"`
	Owner     string           `json:"owner"`
	Due       string           `json:"due"`
	DueAt     *time.Time       `json:"due_at,omitempty"`
	Status    string           `json:"status"`
	Colour    string           `json:"colour"`
	Overdue   bool             `json:"overdue"`
	Indicator *IndicatorView   `json:"indicator,omitempty"`
	Evidence  []string         `json:"evidence"`
	Notes     []lifecycle.Note `json:"notes"`
	// EvidenceCount and NoteCount count every link and note reported;
	// Evidence and Notes hold only the latest (the audit log has all).
	EvidenceCount int        `json:"evidence_count"`
	NoteCount     int        `json:"note_count"`
	CompletedAt   *time.Time `json:"completed_at,omitempty"`
}

// IndicatorView is a milestone's measure, its unit in every language and
// in the reader's.
type IndicatorView struct {
	Baseline *float64 `json:"baseline,omitempty"`
	Target   float64  `json:"target"`
	Actual   *float64 `json:"actual,omitempty"`
	Unit     TextView `json:"unit"`
	UnitText string   `json:"unit_text"`
}

// TextView is a material text keyed by language. A text recorded before
// texts had languages, in an activity not yet moved to them, is keyed
// "und" (undetermined).
type TextView map[string]string

func textView(t lifecycle.Text) TextView {
	out := TextView{}
	for _, lang := range t.Languages() {
		out[lang] = t[lang]
	}
	if len(out) == 0 && !t.Empty() {
		out["und"] = t.In("")
	}
	return out
}

// PolicyView is the clock's policy with ISO-8601 durations.
type PolicyView struct {
	ApprovalWindow        string `json:"approval_window"`
	ApprovalReminderEvery string `json:"approval_reminder_every"`
	DueSoonLead           string `json:"due_soon_lead"`
	OverdueReminderEvery  string `json:"overdue_reminder_every"`
	OverdueReminders      int    `json:"overdue_reminders"`
}

// viewOf shows s to a reader of lang (a language tag; empty for none).
func viewOf(s lifecycle.State, now time.Time, lang string) ActivityView {
	// A reader whose language the activity lacks reads its proposer's.
	fallback, _ := s.LanguageOf(s.ProposerParty)
	in := func(t lifecycle.Text) string { return t.In(lang, fallback) }
	v := ActivityView{
		ID: s.ID, Dialogue: s.Dialogue, Languages: orEmpty(s.Languages), MissingTexts: map[string][]string{},
		Language: lang, Title: textView(s.Title), TitleText: in(s.Title), Summary: textView(s.Summary), SummaryText: in(s.Summary),
		Objectives: make([]TextView, len(s.Objectives)), ObjectivesText: make([]string, len(s.Objectives)),
		Sector: s.Sector, RecipientCountries: orEmpty(s.RecipientCountries),
		Published: lifecycle.Published(s), Publication: consentViews(s),
		Parties: s.Parties, Proposer: s.Proposer, ProposerParty: string(s.ProposerParty), Status: string(s.Status),
		Version: s.Version, Seq: s.Seq, Colour: colourName(lifecycle.ActivityColour(s, now)),
		PendingParties: lifecycle.Codes(lifecycle.PendingParties(s)), OverdueMilestones: orEmpty(lifecycle.OverdueMilestones(s, now)),
		Extensions: s.Extensions, ProposedAt: s.ProposedAt, ExpiresAt: timePtr(s.ExpiresAt),
		ActivatedAt: timePtr(s.ActivatedAt), SuspendedAt: timePtr(s.SuspendedAt), ClosedAt: timePtr(s.ClosedAt),
		Reason: s.Reason,
		Policy: PolicyView{
			ApprovalWindow:        lifecycle.FormatDuration(s.Policy.ApprovalWindow),
			ApprovalReminderEvery: lifecycle.FormatDuration(s.Policy.ApprovalReminderEvery),
			DueSoonLead:           lifecycle.FormatDuration(s.Policy.DueSoonLead),
			OverdueReminderEvery:  lifecycle.FormatDuration(s.Policy.OverdueReminderEvery),
			OverdueReminders:      s.Policy.OverdueReminders,
		},
	}
	if v.Extensions == nil {
		v.Extensions = []lifecycle.Extension{}
	}
	for i, o := range s.Objectives {
		v.Objectives[i], v.ObjectivesText[i] = textView(o), in(o)
	}
	for _, l := range s.Languages {
		if missing := s.MissingTexts(l); len(missing) > 0 {
			v.MissingTexts[l] = missing
		}
	}
	if due, ok := lifecycle.NextDue(s); ok {
		v.NextDue = &due
	}
	v.Approvals = make([]ApprovalView, len(s.Approvals))
	for i, a := range s.Approvals {
		v.Approvals[i] = ApprovalView{Party: string(a.Party), Decision: string(a.Decision), Version: a.Version, By: a.By, At: timePtr(a.At), Comment: a.Comment}
	}
	v.Milestones = make([]MilestoneView, len(s.Milestones))
	for i, m := range s.Milestones {
		v.Milestones[i] = MilestoneView{
			ID: m.ID, Title: textView(m.Title), TitleText: in(m.Title), Horizon: string(m.Term), Owner: string(m.Owner), Due: m.Due, DueAt: timePtr(m.DueAt),
			Status: string(m.Status), Colour: colourName(lifecycle.MilestoneColour(s.Policy, m, now)), Overdue: m.Overdue(now),
			Evidence: orEmpty(m.Evidence), Notes: m.Notes, CompletedAt: timePtr(m.CompletedAt),
			EvidenceCount: max(m.EvidenceCount, len(m.Evidence)), NoteCount: max(m.NoteCount, len(m.Notes)),
		}
		if in := m.Indicator; in != nil {
			v.Milestones[i].Indicator = &IndicatorView{Baseline: in.Baseline, Target: in.Target, Actual: in.Actual, Unit: textView(in.Unit), UnitText: in.Unit.In(lang, fallback)}
		}
		if v.Milestones[i].Notes == nil {
			v.Milestones[i].Notes = []lifecycle.Note{}
		}
	}
	return v
}

// colourName spells the absence of a colour as "none" rather than "".
func colourName(c lifecycle.Colour) string {
	if c == lifecycle.ColourNone {
		return "none"
	}
	return string(c)
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
