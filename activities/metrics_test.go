package activities

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// recordStore is a read model that accepts every change, or fails with err.
type recordStore struct{ err error }

func (s recordStore) Record(context.Context, lifecycle.State, []lifecycle.Event) error { return s.err }
func (s recordStore) NoteRecordFailure(context.Context, string, int64, error) error    { return nil }

// policy: reminders every hour, three of them, due-soon a day ahead,
// approval reminders every two days.
var testPolicy = lifecycle.Policy{DueSoonLead: 24 * time.Hour, OverdueReminderEvery: time.Hour, OverdueReminders: 3, ApprovalReminderEvery: 48 * time.Hour}

func TestReminderOwed(t *testing.T) {
	due := time.Date(2027, 5, 31, 22, 0, 0, 0, time.UTC)
	proposed := time.Date(2027, 1, 11, 15, 0, 0, 0, time.UTC)
	snap := lifecycle.State{Policy: testPolicy, VersionAt: proposed}
	for _, c := range []struct {
		e    lifecycle.Event
		owed time.Time
		ok   bool
	}{
		{lifecycle.Event{Type: lifecycle.EventMilestoneDueSoon, Due: due}, due.Add(-24 * time.Hour), true},
		{lifecycle.Event{Type: lifecycle.EventMilestoneOverdue, Due: due, Notice: 1}, due, true},
		{lifecycle.Event{Type: lifecycle.EventMilestoneOverdue, Due: due, Notice: 3}, due.Add(2 * time.Hour), true},
		{lifecycle.Event{Type: lifecycle.EventMilestoneEscalated, Due: due}, due.Add(3 * time.Hour), true},
		// The second approval reminder, recorded five minutes into its day.
		{lifecycle.Event{Type: lifecycle.EventApprovalReminder, At: proposed.Add(96*time.Hour + 5*time.Minute)}, proposed.Add(96 * time.Hour), true},
		{lifecycle.Event{Type: lifecycle.EventApproved, At: proposed}, time.Time{}, false},
		{lifecycle.Event{Type: lifecycle.EventMilestoneCompleted, Due: due}, time.Time{}, false},
	} {
		owed, ok := ReminderOwed(c.e, snap)
		if ok != c.ok || !owed.Equal(c.owed) {
			t.Errorf("%s notice %d: owed %v %v, want %v %v", c.e.Type, c.e.Notice, owed, ok, c.owed, c.ok)
		}
	}
}

// Record counts the reminders of a change and observes how late each was
// recorded; a change without one, or one the read model did not take,
// observes nothing.
func TestRecordObservesReminderLateness(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	due := time.Date(2027, 5, 31, 22, 0, 0, 0, time.UTC)
	now := due.Add(90 * time.Second) // the first overdue reminder, 90 s late
	rec := &Recording{Store: recordStore{}, Metrics: m, Now: func() time.Time { return now }}
	snap := lifecycle.State{ID: "act-1", Seq: 8, Policy: testPolicy}
	overdue := lifecycle.Event{Seq: 8, Type: lifecycle.EventMilestoneOverdue, At: due.Add(time.Second), Due: due, Notice: 1, Milestone: "m1"}
	progress := lifecycle.Event{Seq: 7, Type: lifecycle.EventProgressReported, At: due.Add(-time.Hour), Milestone: "m1"}
	if err := rec.Record(context.Background(), RecordInput{Snapshot: snap, Events: []lifecycle.Event{progress, overdue}}); err != nil {
		t.Fatal(err)
	}
	if err := rec.Record(context.Background(), RecordInput{Snapshot: snap, Events: []lifecycle.Event{progress}}); err != nil {
		t.Fatal(err)
	}
	down := &Recording{Store: recordStore{err: &pgconn.ConnectError{}}, Metrics: m, Now: func() time.Time { return now }}
	if err := down.Record(context.Background(), RecordInput{Snapshot: snap, Events: []lifecycle.Event{overdue}}); err == nil {
		t.Fatal("the failing store's Record succeeded")
	}

	if n := counter(t, m.reminders.WithLabelValues("milestone_overdue")); n != 1 {
		t.Errorf("%v overdue reminders counted, want 1", n)
	}
	if n := counter(t, m.recordFailures.WithLabelValues("error")); n != 1 {
		t.Errorf("%v Record errors counted, want 1", n)
	}
	// One observation of 90 s: in the 300 s bucket, not the 60 s one.
	h := histogram(t, reg, "pacto_reminder_lateness_seconds", "milestone_overdue")
	if h.GetSampleCount() != 1 || h.GetSampleSum() != 90 {
		t.Fatalf("lateness: %d observations summing to %v s, want one of 90 s", h.GetSampleCount(), h.GetSampleSum())
	}
	for _, b := range h.GetBucket() {
		want := uint64(0)
		if b.GetUpperBound() >= 300 {
			want = 1
		}
		if b.GetCumulativeCount() != want {
			t.Errorf("bucket le=%v holds %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
		}
	}
}

// histogram is the histogram name{type=typ} as gathered from reg.
func histogram(t *testing.T, reg *prometheus.Registry, name, typ string) *dto.Histogram {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "type" && l.GetValue() == typ {
					return m.GetHistogram()
				}
			}
		}
	}
	t.Fatalf("no %s{type=%q}", name, typ)
	return nil
}

// counter is the value of c.
func counter(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// failStore is an outbox whose writes succeed, or fail with err.
type failStore struct {
	job store.DeliveryJob
	err error
}

func (s failStore) Delivery(context.Context, string) (store.DeliveryJob, error) {
	return s.job, s.err
}
func (s failStore) NoteDeliveryAttempt(context.Context, string, string) error { return s.err }
func (s failStore) MarkDeliverySent(context.Context, string) error            { return s.err }
func (s failStore) MarkDeliveryFailed(context.Context, string, string) error  { return s.err }

// Deliveries given up are counted by channel once marked failed.
func TestDeliveryCounters(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	pending := store.DeliveryJob{ID: "email-42", Channel: "email", Status: "pending"}
	d := &Delivering{Store: failStore{job: pending}, Metrics: m, Log: quiet}
	if err := d.MarkDeliveryFailed(context.Background(), "email-42", "refused"); err != nil {
		t.Fatal(err)
	}
	if n := counter(t, m.deliveriesFailed.WithLabelValues("email")); n != 1 {
		t.Errorf("%v failed emails counted, want 1", n)
	}
	// A retried mark finds the delivery failed already: not counted again.
	again := pending
	again.Status = "failed"
	if err := (&Delivering{Store: failStore{job: again}, Metrics: m, Log: quiet}).MarkDeliveryFailed(context.Background(), "email-42", "refused"); err != nil {
		t.Fatal(err)
	}
	if n := counter(t, m.deliveriesFailed.WithLabelValues("email")); n != 1 {
		t.Errorf("a retried mark was counted again: %v", n)
	}
	if err := (&Delivering{Store: failStore{err: errors.New("down")}, Metrics: m, Log: quiet}).MarkDeliveryFailed(context.Background(), "webhook-h-a-1", "x"); err == nil {
		t.Fatal("marking failed on a failing store succeeded")
	}
	if n := counter(t, m.deliveriesFailed.WithLabelValues("webhook")); n != 0 {
		t.Errorf("a delivery not marked failed was counted: %v", n)
	}
}
