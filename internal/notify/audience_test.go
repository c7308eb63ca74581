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
