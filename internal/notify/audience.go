// Package notify decides who hears of what happens to an activity or to a
// dialogue's meeting.
package notify

import (
	"slices"

	"pacto/internal/lifecycle"
)

// Audience is who should hear of one event: the principals of Parties who
// hold any of Roles, except the actor who caused it.
type Audience struct {
	Parties []lifecycle.PartyCode
	Roles   []lifecycle.Role
}

var (
	coordinators = []lifecycle.Role{lifecycle.RoleCoordinator}
	approvers    = []lifecycle.Role{lifecycle.RoleApprover}
	both         = []lifecycle.Role{lifecycle.RoleCoordinator, lifecycle.RoleApprover}
)

// AudienceOf returns who hears of event e of the activity in state s (the
// state after e), and false for events nobody is told about.
func AudienceOf(s lifecycle.State, e lifecycle.Event) (Audience, bool) {
	all := make([]lifecycle.PartyCode, len(s.Parties))
	for i, p := range s.Parties {
		all[i] = p.Code
	}
	switch e.Type {
	case lifecycle.EventProposed, lifecycle.EventAmended, lifecycle.EventExtensionRequested:
		// Approval requested of every party.
		return Audience{Parties: all, Roles: approvers}, true
	case lifecycle.EventApprovalReminder:
		return Audience{Parties: e.Parties, Roles: approvers}, true
	case lifecycle.EventApproved, lifecycle.EventChangesRequested, lifecycle.EventDeclined,
		lifecycle.EventActivated, lifecycle.EventExpired, lifecycle.EventMilestoneCompleted,
		lifecycle.EventCompleted, lifecycle.EventExtensionApproved, lifecycle.EventExtensionDeclined:
		return Audience{Parties: all, Roles: coordinators}, true
	case lifecycle.EventSuspended, lifecycle.EventResumed, lifecycle.EventCancelled:
		return Audience{Parties: all, Roles: both}, true
	case lifecycle.EventMilestoneDueSoon, lifecycle.EventMilestoneOverdue:
		// The owner party's coordinators must act.
		return Audience{Parties: []lifecycle.PartyCode{e.Party}, Roles: coordinators}, true
	case lifecycle.EventMilestoneEscalated:
		return Audience{Parties: e.Parties, Roles: both}, true
	}
	return Audience{}, false
}

// MeetingAudienceOf returns who hears of event e of a dialogue meeting
// whose dialogue has parties, and false for the events only the audit log
// keeps (a statement made, one party's signature).
func MeetingAudienceOf(parties []lifecycle.PartyCode, e lifecycle.Event) (Audience, bool) {
	all := slices.Clone(parties)
	switch e.Type {
	case lifecycle.EventMeetingDrafted, lifecycle.EventMeetingMoved, lifecycle.EventMeetingCancelled,
		lifecycle.EventReportFrozen, lifecycle.EventMinutesAdopted:
		return Audience{Parties: all, Roles: both}, true
	case lifecycle.EventStatementReminder:
		// Only the parties still owing statements; their coordinators
		// make them.
		return Audience{Parties: slices.Clone(e.Parties), Roles: coordinators}, true
	case lifecycle.EventMinutesRecorded:
		// Approvers must sign the new version; coordinators follow it.
		return Audience{Parties: all, Roles: both}, true
	}
	return Audience{}, false
}
