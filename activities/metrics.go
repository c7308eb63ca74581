package activities

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"pacto/internal/lifecycle"
)

// Metrics are a worker's own counts of what its activities did, beside
// the Temporal SDK's. A nil *Metrics counts nothing. Counts are at least
// once: an activity retried after its write succeeded counts again.
type Metrics struct {
	deliveriesSent   *prometheus.CounterVec
	deliveriesFailed *prometheus.CounterVec
	recordFailures   *prometheus.CounterVec
	reminders        *prometheus.CounterVec
	reminderLateness *prometheus.HistogramVec
}

// ReminderLatenessBuckets bound the lateness histogram, in seconds: a
// reminder recorded within a second is on time; minutes to a day mean a
// worker or Temporal was down or behind.
var ReminderLatenessBuckets = []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600, 24 * 3600}

// NewMetrics registers the activities' metrics on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		deliveriesSent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pacto_deliveries_sent_total", Help: "Deliveries sent (email, digest, webhook), by channel.",
		}, []string{"channel"}),
		deliveriesFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pacto_deliveries_failed_total", Help: "Deliveries given up and marked failed (a permanent error, or every attempt spent), by channel.",
		}, []string{"channel"}),
		recordFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pacto_record_failures_total",
			Help: "Record activities that failed: refused (the read model refused the change; an administrator must act) or error (retried, e.g. PostgreSQL unreachable).",
		}, []string{"reason"}),
		reminders: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pacto_reminders_total", Help: "Reminders and escalations recorded, by event type.",
		}, []string{"type"}),
		reminderLateness: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pacto_reminder_lateness_seconds",
			Help:    "How long after it was owed a reminder was recorded, by event type.",
			Buckets: ReminderLatenessBuckets,
		}, []string{"type"}),
	}
	for _, c := range []prometheus.Collector{m.deliveriesSent, m.deliveriesFailed, m.recordFailures, m.reminders, m.reminderLateness} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register the worker's metrics: %w", err)
		}
	}
	// Zero series for the usual labels, so that rate() and alerts see a
	// start rather than a series appearing at the first event.
	for _, ch := range []string{"email", "digest", "webhook"} {
		m.deliveriesSent.WithLabelValues(ch)
		m.deliveriesFailed.WithLabelValues(ch)
	}
	for _, r := range []string{"refused", "error"} {
		m.recordFailures.WithLabelValues(r)
	}
	for _, t := range reminderTypes {
		m.reminders.WithLabelValues(string(t))
	}
	return m, nil
}

// reminderTypes are the clock's notices whose lateness is measured.
var reminderTypes = []lifecycle.EventType{
	lifecycle.EventApprovalReminder, lifecycle.EventMilestoneDueSoon,
	lifecycle.EventMilestoneOverdue, lifecycle.EventMilestoneEscalated,
}

func (m *Metrics) deliverySent(channel string) {
	if m != nil {
		m.deliveriesSent.WithLabelValues(channel).Inc()
	}
}

func (m *Metrics) deliveryFailed(channel string) {
	if m != nil {
		m.deliveriesFailed.WithLabelValues(channel).Inc()
	}
}

func (m *Metrics) recordFailed(refused bool) {
	if m == nil {
		return
	}
	reason := "error"
	if refused {
		reason = "refused"
	}
	m.recordFailures.WithLabelValues(reason).Inc()
}

// recorded counts the reminders among a change's events and observes how
// late each was recorded at now.
func (m *Metrics) recorded(in RecordInput, now time.Time) {
	if m == nil {
		return
	}
	for _, e := range in.Events {
		owed, ok := ReminderOwed(e, in.Snapshot)
		if !ok {
			continue
		}
		m.reminders.WithLabelValues(string(e.Type)).Inc()
		m.reminderLateness.WithLabelValues(string(e.Type)).Observe(max(now.Sub(owed), 0).Seconds())
	}
}

// ReminderOwed is when the clock owed reminder e, by the policy in snap
// (the state after it); false if e is not a reminder. It is the notice's
// place in its cadence: due-soon the lead before the due time, the nth
// overdue reminder n-1 cadences after it, the escalation after the last
// reminder's cadence, an approval reminder the last whole cadence since
// the version was proposed. A notice the rules put off (the activity was
// suspended, or the notice before it was late) counts from that place,
// so its lateness includes the delay.
func ReminderOwed(e lifecycle.Event, snap lifecycle.State) (time.Time, bool) {
	p := snap.Policy
	switch e.Type {
	case lifecycle.EventMilestoneDueSoon:
		return e.Due.Add(-p.DueSoonLead), !e.Due.IsZero()
	case lifecycle.EventMilestoneOverdue:
		return e.Due.Add(time.Duration(max(e.Notice-1, 0)) * p.OverdueReminderEvery), !e.Due.IsZero()
	case lifecycle.EventMilestoneEscalated:
		return e.Due.Add(time.Duration(p.OverdueReminders) * p.OverdueReminderEvery), !e.Due.IsZero()
	case lifecycle.EventApprovalReminder:
		every, since := p.ApprovalReminderEvery, snap.VersionAt
		if every <= 0 || since.IsZero() || e.At.Before(since.Add(every)) {
			return e.At, every > 0
		}
		return since.Add(e.At.Sub(since) / every * every), true
	}
	return time.Time{}, false
}
