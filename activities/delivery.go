package activities

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"go.temporal.io/sdk/temporal"

	"pacto/internal/delivery"
	"pacto/internal/store"
)

// Names of the delivery activities, and the error type that stops retries.
const (
	DeliverName    = "Deliver"
	MarkFailedName = "MarkDeliveryFailed"
	// PermanentErrorType marks a delivery error that retrying cannot fix
	// (a refused address, a 4xx from a webhook).
	PermanentErrorType = "permanent"
)

// DeliveryStore is the part of the store the delivery activities use.
type DeliveryStore interface {
	Delivery(ctx context.Context, id string) (store.DeliveryJob, error)
	NoteDeliveryAttempt(ctx context.Context, id, lastError string) error
	MarkDeliverySent(ctx context.Context, id string) error
	MarkDeliveryFailed(ctx context.Context, id, reason string) error
}

// Delivering sends the outbox's emails, digests and webhooks.
type Delivering struct {
	Store DeliveryStore
	// Mailer sends email; nil means email is not configured, and email
	// deliveries fail (visibly, retryable once it is).
	Mailer delivery.Mailer
	From   string
	// BaseURL, when set, puts a link to the activity in each message.
	BaseURL string
	HTTP    *http.Client
	Now     func() time.Time
	// Log gets a line for each delivery marked failed; nil means slog's
	// default.
	Log *slog.Logger
	// Metrics counts deliveries sent and failed; nil counts nothing.
	Metrics *Metrics
}

// Deliver sends one delivery. A delivery already sent is not sent again,
// so a retried activity never repeats a success it recorded.
func (d *Delivering) Deliver(ctx context.Context, id string) error {
	job, err := d.Store.Delivery(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return permanent(fmt.Errorf("no delivery %s: %w", id, err))
	}
	if err != nil {
		return err
	}
	if job.Status == "sent" {
		return nil
	}
	err = d.send(ctx, job)
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	if nerr := d.Store.NoteDeliveryAttempt(ctx, id, msg); nerr != nil && err == nil {
		err = nerr
	}
	var giveUp *temporal.ApplicationError
	switch {
	case err == nil:
		if err := d.Store.MarkDeliverySent(ctx, id); err != nil {
			return err
		}
		d.Metrics.deliverySent(job.Channel)
		return nil
	case errors.As(err, &giveUp):
		return err
	case delivery.Permanent(err):
		return permanent(err)
	}
	return err
}

// permanent makes err a failure Temporal does not retry.
func permanent(err error) error {
	return temporal.NewNonRetryableApplicationError(err.Error(), PermanentErrorType, err)
}

func (d *Delivering) send(ctx context.Context, job store.DeliveryJob) error {
	switch job.Channel {
	case "email":
		if d.Mailer == nil {
			return permanent(errors.New("email is not configured on this worker (set PACTO_SMTP_HOST)"))
		}
		r := delivery.Recipient{ID: job.Recipient.ID, Name: job.Recipient.Name, Email: job.Recipient.Email, Language: job.Recipient.Language, TimeZone: job.TimeZone}
		msg, err := delivery.Render(job.Content, r, d.BaseURL)
		if err != nil {
			return permanent(err)
		}
		return d.Mailer.Send(ctx, d.From, r, msg, job.ID)
	case "digest":
		if d.Mailer == nil {
			return permanent(errors.New("email is not configured on this worker (set PACTO_SMTP_HOST)"))
		}
		if job.Digest == nil {
			return permanent(fmt.Errorf("digest %s has no content", job.ID))
		}
		r := delivery.Recipient{ID: job.Recipient.ID, Name: job.Recipient.Name, Email: job.Recipient.Email, Language: job.Recipient.Language, TimeZone: job.TimeZone}
		msg, err := delivery.RenderDigest(*job.Digest, r, d.BaseURL)
		if err != nil {
			return permanent(err)
		}
		return d.Mailer.Send(ctx, d.From, r, msg, job.ID)
	case "webhook":
		payload, err := delivery.WebhookPayload(job.Content)
		if err != nil {
			return permanent(err)
		}
		hc := d.HTTP
		if hc == nil {
			hc = &http.Client{Timeout: 30 * time.Second}
		}
		now := time.Now
		if d.Now != nil {
			now = d.Now
		}
		return delivery.Post(ctx, hc, delivery.Webhook{URL: job.URL, Secret: job.Secret}, job.ID, payload, now())
	}
	return permanent(fmt.Errorf("delivery %s has unknown channel %q", job.ID, job.Channel))
}

// MarkDeliveryFailed records that a delivery gave up, with the last error,
// and tells the operator: a line in the log and the failed counter, once
// per delivery that was pending (a retried mark is not counted again).
func (d *Delivering) MarkDeliveryFailed(ctx context.Context, id, reason string) error {
	// The job names the channel; a delivery that cannot be read is still
	// marked, and counted under "unknown".
	job, jobErr := d.Store.Delivery(ctx, id)
	if err := d.Store.MarkDeliveryFailed(ctx, id, reason); err != nil {
		return err
	}
	channel := job.Channel
	switch {
	case jobErr != nil:
		channel = "unknown"
	case job.Status != "pending":
		return nil
	}
	d.Metrics.deliveryFailed(channel)
	log := d.Log
	if log == nil {
		log = slog.Default()
	}
	log.ErrorContext(ctx, "delivery failed permanently; the admin API lists it and can retry it",
		"delivery", id, "channel", channel, "recipient", job.Recipient.ID, "reason", reason)
	return nil
}
