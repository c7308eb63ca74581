package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"pacto/internal/delivery"
	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// DeliveryRetrier starts a new attempt at a failed delivery.
type DeliveryRetrier interface {
	RetryDelivery(ctx context.Context, id string) error
}

// deliveryStatuses are the states of a delivery, as the database has them.
var deliveryStatuses = []string{"pending", "sent", "failed"}

// DeliveryList is a page of the outbox.
type DeliveryList struct {
	Deliveries []store.DeliveryInfo `json:"deliveries"`
}

func checkDeliveryStatus(status string) error {
	if status != "" && !slices.Contains(deliveryStatuses, status) {
		return failField(probInvalid, "status", "status must be pending, sent or failed")
	}
	return nil
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	status := r.URL.Query().Get("status")
	// The status is judged before the limit, as it always was.
	if err := checkDeliveryStatus(status); err != nil {
		return err
	}
	limit, err := limitParam(r.URL.Query().Get("limit"))
	if err != nil {
		return err
	}
	ds, err := s.Deliveries(r.Context(), principalOf(r), status, limit)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, DeliveryList{Deliveries: ds})
}

// Deliveries is GET /v1/admin/deliveries: the outbox newest first, of one
// status ("pending", "sent", "failed") when given, at most limit rows (0:
// the default page); for admin p.
func (s *Server) Deliveries(ctx context.Context, p store.Principal, status string, limit int) ([]store.DeliveryInfo, error) {
	if err := adminOnly(p); err != nil {
		return nil, err
	}
	if err := checkDeliveryStatus(status); err != nil {
		return nil, err
	}
	limit, err := pageLimit(limit)
	if err != nil {
		return nil, err
	}
	return s.store.Deliveries(ctx, status, limit)
}

// RetryResult says a failed delivery is under way again.
type RetryResult struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

func (s *Server) retryDelivery(w http.ResponseWriter, r *http.Request) error {
	res, err := s.RetryDelivery(r.Context(), principalOf(r), chi.URLParam(r, "did"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, res)
}

// RetryDelivery is POST /v1/admin/deliveries/{did}/retry, by admin p: a
// failed delivery is pending again and a new attempt starts.
func (s *Server) RetryDelivery(ctx context.Context, p store.Principal, id string) (RetryResult, error) {
	if err := adminOnly(p); err != nil {
		return RetryResult{}, err
	}
	if ae := badID("did", id); ae != nil {
		return RetryResult{}, ae
	}
	if s.deliveries == nil {
		return RetryResult{}, fail(probUnavailable, "this server cannot start deliveries")
	}
	if err := s.store.RetryDelivery(ctx, id); errors.Is(err, store.ErrNotFound) {
		return RetryResult{}, fail(probNotFound, "no failed delivery with that id")
	} else if err != nil {
		return RetryResult{}, err
	}
	if err := s.deliveries.RetryDelivery(ctx, id); err != nil {
		return RetryResult{}, err
	}
	return RetryResult{ID: id, Status: "pending"}, nil
}

// WebhookRequest subscribes a URL to events, optionally filtered.
type WebhookRequest struct {
	ID         string   `json:"id"`
	URL        string   `json:"url"`
	EventTypes []string `json:"event_types,omitempty"`
	Parties    []string `json:"parties,omitempty"`
}

// NewWebhook is a new subscription with its signing secret, shown once.
type NewWebhook struct {
	Webhook store.WebhookSubscription `json:"webhook"`
	Secret  string                    `json:"secret"`
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	ws, err := s.Webhooks(r.Context(), principalOf(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"webhooks": ws})
}

// Webhooks is GET /v1/admin/webhooks: every subscription, deleted ones
// too, without secrets; for admin p.
func (s *Server) Webhooks(ctx context.Context, p store.Principal) ([]store.WebhookSubscription, error) {
	if err := adminOnly(p); err != nil {
		return nil, err
	}
	return s.store.WebhookSubscriptions(ctx)
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) error {
	var req WebhookRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	created, err := s.CreateWebhook(r.Context(), principalOf(r), req)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusCreated, created)
}

// CreateWebhook is POST /v1/admin/webhooks, by admin p. The signing
// secret it returns is shown this once.
func (s *Server) CreateWebhook(ctx context.Context, p store.Principal, req WebhookRequest) (NewWebhook, error) {
	if err := adminOnly(p); err != nil {
		return NewWebhook{}, err
	}
	if err := validateWebhook(req); err != nil {
		return NewWebhook{}, err
	}
	secret, err := delivery.NewSecret()
	if err != nil {
		return NewWebhook{}, err
	}
	sub, err := s.store.CreateWebhookSubscription(ctx, store.WebhookSubscription{ID: req.ID, URL: req.URL, EventTypes: req.EventTypes, Parties: req.Parties}, secret)
	if err != nil {
		return NewWebhook{}, storeWriteError(err, "webhook "+req.ID+" already exists", "id", "")
	}
	return NewWebhook{Webhook: sub, Secret: secret}, nil
}

// validateWebhook checks a subscription request before it is stored.
func validateWebhook(req WebhookRequest) error {
	if !dialogueIDPattern.MatchString(req.ID) {
		return failField(probInvalid, "id", "id must be 1 to 100 letters, digits, '_', '.', ':' or '-'")
	}
	if n := utf8.RuneCountInString(req.URL); n > maxWebhookURL {
		return failField(probInvalid, "url", fmt.Sprintf("url is %d characters long; the limit is %d", n, maxWebhookURL))
	}
	if u, err := url.Parse(req.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return failField(probInvalid, "url", "url must be an http or https URL")
	}
	for _, t := range req.EventTypes {
		if !delivery.Supported(lifecycle.EventType(t)) {
			return failField(probInvalid, "event_types", fmt.Sprintf("%q is not an event that is notified", t))
		}
	}
	for _, p := range req.Parties {
		if !partyCodePattern.MatchString(p) {
			return failField(probInvalid, "parties", fmt.Sprintf("%q is not a party code", p))
		}
	}
	return nil
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := s.DeleteWebhook(r.Context(), principalOf(r), chi.URLParam(r, "wid")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// DeleteWebhook is DELETE /v1/admin/webhooks/{wid}, by admin p: the
// subscription stops and stays listed as deleted.
func (s *Server) DeleteWebhook(ctx context.Context, p store.Principal, id string) error {
	if err := adminOnly(p); err != nil {
		return err
	}
	if ae := badID("wid", id); ae != nil {
		return ae
	}
	err := s.store.DisableWebhookSubscription(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return fail(probNotFound, "no live webhook with that id")
	}
	return err
}

// NotificationPreferences are the channels a principal hears on besides
// the inbox, which is always on.
type NotificationPreferences struct {
	// Email sends notices to the principal's address, if it has one.
	Email bool `json:"email"`
	// DigestHour, when set, gathers the mails into one daily digest sent
	// at that hour (0 to 23) of the principal's party's time zone, instead
	// of a mail per notice. Null: a mail per notice.
	DigestHour *int `json:"digest_hour"`
}

// NotificationPreferences is GET /v1/me/notifications for principal p.
func (s *Server) NotificationPreferences(ctx context.Context, p store.Principal) (NotificationPreferences, error) {
	cur, err := s.store.NotificationPreferences(ctx, p.ID)
	if err != nil {
		return NotificationPreferences{}, err
	}
	return NotificationPreferences{Email: cur.Email, DigestHour: cur.DigestHour}, nil
}

// SetNotificationPreferences is PUT /v1/me/notifications for principal p:
// it stores prefs and returns them as stored. Choosing a digest, or
// another hour for it, starts it from now: the first comes when the hour
// next strikes.
func (s *Server) SetNotificationPreferences(ctx context.Context, p store.Principal, prefs NotificationPreferences) (NotificationPreferences, error) {
	if h := prefs.DigestHour; h != nil && (*h < minDigestHour || *h > maxDigestHour) {
		return NotificationPreferences{}, failField(probInvalid, "digest_hour",
			fmt.Sprintf("digest_hour must be a whole hour from %d to %d, or null for a mail per notice", minDigestHour, maxDigestHour))
	}
	err := s.store.SetNotificationPreferences(ctx, p.ID, store.NotificationPreferences{Email: prefs.Email, DigestHour: prefs.DigestHour}, s.now())
	if err != nil {
		return NotificationPreferences{}, fmt.Errorf("set notification preferences of %s: %w", p.ID, err)
	}
	return prefs, nil
}

func (s *Server) getPreferences(w http.ResponseWriter, r *http.Request) error {
	prefs, err := s.NotificationPreferences(r.Context(), principalOf(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, prefs)
}

func (s *Server) setPreferences(w http.ResponseWriter, r *http.Request) error {
	// email is a pointer, so that a body without it (or with null) is
	// refused instead of quietly turning email off; digest_hour is kept
	// raw, to tell "not given" (the hour stays) from null (no digest).
	var req struct {
		Email      *bool           `json:"email"`
		DigestHour json.RawMessage `json:"digest_hour"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.Email == nil {
		return failField(probInvalid, "email", "email is required: true or false")
	}
	p := principalOf(r)
	prefs := NotificationPreferences{Email: *req.Email}
	switch raw := string(req.DigestHour); {
	case raw == "":
		cur, err := s.NotificationPreferences(r.Context(), p)
		if err != nil {
			return err
		}
		prefs.DigestHour = cur.DigestHour
	case raw == "null":
	default:
		var h int
		if err := json.Unmarshal(req.DigestHour, &h); err != nil {
			return failField(probInvalid, "digest_hour",
				fmt.Sprintf("digest_hour must be a whole hour from %d to %d, or null for a mail per notice", minDigestHour, maxDigestHour))
		}
		prefs.DigestHour = &h
	}
	prefs, err := s.SetNotificationPreferences(r.Context(), p, prefs)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, prefs)
}
