package lifecycle

import (
	"slices"
	"time"
	"unicode/utf8"
)

// Apply returns the state after event e. It never mutates s and never
// fails: events are facts that Decide has already checked.
func Apply(s State, e Event) State {
	s = s.Clone()
	if e.Seq > s.Seq {
		s.Seq = e.Seq
	}
	switch e.Type {
	case EventProposed:
		p := e.Proposal
		s.ID, s.Dialogue, s.Parties = p.ID, p.Dialogue, slices.Clone(p.Parties)
		s.Proposer, s.ProposerParty, s.Policy = p.Proposer, p.ProposerParty, p.Policy
		s.ProposedAt, s.ExpiresAt, s.Rules = e.At, p.ExpiresAt, p.Rules
		s.Languages = slices.Clone(p.Languages)
		s.Status = StatusProposed
		s.setContent(e.Version, e.Content, e.At)
	case EventAmended:
		s.setContent(e.Version, e.Content, e.At)
	case EventApproved, EventChangesRequested:
		s.setApproval(Approval{Party: e.Party, Decision: e.Decision, Version: e.Version, By: e.Actor, At: e.At, Comment: s.kept(e.Comment)})
	case EventDeclined:
		s.setApproval(Approval{Party: e.Party, Decision: e.Decision, Version: e.Version, By: e.Actor, At: e.At, Comment: s.kept(e.Comment)})
		s.close(StatusDeclined, e)
	case EventActivated:
		s.Status, s.ActivatedAt = StatusActive, e.At
		for _, d := range e.Dues {
			if i := s.milestoneIndex(d.Milestone); i >= 0 {
				m := &s.Milestones[i]
				m.DueAt, m.Term, m.Status, m.ArmedAt = d.DueAt, d.Term, MilestoneOpen, e.At
			}
		}
	case EventApprovalReminder:
		s.LastApprovalReminderAt = e.At
	case EventExpired:
		s.close(StatusExpired, e)
	case EventProgressReported:
		if i := s.milestoneIndex(e.Milestone); i >= 0 {
			s.Milestones[i].addProgress(e, s.Rules)
		}
	case EventMilestoneCompleted:
		if i := s.milestoneIndex(e.Milestone); i >= 0 {
			m := &s.Milestones[i]
			m.addProgress(e, s.Rules)
			m.Status, m.CompletedAt = MilestoneCompleted, e.At
			for j := range s.Extensions {
				if x := &s.Extensions[j]; x.MilestoneID == m.ID && x.Status == ExtensionPending {
					x.Status = ExtensionWithdrawn
				}
			}
		}
	case EventCompleted:
		s.close(StatusCompleted, e)
	case EventExtensionRequested:
		x := *e.Request
		x.Decisions = slices.Clone(x.Decisions)
		x.Reason = s.kept(x.Reason)
		s.Extensions = append(s.Extensions, x)
		if s.Rules >= 2 {
			// A run continued from older rules may hold more than it counted.
			s.ExtensionsRequested = max(s.ExtensionsRequested+1, len(s.Extensions))
		}
	case EventExtensionDecided:
		if i := s.extensionIndex(e.Extension); i >= 0 {
			x := &s.Extensions[i]
			for j := range x.Decisions {
				if x.Decisions[j].Party == e.Party {
					x.Decisions[j] = Approval{Party: e.Party, Decision: e.Decision, By: e.Actor, At: e.At, Comment: s.kept(e.Comment)}
				}
			}
		}
	case EventExtensionDeclined:
		if i := s.extensionIndex(e.Extension); i >= 0 {
			s.Extensions[i].Status = ExtensionDeclined
		}
	case EventExtensionApproved:
		if i := s.extensionIndex(e.Extension); i >= 0 {
			x := &s.Extensions[i]
			x.Status = ExtensionApproved
			if j := s.milestoneIndex(x.MilestoneID); j >= 0 {
				m := &s.Milestones[j]
				// The new due time starts the reminder cycle afresh.
				m.DueAt, m.ArmedAt = x.NewDueAt, e.At
				m.DueSoonSent, m.OverdueNotices, m.LastOverdueAt, m.Escalated = false, 0, time.Time{}, false
			}
		}
	case EventMilestoneDueSoon:
		if i := s.milestoneIndex(e.Milestone); i >= 0 {
			s.Milestones[i].DueSoonSent = true
		}
	case EventMilestoneOverdue:
		if i := s.milestoneIndex(e.Milestone); i >= 0 {
			m := &s.Milestones[i]
			m.OverdueNotices, m.LastOverdueAt = e.Notice, e.At
		}
	case EventMilestoneEscalated:
		if i := s.milestoneIndex(e.Milestone); i >= 0 {
			m := &s.Milestones[i]
			m.Escalated, m.LastOverdueAt = true, e.At
		}
	case EventSuspended:
		s.Status, s.SuspendedAt, s.Reason = StatusSuspended, e.At, s.kept(e.Comment)
	case EventResumed:
		s.Status, s.SuspendedAt, s.Reason = StatusActive, time.Time{}, s.kept(e.Comment)
	case EventCancelled:
		s.close(StatusCancelled, e)
	case EventLanguagesAssigned:
		s.assignLanguages(e.Readers, e.Languages)
	case EventPublicationConsented:
		s.setConsent(Consent{Party: e.Party, Version: e.Version, By: e.Actor, At: e.At})
	case EventPublicationWithdrawn:
		s.Publication = slices.DeleteFunc(slices.Clone(s.Publication), func(c Consent) bool { return c.Party == e.Party })
		if len(s.Publication) == 0 {
			s.Publication = nil
		}
	case EventWorkflowLost, EventRestarted:
		// Facts about the workflow, not the activity: its status, texts
		// and clock stay as they were, so a restarted run goes on from
		// where the lost one had recorded.
	}
	switch e.Type {
	case EventExtensionApproved, EventExtensionDeclined, EventMilestoneCompleted:
		s.pruneExtensions()
	}
	return s
}

func (s *State) setContent(version int, c *Content, at time.Time) {
	s.Version, s.VersionAt = version, at
	s.Title, s.Summary, s.Objectives = c.Title.clone(), c.Summary.clone(), cloneTexts(c.Objectives)
	s.Sector, s.RecipientCountries = c.Sector, slices.Clone(c.RecipientCountries)
	s.Milestones = make([]Milestone, len(c.Milestones))
	for i, m := range c.Milestones {
		s.Milestones[i] = m.clone()
	}
	s.ContentHash = c.Hash
	// A new version needs every party's approval again, and every
	// party's consent to publish it.
	s.Approvals = make([]Approval, len(s.Parties))
	for i, p := range s.Parties {
		s.Approvals[i] = Approval{Party: p.Code, Decision: DecisionPending}
	}
	s.Publication = nil
}

func (s *State) setApproval(a Approval) {
	for i := range s.Approvals {
		if s.Approvals[i].Party == a.Party {
			s.Approvals[i] = a
			return
		}
	}
	s.Approvals = append(s.Approvals, a)
}

func (s *State) close(st Status, e Event) {
	s.Status, s.ClosedAt = st, e.At
	if e.Comment != "" {
		s.Reason = s.kept(e.Comment)
	}
}

// The state keeps only the latest notes and evidence links of a milestone,
// so an activity reported on weekly for years stays far below Temporal's
// payload limits; the audit log keeps every report. Rules 2 keeps bounded
// summaries (fewer, shortened notes, and counts) so that even an activity
// with every milestone reported on fits the state budget.
const (
	keptNotes    = 20
	keptEvidence = 100

	keptNotesV2    = 2
	keptEvidenceV2 = 5
	noteSummary    = 280 // runes of a note kept in the state under rules 2
)

func (m *Milestone) addProgress(e Event, rules int) {
	if e.Progress == nil {
		return
	}
	if e.Progress.Actual != nil && m.Indicator != nil {
		m.Indicator.Actual = cloneFloat(e.Progress.Actual)
	}
	if rules < 2 {
		m.Evidence = latest(append(m.Evidence, e.Progress.Evidence...), keptEvidence)
		if e.Progress.Note != "" {
			m.Notes = latest(append(m.Notes, Note{By: e.Actor, At: e.At, Text: e.Progress.Note}), keptNotes)
		}
		return
	}
	m.Evidence = latest(append(m.Evidence, e.Progress.Evidence...), keptEvidenceV2)
	m.EvidenceCount += len(e.Progress.Evidence)
	if e.Progress.Note != "" {
		m.Notes = latest(append(m.Notes, Note{By: e.Actor, At: e.At, Text: summarise(e.Progress.Note, noteSummary)}), keptNotesV2)
		m.NoteCount++
	}
}

// kept is what the state keeps of a comment or reason: all of it under
// older rules, a summary under rules 2 (the audit log and the
// notifications carry every word).
func (s *State) kept(text string) string {
	if s.Rules < 2 {
		return text
	}
	return summarise(text, noteSummary)
}

// summarise shortens text to at most n runes, marking the cut.
func summarise(text string, n int) string {
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	runes := []rune(text)
	return string(runes[:n-1]) + "…"
}

func latest[T any](s []T, n int) []T {
	if len(s) <= n {
		return s
	}
	return slices.Clone(s[len(s)-n:])
}

// keptDecidedExtensions bounds, under rules 2, how many decided extensions
// the state keeps; pending ones are always kept, and the audit log keeps
// every decision.
const keptDecidedExtensions = 20

// nextExtensionNumber numbers a new extension request: past every request
// made, including those pruned from the state.
func (s *State) nextExtensionNumber() int {
	if s.Rules < 2 {
		return len(s.Extensions) + 1
	}
	return max(s.ExtensionsRequested, len(s.Extensions)) + 1
}

// pruneExtensions drops the oldest decided extensions beyond the bound.
func (s *State) pruneExtensions() {
	if s.Rules < 2 {
		return
	}
	decided := 0
	for _, x := range s.Extensions {
		if x.Status != ExtensionPending {
			decided++
		}
	}
	drop := decided - keptDecidedExtensions
	if drop <= 0 {
		return
	}
	kept := s.Extensions[:0:0]
	for _, x := range s.Extensions {
		if x.Status != ExtensionPending && drop > 0 {
			drop--
			continue
		}
		kept = append(kept, x)
	}
	s.Extensions = kept
}
