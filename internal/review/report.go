// Package review is the High-Level Dialogue's meeting cycle: the progress
// report compiled for each meeting from the read model, and how it is
// shown to people and handed on (JSON, CSV, printable HTML, PDF).
package review

import (
	"time"

	"pacto/internal/lifecycle"
)

// Report is a dialogue's progress report for one meeting: where every
// activity of the dialogue stands at AsOf, and what changed since the
// previous meeting. Its texts carry every language they are written in;
// each reader reads their own.
type Report struct {
	Dialogue     string    `json:"dialogue"`
	DialogueName string    `json:"dialogue_name"`
	Meeting      string    `json:"meeting"`
	MeetingAt    time.Time `json:"meeting_at"`
	// Since is the previous meeting's time (zero for the first): the
	// changes are counted from it.
	Since time.Time `json:"since,omitzero"`
	// AsOf is when the figures were taken.
	AsOf       time.Time        `json:"as_of"`
	Parties    []Party          `json:"parties"`
	Languages  []string         `json:"languages"`
	Activities []ActivityReport `json:"activities"`
	// ByParty and ByTerm count the milestones by their state at AsOf,
	// per owner party and per term.
	ByParty map[lifecycle.PartyCode]Counts `json:"by_party"`
	ByTerm  map[lifecycle.Horizon]Counts   `json:"by_term"`
	// Changes lists the activities proposed, activated, declined,
	// cancelled and completed between Since and AsOf, by id.
	Changes Changes `json:"changes"`
	// Statements are the coordinators' statements for the meeting, and
	// Missing the statements owed and not made: one per activity and
	// party owning milestones of it.
	Statements []Statement        `json:"statements,omitempty"`
	Missing    []MissingStatement `json:"missing_statements,omitempty"`
}

// Statement is a party's statement on an activity, as the report gives it.
type Statement struct {
	Activity string              `json:"activity"`
	Party    lifecycle.PartyCode `json:"party"`
	Author   string              `json:"author"`
	Body     string              `json:"body"`
	MadeAt   time.Time           `json:"made_at"`
}

// MissingStatement is a statement an owner party of an activity did not
// make.
type MissingStatement struct {
	Activity string              `json:"activity"`
	Party    lifecycle.PartyCode `json:"party"`
}

// Party is a party of the dialogue as the report names it.
type Party struct {
	Code     lifecycle.PartyCode `json:"code"`
	Name     string              `json:"name"`
	Language string              `json:"language"`
	TimeZone string              `json:"time_zone"`
}

// ActivityReport is one activity in the report.
type ActivityReport struct {
	ID         string                `json:"id"`
	Title      lifecycle.Text        `json:"title"`
	Status     lifecycle.Status      `json:"status"`
	Parties    []lifecycle.PartyCode `json:"parties"`
	Milestones []MilestoneReport     `json:"milestones"`
	// ExtensionsGranted counts the extensions approved since the
	// previous meeting.
	ExtensionsGranted int `json:"extensions_granted"`
}

// The states a milestone is reported in.
const (
	StateOnTime   = "on_time"  // completed by its due time
	StateLate     = "late"     // completed after its due time
	StateOverdue  = "overdue"  // open past its due time
	StateUpcoming = "upcoming" // open, not due yet
	StatePending  = "pending"  // its activity is not active yet
)

// MilestoneReport is one milestone in the report.
type MilestoneReport struct {
	ID          string              `json:"id"`
	Title       lifecycle.Text      `json:"title"`
	Owner       lifecycle.PartyCode `json:"owner"`
	Term        lifecycle.Horizon   `json:"term"`
	DueAt       *time.Time          `json:"due_at,omitempty"`
	CompletedAt *time.Time          `json:"completed_at,omitempty"`
	State       string              `json:"state"`
	Indicator   *Indicator          `json:"indicator,omitempty"`
}

// Indicator is a milestone's measure: from baseline towards target, at
// actual.
type Indicator struct {
	Baseline *float64       `json:"baseline,omitempty"`
	Target   float64        `json:"target"`
	Actual   *float64       `json:"actual,omitempty"`
	Unit     lifecycle.Text `json:"unit,omitempty"`
}

// Counts are milestones by state.
type Counts struct {
	OnTime   int `json:"on_time"`
	Late     int `json:"late"`
	Overdue  int `json:"overdue"`
	Upcoming int `json:"upcoming"`
	Pending  int `json:"pending"`
}

// Changes are the activities whose status changed between two meetings.
type Changes struct {
	Proposed  []string `json:"proposed"`
	Activated []string `json:"activated"`
	Declined  []string `json:"declined"`
	Cancelled []string `json:"cancelled"`
	Completed []string `json:"completed"`
}
