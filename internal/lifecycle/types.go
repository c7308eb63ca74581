// Package lifecycle is Pacto's functional core: the rules of a cooperation
// activity from proposal to completion, with no Temporal, clock or I/O.
//
// Decide checks a command against the current state and returns the events
// it causes; Apply folds one event into the state; NextWake says when the
// clock must look again. The Temporal workflow, its Update validators, the
// HTTP API and the tests all share these functions as one source of truth.
package lifecycle

import (
	"slices"
	"time"
)

// PartyCode names a party of a dialogue, for example "PA" or "US".
type PartyCode string

// Role is what a principal may do for its party.
type Role string

// The roles a principal can hold.
const (
	RoleCoordinator Role = "coordinator"
	RoleApprover    Role = "approver"
	RoleObserver    Role = "observer"
	RoleAdmin       Role = "admin"
)

// Principal is the authenticated actor behind a command.
type Principal struct {
	ID    string    `json:"id"`
	Party PartyCode `json:"party,omitempty"`
	Roles []Role    `json:"roles"`
}

// Has reports whether the principal holds role r.
func (p Principal) Has(r Role) bool { return slices.Contains(p.Roles, r) }

// ClockActor is the actor recorded on events the clock causes.
const ClockActor = "clock"

// SystemActor is the actor recorded on changes Pacto makes of itself,
// such as moving an activity to languages or noting that its workflow was
// lost.
const SystemActor = "system"

// TemporalActor is the actor recorded when an operator acted on an
// activity's workflow in Temporal itself (the Web UI, the CLI or an SDK
// client) rather than through Pacto: the identity Temporal gave for the
// request travels in the event (Event.Temporal), since it names no
// principal of Pacto's.
const TemporalActor = "temporal"

// Party is a party of a dialogue with the zone its calendar dates live in.
// Language is the tag of the language its people read and approve in
// ("es", "en"); empty in activities proposed before texts had languages.
type Party struct {
	Code     PartyCode `json:"code"`
	TimeZone string    `json:"time_zone"`
	Language string    `json:"language,omitempty"`
}

// Status is where an activity is in its lifecycle.
type Status string

// The statuses of an activity. Declined, expired, cancelled and completed are
// terminal.
const (
	StatusProposed  Status = "proposed"
	StatusActive    Status = "active"
	StatusSuspended Status = "suspended"
	StatusDeclined  Status = "declined"
	StatusExpired   Status = "expired"
	StatusCancelled Status = "cancelled"
	StatusCompleted Status = "completed"
)

// Terminal reports whether no command can change an activity in status s.
func (s Status) Terminal() bool {
	switch s {
	case StatusDeclined, StatusExpired, StatusCancelled, StatusCompleted:
		return true
	}
	return false
}

// Horizon is the term of a milestone.
type Horizon string

// The horizons of a milestone.
const (
	HorizonShort  Horizon = "short"
	HorizonMedium Horizon = "medium"
	HorizonLong   Horizon = "long"
)

// Decision is an approver's answer on a proposal version or an extension.
type Decision string

// The decisions an approver can make. Pending is the absence of one.
const (
	DecisionPending        Decision = "pending"
	DecisionApprove        Decision = "approve"
	DecisionRequestChanges Decision = "request_changes"
	DecisionDecline        Decision = "decline"
)

// Indicator measures a milestone: where it started, where it should get,
// where it is.
type Indicator struct {
	Baseline *float64 `json:"baseline,omitempty"`
	Target   float64  `json:"target"`
	Actual   *float64 `json:"actual,omitempty"`
	Unit     Text     `json:"unit,omitempty"`
}

// MilestoneSpec is the proposed, material content of a milestone.
type MilestoneSpec struct {
	ID        string     `json:"id"`
	Title     Text       `json:"title"`
	Horizon   Horizon    `json:"horizon,omitempty"` // empty: derived from the due time
	Owner     PartyCode  `json:"owner"`
	Due       string     `json:"due"`
	Indicator *Indicator `json:"indicator,omitempty"`
}

// MilestoneStatus is where a milestone is.
type MilestoneStatus string

// The statuses of a milestone.
const (
	MilestonePending   MilestoneStatus = "pending" // activity not active yet
	MilestoneOpen      MilestoneStatus = "open"
	MilestoneCompleted MilestoneStatus = "completed"
)

// Milestone is a milestone with its resolved due time and reminder state.
type Milestone struct {
	MilestoneSpec
	// DueAt is the resolved due time; zero while an offset waits for activation.
	DueAt       time.Time       `json:"due_at,omitzero"`
	Term        Horizon         `json:"term,omitempty"` // the horizon in force, given or derived
	Status      MilestoneStatus `json:"status"`
	Evidence    []string        `json:"evidence,omitempty"`
	Notes       []Note          `json:"notes,omitempty"`
	CompletedAt time.Time       `json:"completed_at,omitzero"`
	// ArmedAt is when reminders started counting: activation or the last
	// approved extension.
	ArmedAt        time.Time `json:"armed_at,omitzero"`
	DueSoonSent    bool      `json:"due_soon_sent,omitempty"`
	OverdueNotices int       `json:"overdue_notices,omitempty"`
	LastOverdueAt  time.Time `json:"last_overdue_at,omitzero"`
	Escalated      bool      `json:"escalated,omitempty"`
	// NoteCount and EvidenceCount count every note and link reported,
	// under rules 2; Notes and Evidence keep only the latest of them.
	NoteCount     int `json:"note_count,omitempty"`
	EvidenceCount int `json:"evidence_count,omitempty"`
}

// Note is a progress report on a milestone.
type Note struct {
	By   string    `json:"by"`
	At   time.Time `json:"at"`
	Text string    `json:"text,omitempty"`
}

// Approval is one party's standing decision on the current version.
type Approval struct {
	Party    PartyCode `json:"party"`
	Decision Decision  `json:"decision"`
	Version  int       `json:"version,omitempty"`
	By       string    `json:"by,omitempty"`
	At       time.Time `json:"at,omitzero"`
	Comment  string    `json:"comment,omitempty"`
}

// ExtensionStatus is where a request to move a due date is.
type ExtensionStatus string

// The statuses of an extension request.
const (
	ExtensionPending   ExtensionStatus = "pending"
	ExtensionApproved  ExtensionStatus = "approved"
	ExtensionDeclined  ExtensionStatus = "declined"
	ExtensionWithdrawn ExtensionStatus = "withdrawn" // the milestone was completed first
)

// Extension is a request to move a milestone's due time, which every party
// must approve.
type Extension struct {
	ID          string          `json:"id"`
	MilestoneID string          `json:"milestone_id"`
	NewDue      string          `json:"new_due"`
	NewDueAt    time.Time       `json:"new_due_at"`
	Reason      string          `json:"reason"`
	RequestedBy string          `json:"requested_by"`
	RequestedAt time.Time       `json:"requested_at"`
	Status      ExtensionStatus `json:"status"`
	Decisions   []Approval      `json:"decisions"`
}

// State is everything the core knows about one activity. The zero State is
// an activity not yet proposed.
type State struct {
	ID            string    `json:"id"`
	Dialogue      string    `json:"dialogue"`
	Parties       []Party   `json:"parties"`
	Proposer      string    `json:"proposer"`
	ProposerParty PartyCode `json:"proposer_party"`
	Title         Text      `json:"title"`
	Summary       Text      `json:"summary,omitempty"`
	Objectives    []Text    `json:"objectives,omitempty"`
	// Sector is the activity's OECD DAC 5-digit purpose code and
	// RecipientCountries the ISO 3166-1 alpha-2 codes of the countries
	// it is for, as its open-data record classifies it. They are material
	// content, like the texts; empty, the dialogue's defaults apply.
	Sector             string      `json:"sector,omitempty"`
	RecipientCountries []string    `json:"recipient_countries,omitempty"`
	Milestones         []Milestone `json:"milestones"`
	Version            int         `json:"version"`
	ContentHash        string      `json:"content_hash"`
	Status             Status      `json:"status"`
	Approvals          []Approval  `json:"approvals"`
	// Publication holds the parties' consents to publish the activity as
	// open data, each bound to the version it was given on; a new
	// version clears them (see Published).
	Publication []Consent   `json:"publication,omitempty"`
	Extensions  []Extension `json:"extensions,omitempty"`
	Policy      Policy      `json:"policy"`
	// Seq counts the events applied; it never goes backwards.
	Seq                    int64     `json:"seq"`
	ProposedAt             time.Time `json:"proposed_at,omitzero"`
	VersionAt              time.Time `json:"version_at,omitzero"`
	ExpiresAt              time.Time `json:"expires_at,omitzero"`
	LastApprovalReminderAt time.Time `json:"last_approval_reminder_at,omitzero"`
	ActivatedAt            time.Time `json:"activated_at,omitzero"`
	SuspendedAt            time.Time `json:"suspended_at,omitzero"`
	ClosedAt               time.Time `json:"closed_at,omitzero"`
	// Reason is the last reason given for a suspend, resume, cancel or decline.
	Reason string `json:"reason,omitempty"`
	// Rules is the version of the rules this activity is decided under: the
	// workflow run's version, so a rule change applies to runs started after
	// it and histories recorded before it replay as they ran.
	Rules int `json:"rules,omitempty"`
	// ExtensionsRequested counts extension requests under rules 2, which
	// prune decided extensions, so a new request never reuses an ID.
	ExtensionsRequested int `json:"extensions_requested,omitempty"`
	// Languages are the activity's authentic languages, from its dialogue:
	// every material text is written in each of them, equally authentic.
	// Empty in an activity proposed before texts had languages, whose texts
	// are plain strings until its run moves them to its proposer's
	// language (AssignLanguages).
	Languages []string `json:"languages,omitempty"`
}

// CurrentRules is the rule version new activities are decided under.
// Versions:
//
//	0, 1  the rules as first released.
//	2     bounded state: a byte budget (StateBudget, EventBudget), the
//	      latest notes and links kept as summaries with counts, decided
//	      extensions pruned; months added to a date clamp to the end of
//	      the month (31 January + P1M is 28 or 29 February).
//	3     equally authentic texts: the material texts are written per
//	      authentic language (State.Languages); a party approves only a
//	      version with every text in its own language, and the version
//	      that activates has every text in every authentic language.
const CurrentRules = 3

// Policy holds the clock's cadences for one activity.
type Policy struct {
	ApprovalWindow        time.Duration `json:"approval_window"`
	ApprovalReminderEvery time.Duration `json:"approval_reminder_every"`
	DueSoonLead           time.Duration `json:"due_soon_lead"`
	OverdueReminderEvery  time.Duration `json:"overdue_reminder_every"`
	OverdueReminders      int           `json:"overdue_reminders"`
}

// DefaultPolicy is the policy an activity gets unless it overrides a field.
func DefaultPolicy() Policy {
	const day = 24 * time.Hour
	return Policy{
		ApprovalWindow:        60 * day,
		ApprovalReminderEvery: 7 * day,
		DueSoonLead:           7 * day,
		OverdueReminderEvery:  7 * day,
		OverdueReminders:      3,
	}
}

// PolicyOverrides changes chosen fields of the default policy; nil fields
// keep the default.
type PolicyOverrides struct {
	ApprovalWindow        *time.Duration `json:"approval_window,omitempty"`
	ApprovalReminderEvery *time.Duration `json:"approval_reminder_every,omitempty"`
	DueSoonLead           *time.Duration `json:"due_soon_lead,omitempty"`
	OverdueReminderEvery  *time.Duration `json:"overdue_reminder_every,omitempty"`
	OverdueReminders      *int           `json:"overdue_reminders,omitempty"`
}

// Party returns the party with code c.
func (s *State) Party(c PartyCode) (Party, bool) {
	for _, p := range s.Parties {
		if p.Code == c {
			return p, true
		}
	}
	return Party{}, false
}

// Milestone returns the index of milestone id, or -1.
func (s *State) milestoneIndex(id string) int {
	for i := range s.Milestones {
		if s.Milestones[i].ID == id {
			return i
		}
	}
	return -1
}

func (s *State) extensionIndex(id string) int {
	for i := range s.Extensions {
		if s.Extensions[i].ID == id {
			return i
		}
	}
	return -1
}

func (s *State) hasParty(c PartyCode) bool {
	_, ok := s.Party(c)
	return ok
}

// Clone returns a deep copy, so Apply never mutates its input.
func (s State) Clone() State {
	c := s
	c.Parties = slices.Clone(s.Parties)
	c.Languages = slices.Clone(s.Languages)
	c.Title, c.Summary = s.Title.clone(), s.Summary.clone()
	c.Objectives = cloneTexts(s.Objectives)
	c.Approvals = slices.Clone(s.Approvals)
	c.RecipientCountries = slices.Clone(s.RecipientCountries)
	c.Publication = slices.Clone(s.Publication)
	c.Milestones = make([]Milestone, len(s.Milestones))
	for i, m := range s.Milestones {
		c.Milestones[i] = m.clone()
	}
	if s.Milestones == nil {
		c.Milestones = nil
	}
	if s.Extensions != nil {
		c.Extensions = make([]Extension, len(s.Extensions))
		for i, e := range s.Extensions {
			e.Decisions = slices.Clone(e.Decisions)
			c.Extensions[i] = e
		}
	}
	return c
}

func (m Milestone) clone() Milestone {
	m.Title = m.Title.clone()
	m.Indicator = m.Indicator.clone()
	m.Evidence = slices.Clone(m.Evidence)
	m.Notes = slices.Clone(m.Notes)
	return m
}

func (in *Indicator) clone() *Indicator {
	if in == nil {
		return nil
	}
	c := *in
	c.Unit = in.Unit.clone()
	c.Baseline = cloneFloat(in.Baseline)
	c.Actual = cloneFloat(in.Actual)
	return &c
}

func cloneFloat(f *float64) *float64 {
	if f == nil {
		return nil
	}
	v := *f
	return &v
}

// Codes spells party codes as plain strings, for storage and JSON.
func Codes(ps []PartyCode) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}
