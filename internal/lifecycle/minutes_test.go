package lifecycle_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	lc "pacto/internal/lifecycle"
)

func TestMinutesSignaturesAreBoundToTheVersion(t *testing.T) {
	parties := []lc.PartyCode{"PA", "US"}
	at := time.Date(2027, 3, 16, 10, 0, 0, 0, time.UTC)
	coord := lc.Principal{ID: "ana", Party: "PA", Roles: []lc.Role{lc.RoleCoordinator}}
	paApprover := lc.Principal{ID: "luis", Party: "PA", Roles: []lc.Role{lc.RoleApprover}}
	usApprover := lc.Principal{ID: "kate", Party: "US", Roles: []lc.Role{lc.RoleApprover}}
	content := lc.MinutesContent{
		Decisions: []lc.Text{lc.Plain("Ampliar la capacitación a Darién")},
		FollowUps: []lc.FollowUp{{Text: lc.Text{"en": "Send the training plan"}, Owner: "US", Due: "2027-05-01"}},
		NewActivities: []lc.AgreedActivity{{Title: lc.Plain("Puesto fronterizo conjunto"),
			Proposal: json.RawMessage(`{"title":"Puesto fronterizo conjunto"}`)}},
	}
	m, err := lc.RecordMinutes(lc.Minutes{}, parties, coord, "es", content, at)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != 1 || m.Decisions[0]["es"] != "Ampliar la capacitación a Darién" || m.NewActivities[0].Title["es"] == "" {
		t.Fatalf("recorded %+v", m)
	}
	if content.Decisions[0]["es"] != "" {
		t.Fatal("recording changed the caller's content")
	}
	if _, err := lc.SignMinutes(m, parties, coord, 1, at); lc.KindOf(err) != lc.KindForbidden {
		t.Fatalf("a coordinator signed: %v", err)
	}
	if _, err := lc.SignMinutes(m, parties, usApprover, 2, at); lc.KindOf(err) != lc.KindStaleVersion {
		t.Fatalf("a signature of another version: %v", err)
	}
	m, err = lc.SignMinutes(m, parties, paApprover, 1, at.Add(time.Hour))
	if err != nil || m.Adopted() || len(m.UnsignedParties(parties)) != 1 {
		t.Fatalf("first signature: %v %+v", err, m)
	}
	if _, err := lc.SignMinutes(m, parties, paApprover, 1, at); lc.KindOf(err) != lc.KindInvalidTransition {
		t.Fatalf("a party signed twice: %v", err)
	}

	// A change after one signature makes version 2 and resets it.
	content.Decisions = append(content.Decisions, lc.Plain("Revisar el plan en la próxima reunión"))
	m, err = lc.RecordMinutes(m, parties, coord, "es", content, at.Add(2*time.Hour))
	if err != nil || m.Version != 2 || len(m.Signatures) != 0 {
		t.Fatalf("amended: %v %+v", err, m)
	}
	if _, err := lc.SignMinutes(m, parties, usApprover, 1, at); lc.KindOf(err) != lc.KindStaleVersion {
		t.Fatalf("a signature of the old version: %v", err)
	}
	for _, p := range []lc.Principal{usApprover, paApprover} {
		if m, err = lc.SignMinutes(m, parties, p, 2, at.Add(3*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if !m.Adopted() || !m.AdoptedAt.Equal(at.Add(3*time.Hour)) {
		t.Fatalf("not adopted after every party signed: %+v", m)
	}
	if _, err := lc.RecordMinutes(m, parties, coord, "es", content, at); lc.KindOf(err) != lc.KindInvalidTransition {
		t.Fatalf("adopted minutes changed: %v", err)
	}
}

func TestMinutesInputIsChecked(t *testing.T) {
	parties := []lc.PartyCode{"PA", "US"}
	coord := lc.Principal{ID: "ana", Party: "PA", Roles: []lc.Role{lc.RoleCoordinator}}
	long := make([]byte, lc.MaxMinutesTextBytes+1)
	for i := range long {
		long[i] = 'a'
	}
	for _, c := range []struct {
		name, field string
		content     lc.MinutesContent
	}{
		{"empty", "decisions", lc.MinutesContent{}},
		{"blank decision", "decisions[0]", lc.MinutesContent{Decisions: []lc.Text{lc.Plain("  ")}}},
		{"long decision", "decisions[0]", lc.MinutesContent{Decisions: []lc.Text{lc.Plain(string(long))}}},
		{"owner outside", "follow_ups[0].owner", lc.MinutesContent{FollowUps: []lc.FollowUp{{Text: lc.Plain("x"), Owner: "MX", Due: "2027-01-01"}}}},
		{"bad due", "follow_ups[0].due", lc.MinutesContent{FollowUps: []lc.FollowUp{{Text: lc.Plain("x"), Owner: "US", Due: "soon"}}}},
		{"no proposal", "new_activities[0].proposal", lc.MinutesContent{NewActivities: []lc.AgreedActivity{{Title: lc.Plain("x")}}}},
	} {
		_, err := lc.RecordMinutes(lc.Minutes{}, parties, coord, "es", c.content, time.Now())
		var e *lc.Error
		if lc.KindOf(err) != lc.KindInvalidInput || !errors.As(err, &e) || e.Field != c.field {
			t.Errorf("%s: %v, want invalid %s", c.name, err, c.field)
		}
	}
	outsider := lc.Principal{ID: "x", Party: "MX", Roles: []lc.Role{lc.RoleCoordinator}}
	if _, err := lc.RecordMinutes(lc.Minutes{}, parties, outsider, "es", lc.MinutesContent{Decisions: []lc.Text{lc.Plain("x")}}, time.Now()); lc.KindOf(err) != lc.KindForbidden {
		t.Errorf("a coordinator of another party recorded minutes: %v", err)
	}
}
