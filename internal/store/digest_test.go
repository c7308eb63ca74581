package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

func hour(h int) *int { return &h }

// withEmail gives every seeded principal an address, so each may be mailed.
func withEmail(t *testing.T, st *store.Store) {
	t.Helper()
	if _, err := st.Pool().Exec(context.Background(), "UPDATE principals SET email = id || '@example.org'"); err != nil {
		t.Fatal(err)
	}
}

// recordHistory records every change of changes, in order.
func recordHistory(t *testing.T, st *store.Store, changes [][]lifecycle.Event) {
	t.Helper()
	for i := range changes {
		if err := st.Record(context.Background(), snapshotAfter(changes, i+1), changes[i]); err != nil {
			t.Fatal(err)
		}
	}
}

// The choice is stored as made, read back, and refused out of range or for
// nobody.
func TestNotificationPreferencesAreStored(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	got, err := st.NotificationPreferences(ctx, "pa-coordinator")
	if err != nil || !got.Email || got.DigestHour != nil {
		t.Fatalf("a new principal's preferences: %+v, %v; want a mail per notice", got, err)
	}
	if err := st.SetNotificationPreferences(ctx, "pa-coordinator", store.NotificationPreferences{Email: true, DigestHour: hour(8)}, t0); err != nil {
		t.Fatal(err)
	}
	got, err = st.NotificationPreferences(ctx, "pa-coordinator")
	if err != nil || !got.Email || got.DigestHour == nil || *got.DigestHour != 8 {
		t.Fatalf("after choosing a digest at 8: %+v, %v", got, err)
	}
	// Turning email off keeps the hour for when it is turned on again.
	if err := st.SetEmailNotifications(ctx, "pa-coordinator", false); err != nil {
		t.Fatal(err)
	}
	if got, _ = st.NotificationPreferences(ctx, "pa-coordinator"); got.Email || got.DigestHour == nil || *got.DigestHour != 8 {
		t.Fatalf("after turning email off: %+v", got)
	}
	if on, err := st.EmailNotifications(ctx, "pa-coordinator"); on || err != nil {
		t.Fatalf("EmailNotifications = %v, %v; want off", on, err)
	}
	for _, h := range []int{-1, 24} {
		if err := st.SetNotificationPreferences(ctx, "pa-coordinator", store.NotificationPreferences{Email: true, DigestHour: hour(h)}, t0); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("digest hour %d: %v, want ErrInvalid", h, err)
		}
	}
	if err := st.SetNotificationPreferences(ctx, "nobody", store.NotificationPreferences{Email: true}, t0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown principal: %v, want ErrNotFound", err)
	}
}

// A digest reader's notices reach the inbox as always, but queue no mail
// of their own: they wait, marked, for the digest. Everyone else's mails
// are queued as before.
func TestRecordCollectsADigestReadersNoticesInsteadOfMailingThem(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	withEmail(t, st)
	if err := st.SetNotificationPreferences(ctx, "pa-coordinator", store.NotificationPreferences{Email: true, DigestHour: hour(8)}, t0); err != nil {
		t.Fatal(err)
	}
	recordHistory(t, st, history(t))
	inbox := func(who string) int {
		return count(t, st, "SELECT count(*) FROM notifications WHERE principal_id = '"+who+"'")
	}
	mails := func(who string) int {
		return count(t, st, "SELECT count(*) FROM deliveries d JOIN notifications n ON n.id = d.notification_id WHERE n.principal_id = '"+who+"'")
	}
	if inbox("pa-coordinator") != 3 || inbox("us-coordinator") != 3 {
		t.Fatalf("inbox rows: PA coordinator %d, US coordinator %d; want 3 each (two approvals, the activation)", inbox("pa-coordinator"), inbox("us-coordinator"))
	}
	if n := mails("pa-coordinator"); n != 0 {
		t.Fatalf("%d mails queued for the digest reader; want none", n)
	}
	if n := count(t, st, "SELECT count(*) FROM notifications WHERE principal_id = 'pa-coordinator' AND digest_pending"); n != 3 {
		t.Fatalf("%d of the digest reader's notices collected; want 3", n)
	}
	if n := mails("us-coordinator"); n != 3 {
		t.Fatalf("%d mails queued for the US coordinator; want 3, one per notice", n)
	}
	if n := count(t, st, "SELECT count(*) FROM notifications WHERE principal_id <> 'pa-coordinator' AND digest_pending"); n != 0 {
		t.Fatalf("%d notices of others collected for a digest", n)
	}
}

// Queueing a digest takes every collected notice into one outbox row and
// advances the watermark in the same transaction, so running it again,
// even at the same moment, queues nothing more; the next day's digest
// holds only what came after.
func TestQueueDigestAdvancesTheWatermarkExactlyOnce(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	withEmail(t, st)
	if err := st.SetNotificationPreferences(ctx, "pa-coordinator", store.NotificationPreferences{Email: true, DigestHour: hour(8)}, t0); err != nil {
		t.Fatal(err)
	}
	recordHistory(t, st, historyOf(t, "act-1"))
	through := time.Date(2027, 1, 5, 13, 0, 0, 0, time.UTC) // Tuesday 8 AM in Panama

	results := make(chan int, 3)
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := st.QueueDigest(ctx, "pa-coordinator", through)
			if err != nil {
				t.Error(err)
			}
			results <- n
		}()
	}
	wg.Wait()
	close(results)
	total := 0
	for n := range results {
		if n != 0 && n != 3 {
			t.Errorf("a queueing took %d notices; want all 3 or none", n)
		}
		total += n
	}
	if total != 3 {
		t.Fatalf("the three queueings took %d notices in all; want 3 once", total)
	}
	if n := count(t, st, "SELECT count(*) FROM deliveries WHERE channel = 'digest'"); n != 1 {
		t.Fatalf("%d digests queued; want 1", n)
	}
	var wm time.Time
	if err := st.Pool().QueryRow(ctx, "SELECT digested_through FROM principals WHERE id = 'pa-coordinator'").Scan(&wm); err != nil || !wm.Equal(through) {
		t.Fatalf("watermark %v (%v); want %v", wm, err, through)
	}
	if n := count(t, st, "SELECT count(*) FROM notifications WHERE digest_pending"); n != 0 {
		t.Fatalf("%d notices still collected after the digest", n)
	}

	// The outbox row is a job the delivery machinery can send: the
	// principal, their zone and the notices, oldest first.
	var id string
	if err := st.Pool().QueryRow(ctx, "SELECT id FROM deliveries WHERE channel = 'digest'").Scan(&id); err != nil {
		t.Fatal(err)
	}
	job, err := st.Delivery(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if job.Channel != "digest" || job.Digest == nil || job.Recipient.ID != "pa-coordinator" || job.Recipient.Email != "pa-coordinator@example.org" ||
		job.TimeZone != "America/Panama" || !job.Digest.Through.Equal(through) {
		t.Fatalf("digest job: %+v", job)
	}
	if len(job.Digest.Notices) != 3 || job.Digest.Notices[0].Event != lifecycle.EventApproved || job.Digest.Notices[2].Event != lifecycle.EventActivated {
		t.Fatalf("digest notices: %+v", job.Digest.Notices)
	}

	// A later time the same day finds the watermark there: nothing is due.
	run, err := st.QueueDigests(ctx, through.Add(5*time.Hour))
	if err != nil || run != (store.DigestRun{}) {
		t.Fatalf("a round later the same day: %+v, %v; want nothing due", run, err)
	}
	// More notices after the digest wait for the next day's.
	recordHistory(t, st, historyOf(t, "act-2"))
	run, err = st.QueueDigests(ctx, through.Add(23*time.Hour))
	if err != nil || run != (store.DigestRun{}) {
		t.Fatalf("a round before the next day's hour: %+v, %v; want nothing due", run, err)
	}
	run, err = st.QueueDigests(ctx, through.Add(24*time.Hour))
	if err != nil || run != (store.DigestRun{Due: 1, Queued: 1, Notices: 3}) {
		t.Fatalf("the next day's round: %+v, %v; want one digest of 3 notices", run, err)
	}
	var acts []string
	rows, err := st.Pool().Query(ctx, "SELECT DISTINCT n->>'activity' FROM deliveries d, jsonb_array_elements(d.content->'notices') n WHERE d.channel = 'digest' AND d.created_at = (SELECT max(created_at) FROM deliveries WHERE channel = 'digest')")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var a string
		_ = rows.Scan(&a)
		acts = append(acts, a)
	}
	if len(acts) != 1 || acts[0] != "act-2" {
		t.Fatalf("the second digest lists activities %v; want only act-2", acts)
	}
	// The day after, with nothing new, is due but sends nothing.
	run, err = st.QueueDigests(ctx, through.Add(48*time.Hour))
	if err != nil || run != (store.DigestRun{Due: 1}) {
		t.Fatalf("a day with nothing new: %+v, %v; want due, nothing queued", run, err)
	}
	if n := count(t, st, "SELECT count(*) FROM deliveries WHERE channel = 'digest'"); n != 2 {
		t.Fatalf("%d digests in all; want 2", n)
	}
}

// Choosing the digest after its hour has struck today starts it tomorrow;
// leaving it sends what it had collected in one last digest; turning email
// off drops what it had collected.
func TestLeavingTheDigest(t *testing.T) {
	ctx := context.Background()
	st := seeded(t)
	withEmail(t, st)
	chosen := time.Date(2027, 1, 4, 14, 30, 0, 0, time.UTC) // Monday 9:30 AM in Panama
	for _, who := range []string{"pa-coordinator", "us-coordinator"} {
		if err := st.SetNotificationPreferences(ctx, who, store.NotificationPreferences{Email: true, DigestHour: hour(8)}, chosen); err != nil {
			t.Fatal(err)
		}
	}
	recordHistory(t, st, history(t))
	if run, err := st.QueueDigests(ctx, chosen.Add(30*time.Minute)); err != nil || run != (store.DigestRun{}) {
		t.Fatalf("the round after choosing a digest at an hour already past: %+v, %v; want nothing due", run, err)
	}
	if err := st.SetNotificationPreferences(ctx, "pa-coordinator", store.NotificationPreferences{Email: true}, chosen.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := st.SetNotificationPreferences(ctx, "us-coordinator", store.NotificationPreferences{Email: false, DigestHour: hour(8)}, chosen.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	run, err := st.QueueDigests(ctx, chosen.Add(90*time.Minute))
	if err != nil || run != (store.DigestRun{Due: 1, Queued: 1, Notices: 3}) {
		t.Fatalf("the round after leaving the digest: %+v, %v; want one last digest of 3", run, err)
	}
	if n := count(t, st, "SELECT count(*) FROM deliveries WHERE channel = 'digest' AND principal_id = 'pa-coordinator'"); n != 1 {
		t.Fatalf("%d last digests for the PA coordinator; want 1", n)
	}
	if n := count(t, st, "SELECT count(*) FROM notifications WHERE digest_pending"); n != 0 {
		t.Fatalf("%d notices still collected", n)
	}
	if n := count(t, st, "SELECT count(*) FROM notifications WHERE principal_id = 'us-coordinator'"); n != 3 {
		t.Fatalf("the US coordinator's inbox has %d notices; want all 3 kept", n)
	}
}

// The digest's time is the reader's hour on the reader's calendar, so it
// moves in UTC with daylight saving time.
func TestDigestTimeFollowsTheZone(t *testing.T) {
	zone := func(name string) *time.Location {
		loc, err := lifecycle.LoadZone(name)
		if err != nil {
			t.Fatal(err)
		}
		return loc
	}
	panama, newYork := zone("America/Panama"), zone("America/New_York")
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		hour int
		loc  *time.Location
		at   string
		want string
	}{
		{8, panama, "2027-03-16T13:00:00Z", "2027-03-16T13:00:00Z"},
		{8, panama, "2027-03-16T12:59:59Z", "2027-03-15T13:00:00Z"},
		{8, newYork, "2027-01-12T13:00:00Z", "2027-01-12T13:00:00Z"}, // EST, UTC-5
		{8, newYork, "2027-07-12T12:00:00Z", "2027-07-12T12:00:00Z"}, // EDT, UTC-4
		{8, newYork, "2027-07-12T11:59:00Z", "2027-07-11T12:00:00Z"},
		// The Sunday clocks go forward (14 March 2027): 8 AM is EDT, a day
		// 23 hours long after Saturday's 8 AM EST.
		{8, newYork, "2027-03-14T12:30:00Z", "2027-03-14T12:00:00Z"},
		{8, newYork, "2027-03-14T11:30:00Z", "2027-03-13T13:00:00Z"},
		// That day 2 AM does not exist: the digest is due as the clock
		// skips it, once.
		{2, newYork, "2027-03-14T06:00:00Z", "2027-03-14T06:00:00Z"},
		{2, newYork, "2027-03-14T08:00:00Z", "2027-03-14T06:00:00Z"},
		// The Sunday clocks go back (7 November 2027), 1 AM strikes twice:
		// the digest is due at the first, so once.
		{1, newYork, "2027-11-07T06:30:00Z", "2027-11-07T05:00:00Z"},
		{0, panama, "2027-01-01T04:59:00Z", "2026-12-31T05:00:00Z"},
		{23, panama, "2027-01-01T04:00:00Z", "2027-01-01T04:00:00Z"},
	} {
		if got := store.DigestTime(c.hour, c.loc, utc(c.at)); !got.Equal(utc(c.want)) {
			t.Errorf("DigestTime(%d, %s, %s) = %s, want %s", c.hour, c.loc, c.at, got.UTC().Format(time.RFC3339), c.want)
		}
	}
}
