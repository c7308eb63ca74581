package api

import (
	"context"
	"encoding/json"
	"time"

	"testing"

	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// putNotice puts a notice in principal's inbox as Record does, keyed on
// chain, seq and principal.
func (s *stack) putNotice(t *testing.T, principal, chain string, n store.NotificationContent) {
	t.Helper()
	content, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.st.Pool().Exec(context.Background(), `INSERT INTO notifications (key, principal_id, activity_id, seq, kind, content)
		VALUES ($1, $2, $3, $4, $5, $6)`, chain+"/"+itoa(n.Seq)+"/"+principal, principal, chain, n.Seq, string(n.Event), content); err != nil {
		t.Fatal(err)
	}
}

// A dialogue meeting's notice in the inbox links to the meeting's page,
// not to an activity, and gives its agenda's titles in the reader's
// language, beside every language, as the document describes.
func (s *stack) meetingInbox(t *testing.T) {
	at, closes := time.Date(2027, 3, 22, 14, 0, 0, 0, time.UTC), time.Date(2027, 3, 15, 21, 0, 0, 0, time.UTC)
	chain := lifecycle.MeetingChain("hld-pa-us", 3)
	notice := store.NotificationContent{
		Title: lifecycle.Plain("Panamá–United States High-Level Dialogue"), Event: lifecycle.EventMeetingDrafted, Seq: 1, At: closes.Add(-7 * 24 * time.Hour),
		Actor: lifecycle.ClockActor, Dialogue: "hld-pa-us", Meeting: 3, MeetingAt: &at, Due: &closes,
		Agenda: []store.AgendaItem{
			{Activity: "act-1", Title: lifecycle.Text{"es": "Capacitación aduanera en Colón", "en": "Customs training in Colón"}},
			{Activity: "act-2", Title: lifecycle.Text{"es": "Línea de base de la migración"}},
		},
	}
	// A meeting's notice recorded without its dialogue cannot say its page.
	bare := store.NotificationContent{Title: lifecycle.Plain("?"), Event: lifecycle.EventMinutesAdopted, Seq: 9, At: closes, Actor: lifecycle.ClockActor}
	// Readers of their own, so that no other test meets these notices.
	s.principal(store.Principal{ID: "pa-meeting-reader", Party: "PA", Roles: []string{"coordinator"}, Name: "PA reader", Language: "es"})
	s.principal(store.Principal{ID: "us-meeting-reader", Party: "US", Roles: []string{"coordinator"}, Name: "US reader", Language: "en"})
	activation := store.NotificationContent{Activity: "act-1", Title: lifecycle.Text{"es": "Capacitación aduanera en Colón", "en": "Customs training in Colón"},
		Event: lifecycle.EventActivated, Seq: 3, At: closes, Actor: "us-approver"}
	for _, who := range []string{"pa-meeting-reader", "us-meeting-reader"} {
		s.putNotice(t, who, "act-1", activation)
		s.putNotice(t, who, chain, notice)
		s.putNotice(t, who, lifecycle.MeetingChain("hld-pa-us", 2), bare)
	}
	for who, wantAgenda := range map[string][]string{
		"pa-meeting-reader": {"Capacitación aduanera en Colón", "Línea de base de la migración"},
		"us-meeting-reader": {"Customs training in Colón", "Línea de base de la migración"},
	} {
		r := s.call(who, "GET", "/v1/inbox?unread=true&limit=200", nil)
		want(t, r, 200)
		var page struct {
			Notifications []struct {
				Activity string `json:"activity"`
				Kind     string `json:"kind"`
				Link     *string
				Content  struct {
					TitleText string     `json:"title_text"`
					Dialogue  string     `json:"dialogue"`
					Meeting   int        `json:"meeting"`
					MeetingAt *time.Time `json:"meeting_at"`
					Agenda    []struct {
						Activity  string            `json:"activity"`
						Title     map[string]string `json:"title"`
						TitleText string            `json:"title_text"`
					} `json:"agenda"`
				} `json:"content"`
			} `json:"notifications"`
		}
		if err := json.Unmarshal(r.body, &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Notifications) != 3 {
			t.Fatalf("%s: %d notices, want the activation and the two meetings': %s", who, len(page.Notifications), r.body)
		}
		found, foundBare := false, false
		for _, n := range page.Notifications {
			switch n.Kind {
			case "meeting_drafted":
				found = true
				c := n.Content
				if n.Activity != chain || n.Link == nil || *n.Link != "/dialogues/hld-pa-us/meetings/3" || c.Dialogue != "hld-pa-us" || c.Meeting != 3 ||
					c.MeetingAt == nil || !c.MeetingAt.Equal(at) || c.TitleText != "Panamá–United States High-Level Dialogue" {
					t.Errorf("%s: the meeting's notice %+v (link %v)", who, n, n.Link)
				}
				if len(c.Agenda) != 2 || c.Agenda[0].TitleText != wantAgenda[0] || c.Agenda[1].TitleText != wantAgenda[1] || len(c.Agenda[0].Title) != 2 {
					t.Errorf("%s: agenda %+v, want titles %v", who, c.Agenda, wantAgenda)
				}
			case "minutes_adopted":
				foundBare = true
				if n.Link != nil {
					t.Errorf("%s: a notice without its dialogue links to %q", who, *n.Link)
				}
			default:
				if n.Link == nil || *n.Link != "/activities/act-1" {
					t.Errorf("%s: an activity's %s notice links to %v", who, n.Kind, n.Link)
				}
			}
		}
		if !found || !foundBare {
			t.Fatalf("%s: the meeting's notices are not in the inbox: %s", who, r.body)
		}
	}
}
