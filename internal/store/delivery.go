package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"pacto/internal/lifecycle"
	"pacto/internal/store/db"
)

// queueDeliveries queues the outbox rows for the appended events (by their
// positions in events), in Record's transaction: an email per new inbox
// row whose principal wants one, and a webhook per matching subscription.
func queueDeliveries(ctx context.Context, p *pipeline, snap lifecycle.State, events []lifecycle.Event, appended []int, a *audience) error {
	if len(appended) == 0 {
		return nil
	}
	seqs := make([]int64, len(appended))
	for k, i := range appended {
		seqs[k] = events[i].Seq
	}
	// After the inbox rows, which it reads.
	p.queue("enqueue emails of "+snap.ID, func(q *db.Queries) error {
		return q.InsertEmailDeliveries(ctx, db.InsertEmailDeliveriesParams{ActivityID: snap.ID, Seqs: seqs})
	})
	for _, i := range appended {
		e, subs := events[i], a.webhooks[i]
		if len(subs) == 0 {
			continue
		}
		content, err := json.Marshal(notificationContent(snap, e, a.names))
		if err != nil {
			return fmt.Errorf("encode webhook content %s/%d: %w", snap.ID, e.Seq, err)
		}
		for _, sub := range subs {
			p.queue(fmt.Sprintf("enqueue webhook %s for %s/%d", sub, snap.ID, e.Seq), func(q *db.Queries) error {
				return q.InsertWebhookDelivery(ctx, db.InsertWebhookDeliveryParams{
					ID: fmt.Sprintf("webhook-%s-%s-%d", sub, snap.ID, e.Seq), ActivityID: snap.ID, Seq: e.Seq,
					Content: content, SubscriptionID: sub,
				})
			})
		}
	}
	return nil
}

// DispatchDeliveries claims up to max outbox rows that no relay has handed
// on yet, oldest first, hands them to start in one batch, and marks them
// dispatched if start succeeds, in one transaction. Rows another relay
// holds are skipped. If start fails the rows stay undispatched for the next
// call. It returns how many rows it dispatched.
func (s *Store) DispatchDeliveries(ctx context.Context, max int, start func(ctx context.Context, ids []string) error) (int, error) {
	dispatched := 0
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		ids, err := q.ClaimUndispatched(ctx, int32(max))
		if err != nil {
			return fmt.Errorf("claim undispatched deliveries: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		if err := start(ctx, ids); err != nil {
			return err
		}
		if err := q.MarkDispatched(ctx, ids); err != nil {
			return fmt.Errorf("mark deliveries dispatched: %w", err)
		}
		dispatched = len(ids)
		return nil
	})
	return dispatched, err
}

// DeliveryJob is everything needed to send one delivery.
type DeliveryJob struct {
	ID      string
	Channel string
	Status  string
	// Content is an email's or a webhook's notice; Digest a digest's.
	Content   NotificationContent
	Digest    *DigestContent
	Recipient Principal
	TimeZone  string
	URL       string
	Secret    string
}

// Delivery loads a delivery with its recipient or webhook.
func (s *Store) Delivery(ctx context.Context, id string) (DeliveryJob, error) {
	r, err := s.q.GetDelivery(ctx, id)
	if err != nil {
		return DeliveryJob{}, notFound(err)
	}
	j := DeliveryJob{ID: r.ID, Channel: r.Channel, Status: r.Status, TimeZone: r.PrincipalTimeZone, URL: r.WebhookUrl, Secret: r.WebhookSecret,
		Recipient: Principal{ID: r.PrincipalID, Name: r.PrincipalName, Email: r.PrincipalEmail, Language: r.PrincipalLanguage}}
	into := any(&j.Content)
	if r.Channel == "digest" {
		j.Digest = &DigestContent{}
		into = j.Digest
	}
	if err := json.Unmarshal(r.Content, into); err != nil {
		return DeliveryJob{}, fmt.Errorf("decode delivery %s: %w", id, err)
	}
	return j, nil
}

// NoteDeliveryAttempt counts an attempt and keeps its error ("" on success).
func (s *Store) NoteDeliveryAttempt(ctx context.Context, id, lastError string) error {
	return s.q.NoteDeliveryAttempt(ctx, db.NoteDeliveryAttemptParams{ID: id, LastError: lastError})
}

// MarkDeliverySent records a successful send.
func (s *Store) MarkDeliverySent(ctx context.Context, id string) error {
	_, err := s.q.MarkDeliverySent(ctx, id)
	return err
}

// MarkDeliveryFailed records that a delivery gave up.
func (s *Store) MarkDeliveryFailed(ctx context.Context, id, reason string) error {
	_, err := s.q.MarkDeliveryFailed(ctx, db.MarkDeliveryFailedParams{ID: id, LastError: reason})
	return err
}

// RetryDelivery puts a failed delivery back to pending; ErrNotFound if
// there is no failed delivery with that id.
func (s *Store) RetryDelivery(ctx context.Context, id string) error {
	n, err := s.q.RetryDelivery(ctx, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// DeliveryInfo is a delivery as the admin API lists it.
type DeliveryInfo struct {
	ID        string     `json:"id"`
	Channel   string     `json:"channel"`
	Activity  string     `json:"activity"`
	Seq       int64      `json:"seq"`
	Status    string     `json:"status"`
	Attempts  int        `json:"attempts"`
	LastError string     `json:"last_error,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
	FailedAt  *time.Time `json:"failed_at,omitempty"`
}

// Deliveries lists deliveries, newest first, of one status when given.
func (s *Store) Deliveries(ctx context.Context, status string, limit int) ([]DeliveryInfo, error) {
	rows, err := s.q.ListDeliveries(ctx, db.ListDeliveriesParams{Status: optional(status), MaxRows: int32(limit)})
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	out := make([]DeliveryInfo, len(rows))
	for i, r := range rows {
		out[i] = DeliveryInfo{ID: r.ID, Channel: r.Channel, Activity: r.ActivityID, Seq: r.Seq, Status: r.Status,
			Attempts: int(r.Attempts), LastError: r.LastError, CreatedAt: r.CreatedAt, SentAt: r.SentAt, FailedAt: r.FailedAt}
	}
	return out, nil
}

// WebhookSubscription is a receiver of signed event notifications.
type WebhookSubscription struct {
	ID         string     `json:"id"`
	URL        string     `json:"url"`
	EventTypes []string   `json:"event_types"`
	Parties    []string   `json:"parties"`
	CreatedAt  time.Time  `json:"created_at"`
	DisabledAt *time.Time `json:"disabled_at,omitempty"`
}

// CreateWebhookSubscription stores a subscription with its signing secret.
func (s *Store) CreateWebhookSubscription(ctx context.Context, w WebhookSubscription, secret string) (WebhookSubscription, error) {
	r, err := s.q.CreateWebhookSubscription(ctx, db.CreateWebhookSubscriptionParams{ID: w.ID, Url: w.URL, Secret: secret, EventTypes: nonNil(w.EventTypes), Parties: nonNil(w.Parties)})
	if err != nil {
		return WebhookSubscription{}, created("webhook "+w.ID, err)
	}
	return WebhookSubscription{ID: r.ID, URL: r.Url, EventTypes: r.EventTypes, Parties: r.Parties, CreatedAt: r.CreatedAt, DisabledAt: r.DisabledAt}, nil
}

// WebhookSubscriptions lists every subscription, without secrets.
func (s *Store) WebhookSubscriptions(ctx context.Context) ([]WebhookSubscription, error) {
	rows, err := s.q.ListWebhookSubscriptions(ctx)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	out := make([]WebhookSubscription, len(rows))
	for i, r := range rows {
		out[i] = WebhookSubscription{ID: r.ID, URL: r.Url, EventTypes: r.EventTypes, Parties: r.Parties, CreatedAt: r.CreatedAt, DisabledAt: r.DisabledAt}
	}
	return out, nil
}

// DisableWebhookSubscription stops a subscription; ErrNotFound if none is live.
func (s *Store) DisableWebhookSubscription(ctx context.Context, id string) error {
	n, err := s.q.DisableWebhookSubscription(ctx, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
