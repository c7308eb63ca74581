package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// A dialogue meeting's notice collected for a digest reaches the digest
// with the meeting it is about: its dialogue, number, time, the
// statements' close and the agenda's titles in every language.
func TestQueueDigestKeepsAMeetingNotice(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	withEmail(t, st)
	if err := st.SetNotificationPreferences(ctx, "pa-coordinator", store.NotificationPreferences{Email: true, DigestHour: hour(8)}, t0); err != nil {
		t.Fatal(err)
	}
	at, closes := time.Date(2027, 3, 22, 14, 0, 0, 0, time.UTC), time.Date(2027, 3, 15, 21, 0, 0, 0, time.UTC)
	notice := store.NotificationContent{
		Title: lifecycle.Plain("High-Level Dialogue"), Event: lifecycle.EventMeetingDrafted, Seq: 1, At: closes.Add(-7 * 24 * time.Hour),
		Actor: lifecycle.ClockActor, Dialogue: "hld", Meeting: 3, MeetingAt: &at, Due: &closes, Digest: "ab12",
		Agenda: []store.AgendaItem{{Activity: "act-1", Title: lifecycle.Text{"es": "Capacitación aduanera", "en": "Customs training"}}},
	}
	content, err := json.Marshal(notice)
	if err != nil {
		t.Fatal(err)
	}
	chain := lifecycle.MeetingChain("hld", 3)
	if _, err := st.Pool().Exec(ctx, `INSERT INTO notifications (key, principal_id, activity_id, seq, kind, content, digest_pending)
		VALUES ($1, 'pa-coordinator', $2, 1, 'meeting_drafted', $3, true)`, chain+"/1/pa-coordinator", chain, content); err != nil {
		t.Fatal(err)
	}
	through := time.Date(2027, 3, 9, 13, 0, 0, 0, time.UTC)
	if n, err := st.QueueDigest(ctx, "pa-coordinator", through); err != nil || n != 1 {
		t.Fatalf("QueueDigest = %d, %v; want the meeting's notice", n, err)
	}
	var id string
	if err := st.Pool().QueryRow(ctx, "SELECT id FROM deliveries WHERE channel = 'digest'").Scan(&id); err != nil {
		t.Fatal(err)
	}
	job, err := st.Delivery(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if job.Digest == nil || len(job.Digest.Notices) != 1 {
		t.Fatalf("digest job: %+v", job)
	}
	got := job.Digest.Notices[0]
	if got.Event != lifecycle.EventMeetingDrafted || got.Activity != "" || got.Dialogue != "hld" || got.Meeting != 3 ||
		got.MeetingAt == nil || !got.MeetingAt.Equal(at) || got.Due == nil || !got.Due.Equal(closes) || got.Digest != "ab12" ||
		got.Title.In("en") != "High-Level Dialogue" {
		t.Errorf("the digest's notice lost its meeting: %+v", got)
	}
	if len(got.Agenda) != 1 || got.Agenda[0].Activity != "act-1" || got.Agenda[0].Title["es"] != "Capacitación aduanera" || got.Agenda[0].Title["en"] != "Customs training" {
		t.Errorf("agenda %+v", got.Agenda)
	}
}
