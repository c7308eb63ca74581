package lifecycle

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Decide checks cmd, made by actor at now, against s and returns the events
// it causes. It never mutates s. An empty result with a nil error means the
// command changes nothing (an amendment with identical content, a tick with
// nothing due).
func Decide(s State, cmd Command, actor Principal, now time.Time) ([]Event, error) {
	now = now.UTC()
	d := &decider{s: s, actor: actor, now: now}
	if _, tick := cmd.(Tick); !tick && cmd != nil && actor.ID == "" {
		return nil, forbidden("the command has no actor")
	}
	var err error
	switch c := cmd.(type) {
	case Propose:
		err = d.propose(c)
	case Amend:
		err = d.amend(c)
	case DecideProposal:
		err = d.decideProposal(c)
	case ReportProgress:
		err = d.progress(c.MilestoneID, Progress{Evidence: c.Evidence, Actual: c.Actual, Note: c.Note}, false)
	case CompleteMilestone:
		err = d.progress(c.MilestoneID, Progress{Evidence: c.Evidence, Actual: c.Actual, Note: c.Note}, true)
	case RequestExtension:
		err = d.requestExtension(c)
	case DecideExtension:
		err = d.decideExtension(c)
	case Suspend:
		err = d.suspend(c)
	case Resume:
		err = d.resume(c)
	case Cancel:
		err = d.cancel(c)
	case AssignLanguages:
		err = d.assignLanguages(c)
	case CancelInTemporal:
		err = d.cancelInTemporal(c)
	case NoteWorkflowLost:
		err = d.noteWorkflowLost(c)
	case Restart:
		err = d.restart(c)
	case DecidePublication:
		err = d.decidePublication(c)
	case Tick:
		d.tick()
	case nil:
		err = invalid("command", "no command given")
	default:
		err = invalid("command", "unknown command %T", cmd)
	}
	if err != nil {
		return nil, err
	}
	if err := d.checkBudget(cmd); err != nil {
		return nil, err
	}
	return d.events, nil
}

// decider accumulates events and applies each to a working copy of the
// state, so a later rule in the same decision sees the earlier events.
type decider struct {
	s      State
	actor  Principal
	now    time.Time
	events []Event
}

func (d *decider) emit(e Event) {
	e.Seq = d.s.Seq + 1
	e.At = d.now
	if e.Actor == "" {
		e.Actor = d.actor.ID
	}
	d.events = append(d.events, e)
	d.s = Apply(d.s, e)
}

func (d *decider) emitClock(e Event) {
	e.Actor = ClockActor
	d.emit(e)
}

// requireExisting refuses any command but Propose on an activity that was
// never proposed.
func (d *decider) requireExisting() error {
	if d.s.Status == "" {
		return badTransition("the activity has not been proposed")
	}
	return nil
}

func (d *decider) requireStatus(what string, allowed ...Status) error {
	if err := d.requireExisting(); err != nil {
		return err
	}
	if !slices.Contains(allowed, d.s.Status) {
		return badTransition("cannot %s an activity that is %s", what, d.s.Status)
	}
	return nil
}

// requireWindowOpen refuses work on a proposal whose approval window has
// closed; the clock may not have ticked yet, but the window is shut.
func (d *decider) requireWindowOpen() error {
	if !d.now.Before(d.s.ExpiresAt) {
		return badTransition("the approval window closed at %s", d.s.ExpiresAt.Format(time.RFC3339))
	}
	return nil
}

// requireRole checks that the actor holds role and belongs to one of the
// activity's parties.
func (d *decider) requireRole(role Role, what string) error {
	if !d.actor.Has(role) {
		return forbidden("only a %s may %s", role, what)
	}
	if d.actor.Party == "" || !d.s.hasParty(d.actor.Party) {
		return forbidden("principal %q is not with a party of this activity", d.actor.ID)
	}
	return nil
}

// requireOwnParty refuses a decision that names another party than the actor's.
func (d *decider) requireOwnParty(p PartyCode) error {
	if p != "" && p != d.actor.Party {
		return forbidden("an approver of %s cannot decide for %s", d.actor.Party, p)
	}
	return nil
}

func (d *decider) propose(c Propose) error {
	if d.s.Status != "" {
		return badTransition("activity %q has already been proposed", d.s.ID)
	}
	if !d.actor.Has(RoleCoordinator) {
		return forbidden("only a coordinator may propose an activity")
	}
	if err := checkID("activity_id", c.ActivityID); err != nil {
		return err
	}
	if err := checkID("dialogue", c.Dialogue); err != nil {
		return err
	}
	parties, err := d.checkParties(c)
	if err != nil {
		return err
	}
	policy, err := c.Policy.apply(DefaultPolicy())
	if err != nil {
		return err
	}
	frame := State{Parties: parties, Rules: c.Rules}
	if c.Rules >= 3 {
		if frame.Languages, err = checkLanguages(c, parties); err != nil {
			return err
		}
	} else {
		// Before rules 3 a party's language was not part of the activity,
		// and states recorded then carry none.
		for i := range frame.Parties {
			frame.Parties[i].Language = ""
		}
	}
	lang, _ := frame.LanguageOf(d.actor.Party)
	content, err := builder{s: &frame, lang: lang, now: d.now}.buildContent(draft{c.Title, c.Summary, c.Objectives, c.Milestones, c.Sector, c.RecipientCountries})
	if err != nil {
		return err
	}
	d.emit(Event{
		Type:    EventProposed,
		Party:   d.actor.Party,
		Version: 1,
		Proposal: &Proposal{
			ID:            c.ActivityID,
			Dialogue:      c.Dialogue,
			Parties:       frame.Parties,
			Proposer:      d.actor.ID,
			ProposerParty: d.actor.Party,
			Policy:        policy,
			ExpiresAt:     d.now.Add(policy.ApprovalWindow),
			Rules:         c.Rules,
			Languages:     frame.Languages,
		},
		Content: content,
	})
	return nil
}

// checkParties validates the activity's parties against its dialogue and
// returns them with their time zones.
func (d *decider) checkParties(c Propose) ([]Party, error) {
	if len(c.Parties) < 2 {
		return nil, invalid("parties", "an activity needs at least two parties, got %d", len(c.Parties))
	}
	if len(c.Parties) > maxParties {
		return nil, invalid("parties", "an activity may have at most %d parties", maxParties)
	}
	out := make([]Party, 0, len(c.Parties))
	for i, code := range c.Parties {
		field := fmt.Sprintf("parties[%d]", i)
		if slices.Contains(c.Parties[:i], code) {
			return nil, invalid(field, "party %q is listed twice", code)
		}
		idx := slices.IndexFunc(c.DialogueParties, func(p Party) bool { return p.Code == code })
		if idx < 0 {
			return nil, invalid(field, "party %q is not a party of dialogue %q", code, c.Dialogue)
		}
		p := c.DialogueParties[idx]
		if _, err := location(p.TimeZone); err != nil {
			return nil, invalid(field, "party %q has an unknown time zone %q", code, p.TimeZone)
		}
		out = append(out, p)
	}
	if d.actor.Party == "" || !slices.Contains(c.Parties, d.actor.Party) {
		return nil, invalid("parties", "the proposer's own party %q must be one of the activity's parties", d.actor.Party)
	}
	return out, nil
}

func (d *decider) amend(c Amend) error {
	if err := d.requireStatus("amend", StatusProposed); err != nil {
		return err
	}
	if err := d.requireRole(RoleCoordinator, "amend a proposal"); err != nil {
		return err
	}
	if err := d.requireWindowOpen(); err != nil {
		return err
	}
	if c.BaseVersion != d.s.Version {
		return stale("the amendment was made against version %d but the current version is %d", c.BaseVersion, d.s.Version)
	}
	b := builder{s: &d.s, now: d.now}
	if len(d.s.Languages) > 0 {
		b.lang, _ = d.s.LanguageOf(d.actor.Party)
		b.base = &d.s
	}
	content, err := b.buildContent(draft{c.Title, c.Summary, c.Objectives, c.Milestones, c.Sector, c.RecipientCountries})
	if err != nil {
		return err
	}
	if content.Hash == d.s.ContentHash {
		return nil // identical content: nothing to reset
	}
	d.emit(Event{Type: EventAmended, Party: d.actor.Party, Version: d.s.Version + 1, Content: content})
	return nil
}

func (d *decider) decideProposal(c DecideProposal) error {
	if err := d.requireStatus("decide on", StatusProposed); err != nil {
		return err
	}
	if err := d.requireWindowOpen(); err != nil {
		return err
	}
	if err := d.requireRole(RoleApprover, "decide on a proposal"); err != nil {
		return err
	}
	if err := d.requireOwnParty(c.Party); err != nil {
		return err
	}
	if d.actor.ID == d.s.Proposer {
		return forbidden("the proposer cannot decide on their own proposal")
	}
	if c.Version != d.s.Version {
		return stale("the decision was made on version %d but the current version is %d", c.Version, d.s.Version)
	}
	if err := checkText("comment", c.Comment, maxComment, false); err != nil {
		return err
	}
	current := d.s.approval(d.actor.Party)
	e := Event{Party: d.actor.Party, Version: d.s.Version, Decision: c.Decision, Comment: c.Comment}
	switch c.Decision {
	case DecisionApprove:
		if current.Decision == DecisionApprove {
			return badTransition("%s has already approved version %d", d.actor.Party, d.s.Version)
		}
		if err := d.requireTexts(); err != nil {
			return err
		}
		e.Type = EventApproved
	case DecisionRequestChanges:
		if current.Decision == DecisionRequestChanges {
			return badTransition("%s has already requested changes to version %d", d.actor.Party, d.s.Version)
		}
		if err := checkText("comment", c.Comment, maxComment, true); err != nil {
			return invalid("comment", "a reason is required when requesting changes")
		}
		e.Type = EventChangesRequested
	case DecisionDecline:
		if err := checkText("comment", c.Comment, maxComment, true); err != nil {
			return invalid("comment", "a reason is required when declining")
		}
		e.Type = EventDeclined
	default:
		return invalid("decision", "decision must be approve, request_changes or decline, not %q", c.Decision)
	}
	d.emit(e)
	if e.Type == EventApproved && len(PendingParties(d.s)) == 0 {
		d.activate()
	}
	return nil
}

// requireTexts refuses an approval, in an activity with languages, of a
// version whose texts are not all written in the approver's party's
// language (a party approves only what its people can read), and the last
// approval while any authentic language's text is missing (the version
// that activates is complete in every language).
func (d *decider) requireTexts() error {
	if len(d.s.Languages) == 0 {
		return nil
	}
	lang, _ := d.s.LanguageOf(d.actor.Party)
	if missing := d.s.MissingTexts(lang); len(missing) > 0 {
		return missingTexts(lang, missing, "%s cannot approve version %d until it has every text in its language, %s", d.actor.Party, d.s.Version, lang)
	}
	pending := PendingParties(d.s)
	if len(pending) != 1 || pending[0] != d.actor.Party {
		return nil
	}
	for _, l := range d.s.Languages {
		if missing := d.s.MissingTexts(l); len(missing) > 0 {
			return missingTexts(l, missing, "version %d cannot activate until every text is written in each authentic language, %s included", d.s.Version, l)
		}
	}
	return nil
}

// activate fixes every milestone's due time and term and starts the clock.
func (d *decider) activate() {
	dues := make([]ResolvedDue, 0, len(d.s.Milestones))
	for _, m := range d.s.Milestones {
		loc := d.s.ownerLocation(m.Owner)
		due, _ := mustParseDue(m.Due).ResolveRules(loc, d.now, d.s.Rules)
		term := m.Horizon
		if term == "" {
			term = deriveHorizon(d.now, due, d.s.Rules)
		}
		dues = append(dues, ResolvedDue{Milestone: m.ID, DueAt: due, Term: term})
	}
	d.emitClock(Event{Type: EventActivated, Version: d.s.Version, Dues: dues})
}

func (d *decider) progress(id string, p Progress, complete bool) error {
	what, verb := "report progress on", "report on"
	allowed := []Status{StatusActive, StatusSuspended}
	if complete {
		what, verb = "complete a milestone of", "complete"
		allowed = []Status{StatusActive}
	}
	if err := d.requireStatus(what, allowed...); err != nil {
		return err
	}
	if err := d.requireRole(RoleCoordinator, what+" an activity"); err != nil {
		return err
	}
	i := d.s.milestoneIndex(id)
	if i < 0 {
		return notFound("milestone_id", "no milestone %q in this activity", id)
	}
	m := d.s.Milestones[i]
	if m.Owner != d.actor.Party {
		return forbidden("milestone %q is owned by %s; only its coordinators may %s it", id, m.Owner, verb)
	}
	if m.Status != MilestoneOpen {
		return badTransition("milestone %q is %s", id, m.Status)
	}
	if err := checkProgress(m, p, complete); err != nil {
		return err
	}
	if !complete {
		d.emit(Event{Type: EventProgressReported, Party: d.actor.Party, Milestone: id, Progress: &p})
		return nil
	}
	var prog *Progress
	if len(p.Evidence) > 0 || p.Actual != nil || p.Note != "" {
		prog = &p
	}
	d.emit(Event{Type: EventMilestoneCompleted, Party: d.actor.Party, Milestone: id, Due: m.DueAt, Progress: prog})
	for _, m := range d.s.Milestones {
		if m.Status != MilestoneCompleted {
			return nil
		}
	}
	d.emitClock(Event{Type: EventCompleted})
	return nil
}

func (d *decider) requestExtension(c RequestExtension) error {
	if err := d.requireStatus("request an extension on", StatusActive); err != nil {
		return err
	}
	if err := d.requireRole(RoleCoordinator, "request an extension"); err != nil {
		return err
	}
	i := d.s.milestoneIndex(c.MilestoneID)
	if i < 0 {
		return notFound("milestone_id", "no milestone %q in this activity", c.MilestoneID)
	}
	m := d.s.Milestones[i]
	if m.Owner != d.actor.Party {
		return forbidden("milestone %q is owned by %s; only its coordinators may request an extension", m.ID, m.Owner)
	}
	if m.Status != MilestoneOpen {
		return badTransition("milestone %q is %s", m.ID, m.Status)
	}
	for _, x := range d.s.Extensions {
		if x.MilestoneID == m.ID && x.Status == ExtensionPending {
			return badTransition("milestone %q already has a pending extension %q", m.ID, x.ID)
		}
	}
	due, err := ParseDue(c.NewDue)
	if err != nil {
		return invalid("new_due", "%v", err)
	}
	// A duration moves the due time on from where it stands now: P3M is
	// three months more than the current due time.
	at, _ := due.ResolveRules(d.s.ownerLocation(m.Owner), m.DueAt, d.s.Rules)
	if !at.After(d.now) {
		return invalid("new_due", "the new due time %s is not in the future", at.Format(time.RFC3339))
	}
	if at.Equal(m.DueAt) {
		return invalid("new_due", "the new due time is the current one")
	}
	if err := checkText("reason", c.Reason, maxComment, true); err != nil {
		return err
	}
	decisions := make([]Approval, len(d.s.Parties))
	for i, p := range d.s.Parties {
		decisions[i] = Approval{Party: p.Code, Decision: DecisionPending}
	}
	x := Extension{
		ID:          fmt.Sprintf("x%d", d.s.nextExtensionNumber()),
		MilestoneID: m.ID,
		NewDue:      c.NewDue,
		NewDueAt:    at,
		Reason:      c.Reason,
		RequestedBy: d.actor.ID,
		RequestedAt: d.now,
		Status:      ExtensionPending,
		Decisions:   decisions,
	}
	d.emit(Event{Type: EventExtensionRequested, Party: d.actor.Party, Milestone: m.ID, Extension: x.ID, Due: at, Comment: c.Reason, Request: &x})
	return nil
}

func (d *decider) decideExtension(c DecideExtension) error {
	if err := d.requireStatus("decide an extension of", StatusActive); err != nil {
		return err
	}
	i := d.s.extensionIndex(c.ExtensionID)
	if i < 0 || (c.MilestoneID != "" && d.s.Extensions[i].MilestoneID != c.MilestoneID) {
		return notFound("extension_id", "no extension %q on this milestone", c.ExtensionID)
	}
	x := d.s.Extensions[i]
	if err := d.requireRole(RoleApprover, "decide on an extension"); err != nil {
		return err
	}
	if err := d.requireOwnParty(c.Party); err != nil {
		return err
	}
	if d.actor.ID == x.RequestedBy {
		return forbidden("the requester cannot decide on their own extension")
	}
	if x.Status != ExtensionPending {
		return badTransition("extension %q is already %s", x.ID, x.Status)
	}
	for _, a := range x.Decisions {
		if a.Party == d.actor.Party && a.Decision != DecisionPending {
			return badTransition("%s has already decided on extension %q", a.Party, x.ID)
		}
	}
	if err := checkText("comment", c.Comment, maxComment, false); err != nil {
		return err
	}
	switch c.Decision {
	case DecisionApprove:
	case DecisionDecline:
		if err := checkText("comment", c.Comment, maxComment, true); err != nil {
			return invalid("comment", "a reason is required when declining an extension")
		}
	default:
		return invalid("decision", "an extension decision must be approve or decline, not %q", c.Decision)
	}
	base := Event{Party: d.actor.Party, Milestone: x.MilestoneID, Extension: x.ID, Due: x.NewDueAt}
	e := base
	e.Type, e.Decision, e.Comment = EventExtensionDecided, c.Decision, c.Comment
	d.emit(e)
	if c.Decision == DecisionDecline {
		e = base
		e.Type, e.Comment = EventExtensionDeclined, c.Comment
		d.emitClock(e)
		return nil
	}
	x = d.s.Extensions[i]
	for _, a := range x.Decisions {
		if a.Decision != DecisionApprove {
			return nil
		}
	}
	e = base
	e.Type = EventExtensionApproved
	d.emitClock(e)
	return nil
}

func (d *decider) suspend(c Suspend) error {
	return d.control("suspend", c.Reason, EventSuspended, StatusActive)
}

func (d *decider) resume(c Resume) error {
	return d.control("resume", c.Reason, EventResumed, StatusSuspended)
}

func (d *decider) cancel(c Cancel) error {
	return d.control("cancel", c.Reason, EventCancelled, StatusProposed, StatusActive, StatusSuspended)
}

// control handles suspend, resume and cancel: an approver of a party of the
// activity, with a reason, from the allowed statuses.
func (d *decider) control(what, reason string, t EventType, from ...Status) error {
	if err := d.requireStatus(what, from...); err != nil {
		return err
	}
	if err := d.requireRole(RoleApprover, what+" an activity"); err != nil {
		return err
	}
	if err := checkText("reason", reason, maxComment, false); err != nil {
		return err
	}
	if strings.TrimSpace(reason) == "" {
		return invalid("reason", "a reason is required to %s an activity", what)
	}
	d.emit(Event{Type: t, Party: d.actor.Party, Comment: reason})
	return nil
}

func (d *decider) assignLanguages(c AssignLanguages) error {
	if d.actor.ID != SystemActor {
		return forbidden("only Pacto itself moves an activity to languages")
	}
	if err := d.requireExisting(); err != nil {
		return err
	}
	if len(d.s.Languages) > 0 || d.s.Status.Terminal() {
		return nil // already moved, or no longer changing
	}
	frame := d.s.Clone()
	for i, p := range frame.Parties {
		j := slices.IndexFunc(c.Parties, func(q Party) bool { return q.Code == p.Code })
		if j < 0 {
			return invalid("parties", "party %q of the activity has no language given", p.Code)
		}
		frame.Parties[i] = c.Parties[j]
	}
	langs, err := checkLanguages(Propose{Languages: c.Languages}, frame.Parties)
	if err != nil {
		return err
	}
	readers := make([]Party, len(frame.Parties))
	for i, p := range frame.Parties {
		readers[i] = Party{Code: p.Code, Language: p.Language}
	}
	d.emit(Event{Type: EventLanguagesAssigned, Languages: langs, Readers: readers})
	return nil
}

// cancelInTemporal ends the activity as cancelled when an operator asked
// Temporal to cancel its workflow. What Temporal recorded of the request
// comes from outside any form, so it is made storable rather than refused:
// the cancellation happened, and the activity must say so.
func (d *decider) cancelInTemporal(c CancelInTemporal) error {
	if d.actor.ID != TemporalActor {
		return forbidden("only the activity's workflow records a cancellation made in Temporal")
	}
	if err := d.requireExisting(); err != nil {
		return err
	}
	if d.s.Status.Terminal() {
		return nil // it had ended already: nothing to cancel
	}
	run := TemporalRun{Identity: outsideText(c.Identity, maxIdentity), Reason: outsideText(c.Reason, maxComment)}
	d.emit(Event{Type: EventCancelled, Comment: run.Reason, Temporal: &run})
	return nil
}

// noteWorkflowLost records that the activity's workflow stopped running
// while the activity had not ended.
func (d *decider) noteWorkflowLost(c NoteWorkflowLost) error {
	if d.actor.ID != SystemActor {
		return forbidden("only Pacto itself notes that an activity's workflow was lost")
	}
	if err := d.requireExisting(); err != nil {
		return err
	}
	if d.s.Status.Terminal() {
		return badTransition("the activity is %s: its workflow was meant to end", d.s.Status)
	}
	if c.Run.Status == "" {
		return invalid("run.status", "is required")
	}
	run := TemporalRun{
		RunID:    outsideText(c.Run.RunID, maxIdentity),
		Status:   outsideText(c.Run.Status, maxRunStatus),
		Identity: outsideText(c.Run.Identity, maxIdentity),
		Reason:   outsideText(c.Run.Reason, maxComment),
	}
	d.emit(Event{Type: EventWorkflowLost, Temporal: &run})
	return nil
}

// restart records an administrator starting the activity's workflow again.
func (d *decider) restart(c Restart) error {
	if err := d.requireExisting(); err != nil {
		return err
	}
	if !d.actor.Has(RoleAdmin) {
		return forbidden("only an admin may restart an activity's workflow")
	}
	if d.s.Status.Terminal() {
		return badTransition("cannot restart an activity that is %s", d.s.Status)
	}
	if err := checkText("reason", c.Reason, maxComment, true); err != nil {
		return err
	}
	d.emit(Event{Type: EventRestarted, Party: d.actor.Party, Comment: c.Reason})
	return nil
}

// tick emits whatever the clock owes at now: at most one notice per
// milestone, so a long outage does not turn into a burst of reminders.
func (d *decider) tick() {
	switch d.s.Status {
	case StatusProposed:
		if !d.now.Before(d.s.ExpiresAt) {
			d.emitClock(Event{Type: EventExpired, Version: d.s.Version, Parties: PendingParties(d.s)})
			return
		}
		if at, ok := approvalReminderAt(d.s); ok && !d.now.Before(at) {
			d.emitClock(Event{Type: EventApprovalReminder, Version: d.s.Version, Parties: PendingParties(d.s), Due: d.s.ExpiresAt})
		}
	case StatusActive:
		for i := range d.s.Milestones {
			m := d.s.Milestones[i]
			at, kind, ok := milestoneNotice(d.s.Policy, m)
			if !ok || d.now.Before(at) {
				continue
			}
			if kind == EventMilestoneDueSoon && !d.now.Before(m.DueAt) {
				// It is already late: skip to what is owed at the due time,
				// which is the escalation when the policy has no reminders.
				m.DueSoonSent = true
				_, kind, _ = milestoneNotice(d.s.Policy, m)
			}
			e := Event{Type: kind, Party: m.Owner, Milestone: m.ID, Due: m.DueAt}
			switch kind {
			case EventMilestoneOverdue:
				e.Notice = m.OverdueNotices + 1
			case EventMilestoneEscalated:
				e.Parties = d.s.otherParties(m.Owner)
			}
			d.emitClock(e)
		}
	}
}

func (s *State) approval(p PartyCode) Approval {
	for _, a := range s.Approvals {
		if a.Party == p {
			return a
		}
	}
	return Approval{Party: p, Decision: DecisionPending}
}

func (s *State) otherParties(p PartyCode) []PartyCode {
	var out []PartyCode
	for _, q := range s.Parties {
		if q.Code != p {
			out = append(out, q.Code)
		}
	}
	return out
}

// ownerLocation is the time zone of a party; validated at proposal.
func (s *State) ownerLocation(p PartyCode) *time.Location {
	party, _ := s.Party(p)
	loc, err := location(party.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// deriveHorizon classifies a due time by its distance from activation: up
// to 12 months short, up to 36 months medium, beyond that long, counting
// months as the run's rules count them (see Period.AddToRules).
func deriveHorizon(activation, due time.Time, rules int) Horizon {
	switch {
	case !due.After(Period{Years: 1}.AddToRules(activation, rules)):
		return HorizonShort
	case !due.After(Period{Years: 3}.AddToRules(activation, rules)):
		return HorizonMedium
	default:
		return HorizonLong
	}
}

// mustParseDue parses a due expression that validation has already accepted.
func mustParseDue(s string) Due {
	d, err := ParseDue(s)
	if err != nil {
		return Due{}
	}
	return d
}
