package lifecycle

// Command is one request to change an activity. The concrete types below
// are the only commands; Decide switches on them.
type Command interface {
	// CommandName is the stable name of the command, used for Update names
	// and audit records.
	CommandName() string
}

// Propose creates the activity. The caller supplies the dialogue's parties
// (with their time zones and languages) so the core can check membership
// without I/O.
//
// A text given as a plain string (Plain) in a command is in the actor's
// party's language; a text keyed by language may hold any of the
// activity's languages.
type Propose struct {
	ActivityID      string      `json:"activity_id"`
	Dialogue        string      `json:"dialogue"`
	DialogueParties []Party     `json:"dialogue_parties"`
	Parties         []PartyCode `json:"parties"`
	// Languages are the dialogue's authentic languages (rules 3); empty
	// means its parties' languages.
	Languages  []string `json:"languages,omitempty"`
	Title      Text     `json:"title"`
	Summary    Text     `json:"summary,omitempty"`
	Objectives []Text   `json:"objectives,omitempty"`
	// Sector and RecipientCountries classify the activity for open data
	// (see State.Sector); they may be left out.
	Sector             string          `json:"sector,omitempty"`
	RecipientCountries []string        `json:"recipient_countries,omitempty"`
	Milestones         []MilestoneSpec `json:"milestones"`
	Policy             PolicyOverrides `json:"policy,omitzero"`
	// Rules is the rule version to decide the activity under (see State.Rules).
	Rules int `json:"rules,omitempty"`
}

// Amend replaces the proposal's content. BaseVersion must be the current
// version, so an edit made against an older version is refused.
//
// In an activity with languages, a text replaces only the languages it is
// written in and keeps the others (an empty text removes its language):
// objectives by position, milestones' texts by milestone id. So a
// coordinator adds their party's text without retyping the others'.
type Amend struct {
	BaseVersion int    `json:"base_version"`
	Title       Text   `json:"title"`
	Summary     Text   `json:"summary,omitempty"`
	Objectives  []Text `json:"objectives,omitempty"`
	// Sector and RecipientCountries replace the activity's; empty
	// leaves it without them.
	Sector             string          `json:"sector,omitempty"`
	RecipientCountries []string        `json:"recipient_countries,omitempty"`
	Milestones         []MilestoneSpec `json:"milestones"`
}

// DecideProposal is an approver's decision for their own party on one version.
type DecideProposal struct {
	Version  int       `json:"version"`
	Party    PartyCode `json:"party,omitempty"` // optional; must be the actor's own party
	Decision Decision  `json:"decision"`
	Comment  string    `json:"comment,omitempty"`
}

// ReportProgress adds evidence, an indicator reading or a note to an open milestone.
type ReportProgress struct {
	MilestoneID string   `json:"milestone_id"`
	Evidence    []string `json:"evidence,omitempty"`
	Actual      *float64 `json:"actual,omitempty"`
	Note        string   `json:"note,omitempty"`
}

// CompleteMilestone closes a milestone, optionally with final evidence.
type CompleteMilestone struct {
	MilestoneID string   `json:"milestone_id"`
	Evidence    []string `json:"evidence,omitempty"`
	Actual      *float64 `json:"actual,omitempty"`
	Note        string   `json:"note,omitempty"`
}

// RequestExtension asks every party to move a milestone's due time.
type RequestExtension struct {
	MilestoneID string `json:"milestone_id"`
	NewDue      string `json:"new_due"`
	Reason      string `json:"reason"`
}

// DecideExtension is an approver's decision for their own party on an extension.
type DecideExtension struct {
	MilestoneID string    `json:"milestone_id,omitempty"`
	ExtensionID string    `json:"extension_id"`
	Party       PartyCode `json:"party,omitempty"`
	Decision    Decision  `json:"decision"`
	Comment     string    `json:"comment,omitempty"`
}

// Suspend pauses an active activity; its reminders stop until Resume.
type Suspend struct {
	Reason string `json:"reason"`
}

// Resume re-activates a suspended activity and re-arms its reminders.
type Resume struct {
	Reason string `json:"reason"`
}

// Cancel ends an activity that is proposed, active or suspended.
type Cancel struct {
	Reason string `json:"reason"`
}

// AssignLanguages moves an activity proposed before texts had languages to
// its dialogue's: each party reads the language given for it, the
// authentic languages are Languages, and every text, written as a plain
// string then, becomes the text of the proposer party's language. It
// changes nothing in an activity that has languages already.
type AssignLanguages struct {
	// Parties are the dialogue's parties, with their languages.
	Parties   []Party  `json:"parties"`
	Languages []string `json:"languages"`
}

// CancelInTemporal records that an operator asked Temporal to cancel the
// activity's workflow (the Web UI's "Request Cancellation", `temporal
// workflow cancel`, an SDK client): the activity ends as cancelled, as
// if an approver had cancelled it. Only the workflow sends it, as
// TemporalActor, with what Temporal recorded of the request; no role or
// reason is required, since the operator is not a principal of Pacto's.
// It changes nothing in an activity that has ended already.
type CancelInTemporal struct {
	// Identity is who Temporal says asked (the client's identity).
	Identity string `json:"identity,omitempty"`
	// Reason is the reason given with the request, if any.
	Reason string `json:"reason,omitempty"`
}

// NoteWorkflowLost records that the activity's workflow is no longer
// running although the activity has not ended: it was terminated, failed,
// timed out, or is gone from Temporal altogether. Only Pacto's reconciler
// sends it, as SystemActor, outside any workflow; the activity keeps its
// status, and an administrator can restart it (Restart).
type NoteWorkflowLost struct {
	Run TemporalRun `json:"run"`
}

// Restart records that an administrator started the activity's workflow
// again from the read model's last snapshot, after it was lost. Only an
// admin may, with a reason, and only for an activity that has not ended.
type Restart struct {
	Reason string `json:"reason"`
}

// Tick is the clock looking at the activity; it sends due reminders,
// escalations and expiries.
type Tick struct{}

// CommandName implements Command.
func (Propose) CommandName() string { return "propose" }

// CommandName implements Command.
func (Amend) CommandName() string { return "amend" }

// CommandName implements Command.
func (DecideProposal) CommandName() string { return "decide" }

// CommandName implements Command.
func (ReportProgress) CommandName() string { return "report_progress" }

// CommandName implements Command.
func (CompleteMilestone) CommandName() string { return "complete_milestone" }

// CommandName implements Command.
func (RequestExtension) CommandName() string { return "request_extension" }

// CommandName implements Command.
func (DecideExtension) CommandName() string { return "decide_extension" }

// CommandName implements Command.
func (Suspend) CommandName() string { return "suspend" }

// CommandName implements Command.
func (Resume) CommandName() string { return "resume" }

// CommandName implements Command.
func (Cancel) CommandName() string { return "cancel" }

// CommandName implements Command.
func (Tick) CommandName() string { return "tick" }

// CommandName implements Command.
func (AssignLanguages) CommandName() string { return "assign_languages" }

// CommandName implements Command.
func (CancelInTemporal) CommandName() string { return "cancel_in_temporal" }

// CommandName implements Command.
func (NoteWorkflowLost) CommandName() string { return "note_workflow_lost" }

// CommandName implements Command.
func (Restart) CommandName() string { return "restart" }
