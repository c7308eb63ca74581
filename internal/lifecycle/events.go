package lifecycle

import (
	"fmt"
	"time"
)

// EventType names what happened to an activity.
type EventType string

// The events of an activity's life. The notices (approval reminder, due
// soon, overdue, escalated, expired) are the clock's.
const (
	EventProposed           EventType = "proposed"
	EventAmended            EventType = "amended"
	EventApproved           EventType = "approved"
	EventChangesRequested   EventType = "changes_requested"
	EventDeclined           EventType = "declined"
	EventActivated          EventType = "activated"
	EventApprovalReminder   EventType = "approval_reminder"
	EventExpired            EventType = "expired"
	EventProgressReported   EventType = "progress_reported"
	EventMilestoneCompleted EventType = "milestone_completed"
	EventCompleted          EventType = "completed"
	EventExtensionRequested EventType = "extension_requested"
	EventExtensionDecided   EventType = "extension_decided"
	EventExtensionApproved  EventType = "extension_approved"
	EventExtensionDeclined  EventType = "extension_declined"
	EventMilestoneDueSoon   EventType = "milestone_due_soon"
	EventMilestoneOverdue   EventType = "milestone_overdue"
	EventMilestoneEscalated EventType = "milestone_escalated"
	EventSuspended          EventType = "suspended"
	EventResumed            EventType = "resumed"
	EventCancelled          EventType = "cancelled"
	EventLanguagesAssigned  EventType = "languages_assigned"
	// EventWorkflowLost: the activity's workflow stopped running without
	// the activity ending (Temporal says how, in Temporal); recorded by
	// Pacto's reconciler, not by the workflow.
	EventWorkflowLost EventType = "workflow_lost"
	// EventRestarted: an administrator started the activity's workflow
	// again from its last recorded state.
	EventRestarted EventType = "restarted"
	// EventPublicationConsented: Party's approver consented to publishing
	// Version as open data.
	EventPublicationConsented EventType = "publication_consented"
	// EventPublicationWithdrawn: Party withdrew its consent to publishing
	// Version.
	EventPublicationWithdrawn EventType = "publication_withdrawn"
)

// The events of a dialogue meeting's cycle, recorded in the meeting's own
// audit chain (see MeetingChain), not an activity's.
const (
	// EventMeetingDrafted: the draft report and agenda are out; statements
	// are open until Due. Digest is the draft's SHA-256.
	EventMeetingDrafted EventType = "meeting_drafted"
	// EventStatementMade: a coordinator's statement on an activity.
	EventStatementMade EventType = "statement_made"
	// EventStatementReminder: the Parties listed still owe statements,
	// due at Due; Notice counts the reminders from 1.
	EventStatementReminder EventType = "statement_reminder"
	// EventMeetingMoved: the meeting is now at Due.
	EventMeetingMoved EventType = "meeting_moved"
	// EventMeetingCancelled: the meeting was taken off the calendar.
	EventMeetingCancelled EventType = "meeting_cancelled"
	// EventReportFrozen: the meeting's report is kept for good; Digest
	// is its SHA-256, Parties those whose statements were missing.
	EventReportFrozen EventType = "report_frozen"
	// EventMinutesRecorded: minutes Version were recorded (or changed,
	// which resets every signature).
	EventMinutesRecorded EventType = "minutes_recorded"
	// EventMinutesSigned: Party's approver signed minutes Version.
	EventMinutesSigned EventType = "minutes_signed"
	// EventMinutesAdopted: every party signed minutes Version; they
	// never change again.
	EventMinutesAdopted EventType = "minutes_adopted"
)

// Event is one fact about an activity. Only the fields that matter for its
// type are set; Apply needs nothing else to rebuild the state.
type Event struct {
	Seq     int64     `json:"seq"`
	Type    EventType `json:"type"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Party   PartyCode `json:"party,omitempty"` // the actor's party, or the party decided for
	Version int       `json:"version,omitempty"`

	Milestone string    `json:"milestone,omitempty"`
	Extension string    `json:"extension,omitempty"`
	Decision  Decision  `json:"decision,omitempty"`
	Comment   string    `json:"comment,omitempty"` // reason or comment
	Due       time.Time `json:"due,omitzero"`      // the due time a notice or extension is about
	Notice    int       `json:"notice,omitempty"`  // which overdue reminder, from 1
	// Parties lists the parties a notice concerns: pending approvers for an
	// approval reminder, the other parties for an escalation.
	Parties []PartyCode `json:"parties,omitempty"`

	Proposal *Proposal     `json:"proposal,omitempty"` // proposed
	Content  *Content      `json:"content,omitempty"`  // proposed, amended
	Progress *Progress     `json:"progress,omitempty"` // progress_reported, milestone_completed
	Request  *Extension    `json:"request,omitempty"`  // extension_requested
	Dues     []ResolvedDue `json:"dues,omitempty"`     // activated
	// Languages are the authentic languages and Readers each party's,
	// from languages_assigned.
	Languages []string `json:"languages,omitempty"`
	Readers   []Party  `json:"readers,omitempty"`
	// Temporal is what Temporal said of the activity's workflow: who asked
	// it to cancel the run (cancelled by TemporalActor), or how the run
	// ended without recording it (workflow_lost).
	Temporal *TemporalRun `json:"temporal,omitempty"`

	// Meeting events: the meeting's number, the SHA-256 (hex) of the
	// report an event is about, and the activity a statement is on or
	// the activities the adopted minutes proposed.
	Meeting    int      `json:"meeting,omitempty"`
	Digest     string   `json:"digest,omitempty"`
	Activities []string `json:"activities,omitempty"`
}

// MeetingChain is the id under which a dialogue meeting's events are
// chained in the audit log, beside the activities' own chains. Neither a
// dialogue id nor an activity id holds a slash, so it names nothing else.
func MeetingChain(dialogue string, meeting int) string {
	return fmt.Sprintf("dialogue/%s/meeting/%d", dialogue, meeting)
}

// TemporalRun is what Temporal says of an activity's workflow run.
type TemporalRun struct {
	RunID string `json:"run_id,omitempty"`
	// Status is how the run stands, in Temporal's words in snake case:
	// running, completed, failed, canceled, terminated, continued_as_new,
	// timed_out; or not_found when Temporal has no such workflow (its
	// history is gone, or its namespace).
	Status string `json:"status,omitempty"`
	// Identity is the client that acted on the run (asked to cancel or
	// terminated it), as Temporal recorded it.
	Identity string `json:"identity,omitempty"`
	// Reason is the reason given with that request, or the failure that
	// ended the run.
	Reason string `json:"reason,omitempty"`
}

// The statuses of TemporalRun.Status that Pacto names itself.
const (
	RunTerminated = "terminated"
	RunFailed     = "failed"
	RunTimedOut   = "timed_out"
	RunCanceled   = "canceled"
	RunCompleted  = "completed"
	RunNotFound   = "not_found"
)

// Proposal is the fixed frame of an activity, set once when proposed.
type Proposal struct {
	ID            string    `json:"id"`
	Dialogue      string    `json:"dialogue"`
	Parties       []Party   `json:"parties"`
	Proposer      string    `json:"proposer"`
	ProposerParty PartyCode `json:"proposer_party"`
	Policy        Policy    `json:"policy"`
	ExpiresAt     time.Time `json:"expires_at"`
	Rules         int       `json:"rules,omitempty"`
	Languages     []string  `json:"languages,omitempty"`
}

// Content is the material, amendable part of a proposal.
type Content struct {
	Title      Text   `json:"title"`
	Summary    Text   `json:"summary,omitempty"`
	Objectives []Text `json:"objectives,omitempty"`
	// Sector and RecipientCountries, when given, classify the activity
	// for open data.
	Sector             string      `json:"sector,omitempty"`
	RecipientCountries []string    `json:"recipient_countries,omitempty"`
	Milestones         []Milestone `json:"milestones"`
	Hash               string      `json:"hash"`
}

// Progress is what a progress report or a completion adds to a milestone.
type Progress struct {
	Evidence []string `json:"evidence,omitempty"`
	Actual   *float64 `json:"actual,omitempty"`
	Note     string   `json:"note,omitempty"`
}

// ResolvedDue is a milestone's due time and term fixed at activation.
type ResolvedDue struct {
	Milestone string    `json:"milestone"`
	DueAt     time.Time `json:"due_at"`
	Term      Horizon   `json:"term"`
}
