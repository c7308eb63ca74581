package console

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"pacto/internal/app"
	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// putNotice puts a notice in principal's inbox as Record does.
func putNotice(t *testing.T, st *store.Store, principal, chain string, n store.NotificationContent) {
	t.Helper()
	content, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	key := chain + "/" + strconv.FormatInt(n.Seq, 10) + "/" + principal
	if _, err := st.Pool().Exec(context.Background(), `INSERT INTO notifications (key, principal_id, activity_id, seq, kind, content)
		VALUES ($1, $2, $3, $4, $5, $6)`, key, principal, chain, n.Seq, string(n.Event), content); err != nil {
		t.Fatal(err)
	}
}

// A dialogue meeting's notice reads, in the inbox and on My work, as what
// happened to which meeting, in the reader's language, and links to the
// meeting's page rather than to an activity.
func TestInboxShowsAMeetingsNotice(t *testing.T) {
	s := newSite(t)
	dialogue := "Panamá–United States High-Level Dialogue"
	at := time.Date(2027, 3, 22, 14, 0, 0, 0, time.UTC)
	chain := lifecycle.MeetingChain(app.DemoDialogue, 3)
	drafted := store.NotificationContent{Title: lifecycle.Plain(dialogue), Event: lifecycle.EventMeetingDrafted, Seq: 1,
		At: time.Now().Add(-time.Hour), Actor: lifecycle.ClockActor, Dialogue: app.DemoDialogue, Meeting: 3, MeetingAt: &at,
		Agenda: []store.AgendaItem{{Activity: "act-1", Title: lifecycle.Text{"es": "Capacitación aduanera", "en": "Customs training"}}}}
	adopted := store.NotificationContent{Title: lifecycle.Plain(dialogue), Event: lifecycle.EventMinutesAdopted, Seq: 9,
		At: time.Now(), Actor: "us-approver", ActorName: "US Approver", Dialogue: app.DemoDialogue, Meeting: 3, Version: 2}
	// One recorded without its dialogue still reads, unlinked.
	bare := store.NotificationContent{Title: lifecycle.Plain(dialogue), Event: lifecycle.EventMeetingCancelled, Seq: 4,
		At: time.Now(), Actor: lifecycle.ClockActor}
	for _, who := range []string{"pa-coordinator", "us-coordinator"} {
		putNotice(t, s.st, who, chain, drafted)
		putNotice(t, s.st, who, chain, adopted)
		putNotice(t, s.st, who, lifecycle.MeetingChain(app.DemoDialogue, 2), bare)
	}
	link := `<a href="/dialogues/` + app.DemoDialogue + `/meetings/3">`
	for who, says := range map[string][]string{
		"pa-coordinator": {
			link + "Borrador del informe de avance y orden del día: " + dialogue + ", reunión n.º 3</a>",
			link + "Acta adoptada: " + dialogue + ", reunión n.º 3</a>",
			"<td>Reunión cancelada: " + dialogue + " <span",
		},
		"us-coordinator": {
			link + "Draft report and agenda: " + dialogue + ", meeting 3</a>",
			link + "Minutes adopted: " + dialogue + ", meeting 3</a>",
			"<td>Meeting cancelled: " + dialogue + " <span",
		},
	} {
		b := s.as(who)
		inbox := b.get("/inbox")
		must(t, inbox, 200, says...)
		must(t, inbox, 200, "US Approver")
		// Nothing about a meeting links to an activity.
		if strings.Contains(inbox.body, `href="/activities/dialogue`) || strings.Contains(inbox.body, `href="/activities/"`) {
			t.Errorf("%s: a meeting's notice links to an activity:\n%s", who, inbox.body)
		}
		work := b.get("/")
		must(t, work, 200, says[0], says[1])
	}
}
