package delivery

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"pacto/internal/store"
)

// The Standard Webhooks headers (https://www.standardwebhooks.com).
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// SecretPrefix starts every webhook secret; the rest is the base64 key.
const SecretPrefix = "whsec_"

const (
	// Standard Webhooks asks for keys of 24 to 64 bytes; shorter ones are
	// too easy to guess, longer ones are not accepted by every verifier.
	minSecretBytes = 24
	maxSecretBytes = 64
	// newSecretBytes is the size of the keys NewSecret makes.
	newSecretBytes = 32
	// maxResponseRead bounds how much of a receiver's answer is read (to
	// let the connection be reused) and maxErrorBody what an error quotes,
	// so a hostile or broken receiver cannot make a worker buffer much.
	maxResponseRead = 64 << 10
	maxErrorBody    = 512
	// maxWebhookID keeps the id a sane header value.
	maxWebhookID = 256
	// defaultWebhookTimeout bounds an attempt when the caller passes no
	// client of its own.
	defaultWebhookTimeout = 30 * time.Second
)

// Webhook is a receiver of signed notifications.
type Webhook struct {
	URL    string // absolute http or https URL the notifications are POSTed to
	Secret string // "whsec_" followed by the base64 key shared with the receiver
}

// StatusError is a webhook receiver's answer other than 2xx.
type StatusError struct {
	URL        string // without user information or query
	StatusCode int
	Body       string // the start of the response body, for the logs
	// RetryAfter is the receiver's Retry-After (on 429 or 503), zero when
	// absent; a caller may use it as the next retry's delay.
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("webhook %s answered %d %s", e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Permanent reports whether the receiver's answer means the same request
// will never be accepted: 3xx (redirects are not followed, see Post) and
// 4xx except 408 Request Timeout and 429 Too Many Requests. 5xx, 408 and
// 429 are worth retrying.
func (e *StatusError) Permanent() bool {
	switch {
	case e.StatusCode == http.StatusRequestTimeout, e.StatusCode == http.StatusTooManyRequests:
		return false
	case e.StatusCode >= 300 && e.StatusCode <= 499:
		return true
	}
	return false
}

// NewSecret returns a fresh webhook secret, "whsec_" and 32 random bytes
// in base64, to share with a receiver.
func NewSecret() (string, error) {
	key := make([]byte, newSecretBytes)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("new webhook secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}

// decodeSecret returns the HMAC key of a "whsec_<base64>" secret.
func decodeSecret(secret string) ([]byte, error) {
	b64, ok := strings.CutPrefix(strings.TrimSpace(secret), SecretPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: webhook secret must start with %q", ErrInvalidInput, SecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		// The decoder's error names no secret material, only an offset.
		return nil, fmt.Errorf("%w: webhook secret is not valid base64: %v", ErrInvalidInput, err)
	}
	if len(key) < minSecretBytes || len(key) > maxSecretBytes {
		return nil, fmt.Errorf("%w: webhook secret key is %d bytes, want %d to %d", ErrInvalidInput, len(key), minSecretBytes, maxSecretBytes)
	}
	return key, nil
}

// Sign returns the webhook-signature header value for a message:
// "v1," and the base64 HMAC-SHA256, keyed with the secret's key, of
// id "." unix-seconds "." payload.
func Sign(secret, id string, ts time.Time, payload []byte) (string, error) {
	key, err := decodeSecret(secret)
	if err != nil {
		return "", permanent(fmt.Errorf("sign webhook %s: %w", id, err))
	}
	return sign(key, id, ts.Unix(), payload), nil
}

func sign(key []byte, id string, unix int64, payload []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write(strconv.AppendInt(nil, unix, 10))
	mac.Write([]byte{'.'})
	mac.Write(payload)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// defaultWebhookClient is used when Post is given no client.
var defaultWebhookClient = &http.Client{Timeout: defaultWebhookTimeout}

// Post delivers payload (JSON) to the webhook, signed per Standard
// Webhooks. id is the caller's idempotency key and goes out as webhook-id
// unchanged on every attempt, so the receiver can drop a repeat; now is
// the time of this attempt (not of the event), because receivers reject
// timestamps more than a few minutes old.
//
// hc may be nil for a client with a 30-second timeout; its redirect policy
// is overridden, since following a redirect would turn the POST into an
// unsigned GET or send the signature to a host nobody configured. Any
// answer but 2xx is an error: a *StatusError, permanent for 3xx and 4xx
// other than 408 and 429. Network errors are temporary; invalid input
// (URL, secret, id) is permanent. Only the first 64 KiB of an answer is
// read.
func Post(ctx context.Context, hc *http.Client, wh Webhook, id string, payload []byte, now time.Time) error {
	target, err := webhookURL(wh.URL)
	if err != nil {
		return permanent(fmt.Errorf("post webhook %s: %w", id, err))
	}
	if err := checkWebhookID(id); err != nil {
		return permanent(fmt.Errorf("post webhook to %s: %w", safeURL(target), err))
	}
	key, err := decodeSecret(wh.Secret)
	if err != nil {
		return permanent(fmt.Errorf("post webhook %s to %s: %w", id, safeURL(target), err))
	}
	where := safeURL(target)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), bytes.NewReader(payload))
	if err != nil {
		return permanent(fmt.Errorf("post webhook %s to %s: %w", id, where, err))
	}
	unix := now.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Pacto-Webhooks/1")
	req.Header.Set(HeaderWebhookID, id)
	req.Header.Set(HeaderWebhookTimestamp, strconv.FormatInt(unix, 10))
	req.Header.Set(HeaderWebhookSignature, sign(key, id, unix, payload))

	if hc == nil {
		hc = defaultWebhookClient
	}
	client := *hc // a shallow copy shares the transport and its pooled connections
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		// The client's error quotes the URL, which may carry a token.
		return fmt.Errorf("post webhook %s to %s: %w", id, where, redactURLError(err))
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	// Drain a bounded rest so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseRead-maxErrorBody))
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	return fmt.Errorf("post webhook %s: %w", id, &StatusError{
		URL:        where,
		StatusCode: resp.StatusCode,
		Body:       printable(head),
		RetryAfter: retryAfter(resp.Header.Get("Retry-After"), now),
	})
}

// webhookURL checks that raw is an absolute http or https URL.
func webhookURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("%w: webhook URL: %v", ErrInvalidInput, redactURLError(err))
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: webhook URL %s must be an absolute http or https URL", ErrInvalidInput, safeURL(u))
	}
	return u, nil
}

// safeURL is u for errors and logs: without user information or query,
// either of which may hold a credential.
func safeURL(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment = nil, "", false, "", ""
	return c.String()
}

// checkWebhookID keeps the id to visible ASCII: it travels in a header
// and is signed byte for byte, so anything a proxy might rewrite or that
// Go would refuse to send must be stopped here, as a permanent error.
func checkWebhookID(id string) error {
	if id == "" || len(id) > maxWebhookID {
		return fmt.Errorf("%w: webhook id must be 1 to %d characters", ErrInvalidInput, maxWebhookID)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("%w: webhook id %q must be visible ASCII", ErrInvalidInput, id)
		}
	}
	return nil
}

// redactURLError drops the URL from a *url.Error, keeping the operation
// and the cause: a webhook URL may carry a credential in its query.
func redactURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// retryAfter reads a Retry-After header, seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// printable makes a response snippet safe for a log line.
func printable(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(b) == maxErrorBody {
		s += "…" // there was more
	}
	return s
}

// WebhookPayload is a suggested body for a notification's webhook, in the
// shape Standard Webhooks recommends:
//
//	{"type":"activity.milestone_overdue","timestamp":"…","data":{…}}
//
// with the notification as data. A dialogue meeting's notice is typed
// "dialogue.<event>" ("dialogue.minutes_adopted"), so a receiver can route
// it without looking into data, where its dialogue, meeting, meeting_at,
// digest and agenda are. The timestamp is the event's, so the bytes, and
// with them the signature base, are the same on every attempt.
func WebhookPayload(n store.NotificationContent) ([]byte, error) {
	group := "activity."
	if IsMeetingNotice(n) {
		group = "dialogue."
	}
	b, err := json.Marshal(struct {
		Type      string                    `json:"type"`
		Timestamp time.Time                 `json:"timestamp"`
		Data      store.NotificationContent `json:"data"`
	}{Type: group + string(n.Event), Timestamp: n.At.UTC(), Data: n})
	if err != nil {
		return nil, permanent(fmt.Errorf("encode webhook payload %s/%d: %w", noticeOf(n), n.Seq, err))
	}
	return b, nil
}
