package lifecycle

import "time"

// NextWake returns when the clock must next look at the activity, if ever.
// The workflow arms one timer for it and re-arms after every change.
func NextWake(s State) (time.Time, bool) {
	var next time.Time
	found := false
	consider := func(t time.Time) {
		if !found || t.Before(next) {
			next, found = t, true
		}
	}
	switch s.Status {
	case StatusProposed:
		consider(s.ExpiresAt)
		if at, ok := approvalReminderAt(s); ok {
			consider(at)
		}
	case StatusActive:
		for _, m := range s.Milestones {
			if at, _, ok := milestoneNotice(s.Policy, m); ok {
				consider(at)
			}
		}
	}
	return next, found
}

// approvalReminderAt is when pending approvers are next reminded: one
// cadence after the current version or the last reminder, if that comes
// before expiry.
func approvalReminderAt(s State) (time.Time, bool) {
	if s.Policy.ApprovalReminderEvery <= 0 {
		return time.Time{}, false
	}
	base := s.VersionAt
	if s.LastApprovalReminderAt.After(base) {
		base = s.LastApprovalReminderAt
	}
	at := base.Add(s.Policy.ApprovalReminderEvery)
	return at, at.Before(s.ExpiresAt)
}

// milestoneNotice says which notice an open milestone is owed next and
// when: due-soon before the due time, overdue reminders on the cadence
// after it, then one escalation. Each notice waits a full cadence after the
// previous one, so notices missed while suspended or down come one at a time.
func milestoneNotice(p Policy, m Milestone) (time.Time, EventType, bool) {
	if m.Status != MilestoneOpen || m.DueAt.IsZero() {
		return time.Time{}, "", false
	}
	if !m.DueSoonSent && m.OverdueNotices == 0 && !m.Escalated && p.DueSoonLead > 0 {
		if at := m.DueAt.Add(-p.DueSoonLead); at.After(m.ArmedAt) {
			return at, EventMilestoneDueSoon, true
		}
	}
	n := m.OverdueNotices
	at := m.DueAt.Add(time.Duration(n) * p.OverdueReminderEvery)
	if n > 0 {
		if after := m.LastOverdueAt.Add(p.OverdueReminderEvery); after.After(at) {
			at = after
		}
	}
	switch {
	case n < p.OverdueReminders:
		return at, EventMilestoneOverdue, true
	case !m.Escalated:
		return at, EventMilestoneEscalated, true
	}
	return time.Time{}, "", false
}

// PendingParties lists, in the activity's party order, the parties whose
// decision is awaited: on the current version while proposed, on any
// pending extension while running.
func PendingParties(s State) []PartyCode {
	var out []PartyCode
	switch s.Status {
	case StatusProposed:
		for _, p := range s.Parties {
			a := s.approval(p.Code)
			if a.Decision != DecisionApprove || a.Version != s.Version {
				out = append(out, p.Code)
			}
		}
	case StatusActive: // extensions are decided only while active
		for _, p := range s.Parties {
			for _, x := range s.Extensions {
				if x.Status == ExtensionPending && extensionPendingFor(x, p.Code) {
					out = append(out, p.Code)
					break
				}
			}
		}
	}
	return out
}

func extensionPendingFor(x Extension, p PartyCode) bool {
	for _, a := range x.Decisions {
		if a.Party == p {
			return a.Decision == DecisionPending
		}
	}
	return false
}

// Overdue reports whether an open milestone has passed its due time at now.
func (m Milestone) Overdue(now time.Time) bool {
	return m.Status == MilestoneOpen && !m.DueAt.IsZero() && now.After(m.DueAt)
}

// OverdueMilestones lists the IDs of the milestones overdue at now.
func OverdueMilestones(s State, now time.Time) []string {
	var out []string
	if s.Status != StatusActive && s.Status != StatusSuspended {
		return nil
	}
	for _, m := range s.Milestones {
		if m.Overdue(now) {
			out = append(out, m.ID)
		}
	}
	return out
}

// Colour is a derived traffic-light status; it is never stored by hand.
type Colour string

// The colours, from best to worst. ColourNone is for what has no clock yet.
const (
	ColourNone  Colour = ""
	ColourGreen Colour = "green"
	ColourAmber Colour = "amber"
	ColourRed   Colour = "red"
)

func (c Colour) rank() int {
	switch c {
	case ColourGreen:
		return 1
	case ColourAmber:
		return 2
	case ColourRed:
		return 3
	}
	return 0
}

// MilestoneColour is green when complete or comfortably ahead, amber inside
// the due-soon lead, red when overdue.
func MilestoneColour(p Policy, m Milestone, now time.Time) Colour {
	switch {
	case m.Status == MilestoneCompleted:
		return ColourGreen
	case m.Status != MilestoneOpen || m.DueAt.IsZero():
		return ColourNone
	case m.Overdue(now):
		return ColourRed
	case !now.Before(m.DueAt.Add(-p.DueSoonLead)):
		return ColourAmber
	}
	return ColourGreen
}

// ActivityColour is the worst colour of the activity's milestones while it
// runs, green once completed, and none otherwise.
func ActivityColour(s State, now time.Time) Colour {
	switch s.Status {
	case StatusCompleted:
		return ColourGreen
	case StatusActive, StatusSuspended:
		worst := ColourGreen
		for _, m := range s.Milestones {
			if c := MilestoneColour(s.Policy, m, now); c.rank() > worst.rank() {
				worst = c
			}
		}
		return worst
	}
	return ColourNone
}

// NextDue is the earliest due time of an open milestone, if any.
func NextDue(s State) (time.Time, bool) {
	var next time.Time
	for _, m := range s.Milestones {
		if m.Status == MilestoneOpen && !m.DueAt.IsZero() && (next.IsZero() || m.DueAt.Before(next)) {
			next = m.DueAt
		}
	}
	return next, !next.IsZero()
}
