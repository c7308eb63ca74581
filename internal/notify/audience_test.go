package notify

import (
	"slices"
	"testing"

	"pacto/internal/lifecycle"
)

func TestAudienceOf(t *testing.T) {
	s := lifecycle.State{Parties: []lifecycle.Party{{Code: "PA"}, {Code: "US"}, {Code: "MX"}}}
	all := []lifecycle.PartyCode{"PA", "US", "MX"}
	for _, c := range []struct {
		event   lifecycle.Event
		parties []lifecycle.PartyCode
		roles   []lifecycle.Role
	}{
		{lifecycle.Event{Type: lifecycle.EventProposed}, all, approvers},
		{lifecycle.Event{Type: lifecycle.EventAmended}, all, approvers},
		{lifecycle.Event{Type: lifecycle.EventApprovalReminder, Parties: []lifecycle.PartyCode{"US"}}, []lifecycle.PartyCode{"US"}, approvers},
		{lifecycle.Event{Type: lifecycle.EventChangesRequested}, all, coordinators},
		{lifecycle.Event{Type: lifecycle.EventActivated}, all, coordinators},
		{lifecycle.Event{Type: lifecycle.EventCancelled}, all, both},
		// Reminders go to the owner party's coordinators, who must act.
		{lifecycle.Event{Type: lifecycle.EventMilestoneOverdue, Party: "PA"}, []lifecycle.PartyCode{"PA"}, coordinators},
		{lifecycle.Event{Type: lifecycle.EventMilestoneDueSoon, Party: "MX"}, []lifecycle.PartyCode{"MX"}, coordinators},
		// Escalation goes to the other parties' coordinators and approvers.
		{lifecycle.Event{Type: lifecycle.EventMilestoneEscalated, Party: "PA", Parties: []lifecycle.PartyCode{"US", "MX"}}, []lifecycle.PartyCode{"US", "MX"}, both},
	} {
		got, ok := AudienceOf(s, c.event)
		if !ok || !slices.Equal(got.Parties, c.parties) || !slices.Equal(got.Roles, c.roles) {
			t.Errorf("%s: got %+v %v, want %v %v", c.event.Type, got, ok, c.parties, c.roles)
		}
	}
	for _, quiet := range []lifecycle.EventType{lifecycle.EventProgressReported, lifecycle.EventExtensionDecided} {
		if _, ok := AudienceOf(s, lifecycle.Event{Type: quiet}); ok {
			t.Errorf("%s notifies someone", quiet)
		}
	}
}

func TestMeetingAudienceOf(t *testing.T) {
	all := []lifecycle.PartyCode{"PA", "US"}
	owing := []lifecycle.PartyCode{"US"}
	for _, c := range []struct {
		event   lifecycle.Event
		parties []lifecycle.PartyCode
		roles   []lifecycle.Role
	}{
		{lifecycle.Event{Type: lifecycle.EventMeetingDrafted, Meeting: 3}, all, both},
		{lifecycle.Event{Type: lifecycle.EventMeetingMoved, Meeting: 3}, all, both},
		{lifecycle.Event{Type: lifecycle.EventMeetingCancelled, Meeting: 3}, all, both},
		// Only the coordinators of the parties still owing statements.
		{lifecycle.Event{Type: lifecycle.EventStatementReminder, Parties: owing}, owing, coordinators},
		// Missing statements do not narrow who hears of the frozen report.
		{lifecycle.Event{Type: lifecycle.EventReportFrozen, Parties: owing}, all, both},
		// Every approver must sign; coordinators follow.
		{lifecycle.Event{Type: lifecycle.EventMinutesRecorded, Version: 2}, all, both},
		{lifecycle.Event{Type: lifecycle.EventMinutesAdopted, Version: 2}, all, both},
	} {
		got, ok := MeetingAudienceOf(all, c.event)
		if !ok || !slices.Equal(got.Parties, c.parties) || !slices.Equal(got.Roles, c.roles) {
			t.Errorf("%s: got %+v %v, want %v %v", c.event.Type, got, ok, c.parties, c.roles)
		}
	}
	for _, quiet := range []lifecycle.EventType{lifecycle.EventStatementMade, lifecycle.EventMinutesSigned,
		// An activity's events are AudienceOf's, not a meeting's.
		lifecycle.EventProposed, lifecycle.EventCancelled} {
		if _, ok := MeetingAudienceOf(all, lifecycle.Event{Type: quiet, Party: "PA", Parties: owing}); ok {
			t.Errorf("%s notifies someone of a meeting", quiet)
		}
	}
	// The audience is the caller's to keep: changing it changes neither the
	// dialogue's parties nor the event's.
	got, _ := MeetingAudienceOf(all, lifecycle.Event{Type: lifecycle.EventStatementReminder, Parties: owing})
	got.Parties[0] = "MX"
	if owing[0] != "US" {
		t.Error("the audience shares the event's parties")
	}
	got, _ = MeetingAudienceOf(all, lifecycle.Event{Type: lifecycle.EventMeetingDrafted})
	got.Parties[0] = "MX"
	if all[0] != "PA" {
		t.Error("the audience shares the dialogue's parties")
	}
}

// A meeting's events are not an activity's: AudienceOf tells nobody of
// them, and MeetingAudienceOf alone decides who does hear.
func TestAudienceOfIgnoresMeetingEvents(t *testing.T) {
	s := lifecycle.State{Parties: []lifecycle.Party{{Code: "PA"}, {Code: "US"}}}
	for _, et := range []lifecycle.EventType{lifecycle.EventMeetingDrafted, lifecycle.EventStatementMade, lifecycle.EventStatementReminder,
		lifecycle.EventMeetingMoved, lifecycle.EventMeetingCancelled, lifecycle.EventReportFrozen, lifecycle.EventMinutesRecorded,
		lifecycle.EventMinutesSigned, lifecycle.EventMinutesAdopted} {
		if _, ok := AudienceOf(s, lifecycle.Event{Type: et}); ok {
			t.Errorf("AudienceOf tells someone of %s", et)
		}
	}
}
