package delivery

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// The signatures are checked with the official Standard Webhooks Go
// library, an implementation written independently of ours.

// capture is what a test receiver saw of one request.
type capture struct {
	Header http.Header
	Body   []byte
	Err    error // the official verifier's verdict
}

// receiver is a webhook endpoint on loopback that verifies every request
// with the official library and answers with statuses in turn (200 once
// they run out).
type receiver struct {
	mu       sync.Mutex
	seen     []capture
	statuses []int
	verifier *standardwebhooks.Webhook
	srv      *httptest.Server
}

func newReceiver(t *testing.T, secret string, statuses ...int) *receiver {
	t.Helper()
	v, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{statuses: statuses, verifier: v}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve)) // binds 127.0.0.1
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	verr := r.verifier.Verify(body, req.Header)
	r.mu.Lock()
	r.seen = append(r.seen, capture{Header: req.Header.Clone(), Body: body, Err: verr})
	status := http.StatusOK
	if len(r.statuses) > 0 {
		status, r.statuses = r.statuses[0], r.statuses[1:]
	}
	r.mu.Unlock()
	if verr != nil {
		http.Error(w, "bad signature: "+verr.Error(), http.StatusUnauthorized)
		return
	}
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "7")
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, "answer "+strconv.Itoa(status))
}

func (r *receiver) captures() []capture {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]capture(nil), r.seen...)
}

func testSecret(t *testing.T) string {
	t.Helper()
	s, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testPayload(t *testing.T) []byte {
	t.Helper()
	b, err := WebhookPayload(sample(lifecycle.EventMilestoneOverdue))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSignMatchesTheStandardWebhooksTestVector(t *testing.T) {
	// The example from the Standard Webhooks specification and its
	// reference libraries.
	got, err := Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}

func TestSignVerifiedByOfficialLibrary(t *testing.T) {
	secret := testSecret(t)
	payload := testPayload(t)
	now := time.Now()
	sig, err := Sign(secret, "act-01J9Z.7", now, payload)
	if err != nil {
		t.Fatal(err)
	}
	headers := func(id string, ts time.Time, sig string) http.Header {
		h := http.Header{}
		h.Set(HeaderWebhookID, id)
		h.Set(HeaderWebhookTimestamp, strconv.FormatInt(ts.Unix(), 10))
		h.Set(HeaderWebhookSignature, sig)
		return h
	}
	official, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := official.Verify(payload, headers("act-01J9Z.7", now, sig)); err != nil {
		t.Fatalf("official verifier rejects our signature: %v", err)
	}
	// And the other way: the official signer agrees with ours.
	if theirs, err := official.Sign("act-01J9Z.7", now, payload); err != nil || theirs != sig {
		t.Fatalf("official Sign = %q (%v), ours %q", theirs, err, sig)
	}

	wrong, err := standardwebhooks.NewWebhook(testSecret(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := wrong.Verify(payload, headers("act-01J9Z.7", now, sig)); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
		t.Errorf("wrong secret: got %v, want no matching signature", err)
	}
	tampered := []byte(strings.Replace(string(payload), `"notice":2`, `"notice":3`, 1))
	if string(tampered) == string(payload) {
		t.Fatal("tampering changed nothing")
	}
	if err := official.Verify(tampered, headers("act-01J9Z.7", now, sig)); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
		t.Errorf("tampered body: got %v, want no matching signature", err)
	}
	if err := official.Verify(payload, headers("act-01J9Z.8", now, sig)); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
		t.Errorf("other id: got %v, want no matching signature", err)
	}
	stale := now.Add(-10 * time.Minute)
	staleSig, err := Sign(secret, "act-01J9Z.7", stale, payload)
	if err != nil {
		t.Fatal(err)
	}
	if err := official.Verify(payload, headers("act-01J9Z.7", stale, staleSig)); !errors.Is(err, standardwebhooks.ErrMessageTooOld) {
		t.Errorf("stale timestamp: got %v, want too old", err)
	}
}

func TestPostDeliversVerifiableWebhook(t *testing.T) {
	secret := testSecret(t)
	rcv := newReceiver(t, secret)
	payload := testPayload(t)
	if !strings.HasPrefix(rcv.srv.URL, "http://127.0.0.1:") {
		t.Fatalf("receiver not on 127.0.0.1: %s", rcv.srv.URL)
	}
	if err := Post(ctxT(t), rcv.srv.Client(), Webhook{URL: rcv.srv.URL + "/hooks/pacto", Secret: secret}, "act-01J9Z.7", payload, time.Now()); err != nil {
		t.Fatal(err)
	}
	got := rcv.captures()
	if len(got) != 1 || got[0].Err != nil {
		t.Fatalf("receiver saw %+v", got)
	}
	if got[0].Header.Get(HeaderWebhookID) != "act-01J9Z.7" || got[0].Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", got[0].Header)
	}
	if string(got[0].Body) != string(payload) {
		t.Errorf("body changed on the way")
	}
	var env struct {
		Type      string    `json:"type"`
		Timestamp time.Time `json:"timestamp"`
		Data      struct {
			Activity string `json:"activity"`
			Notice   int    `json:"notice"`
		} `json:"data"`
	}
	if err := json.Unmarshal(got[0].Body, &env); err != nil || env.Type != "activity.milestone_overdue" || env.Data.Activity != "act-01J9Z" || env.Data.Notice != 2 || env.Timestamp.IsZero() {
		t.Errorf("payload %s (%v)", got[0].Body, err)
	}
}

func TestPostRejectedByReceiverWithOtherSecret(t *testing.T) {
	rcv := newReceiver(t, testSecret(t))
	err := Post(ctxT(t), nil, Webhook{URL: rcv.srv.URL, Secret: testSecret(t)}, "id-1", testPayload(t), time.Now())
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusUnauthorized || !Permanent(err) {
		t.Fatalf("got %v, want a permanent 401", err)
	}
	if got := rcv.captures(); len(got) != 1 || !errors.Is(got[0].Err, standardwebhooks.ErrNoMatchingSignature) {
		t.Fatalf("receiver saw %+v", got)
	}
}

func TestPostStaleTimestampRejected(t *testing.T) {
	secret := testSecret(t)
	rcv := newReceiver(t, secret)
	err := Post(ctxT(t), nil, Webhook{URL: rcv.srv.URL, Secret: secret}, "id-1", testPayload(t), time.Now().Add(-time.Hour))
	if err == nil || !Permanent(err) {
		t.Fatalf("got %v, want a permanent rejection", err)
	}
	if got := rcv.captures(); len(got) != 1 || !errors.Is(got[0].Err, standardwebhooks.ErrMessageTooOld) {
		t.Fatalf("receiver saw %+v", got)
	}
}

func TestPostRetriesKeepTheSameID(t *testing.T) {
	secret := testSecret(t)
	// The receiver fails the first three attempts in the retryable ways,
	// then accepts.
	rcv := newReceiver(t, secret, http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusRequestTimeout)
	wh := Webhook{URL: rcv.srv.URL, Secret: secret}
	payload := testPayload(t)

	var attempts int
	for attempts = 1; attempts <= 10; attempts++ { // what a retry policy would do, bounded
		err := Post(ctxT(t), rcv.srv.Client(), wh, "act-01J9Z.7", payload, time.Now())
		if err == nil {
			break
		}
		if Permanent(err) {
			t.Fatalf("attempt %d: %v is permanent, want temporary", attempts, err)
		}
		var se *StatusError
		if !errors.As(err, &se) {
			t.Fatalf("attempt %d: %v is not a StatusError", attempts, err)
		}
		if se.StatusCode == http.StatusTooManyRequests && se.RetryAfter != 7*time.Second {
			t.Errorf("429 Retry-After = %v, want 7s", se.RetryAfter)
		}
		if !strings.Contains(se.Body, "answer") {
			t.Errorf("error does not quote the answer: %q", se.Body)
		}
	}
	if attempts != 4 {
		t.Fatalf("succeeded on attempt %d, want 4", attempts)
	}
	got := rcv.captures()
	if len(got) != 4 {
		t.Fatalf("receiver saw %d requests, want 4", len(got))
	}
	for i, c := range got {
		if c.Err != nil {
			t.Errorf("attempt %d failed verification: %v", i+1, c.Err)
		}
		if id := c.Header.Get(HeaderWebhookID); id != "act-01J9Z.7" {
			t.Errorf("attempt %d webhook-id %q", i+1, id)
		}
	}
}

func TestPostClassifiesFailures(t *testing.T) {
	secret := testSecret(t)
	for _, c := range []struct {
		status    int
		permanent bool
	}{
		{http.StatusBadRequest, true},
		{http.StatusNotFound, true},
		{http.StatusGone, true},
		{http.StatusMovedPermanently, true},
		{http.StatusRequestTimeout, false},
		{http.StatusTooManyRequests, false},
		{http.StatusInternalServerError, false},
		{http.StatusBadGateway, false},
	} {
		rcv := newReceiver(t, secret, c.status)
		err := Post(ctxT(t), nil, Webhook{URL: rcv.srv.URL, Secret: secret}, "id-1", testPayload(t), time.Now())
		var se *StatusError
		if !errors.As(err, &se) || se.StatusCode != c.status || Permanent(err) != c.permanent {
			t.Errorf("%d: got %v (permanent %v), want permanent %v", c.status, err, Permanent(err), c.permanent)
		}
	}

	// A redirect is not followed: the signed POST goes only where it was
	// configured to.
	var followed atomic.Bool
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { followed.Store(true) }))
	defer target.Close()
	redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusFound))
	defer redirect.Close()
	if err := Post(ctxT(t), redirect.Client(), Webhook{URL: redirect.URL, Secret: secret}, "id-1", testPayload(t), time.Now()); err == nil || followed.Load() {
		t.Errorf("redirect: err %v, followed %v", err, followed.Load())
	}

	// A large answer is read only in part.
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, strings.Repeat("x", 1<<20))
	}))
	defer big.Close()
	err := Post(ctxT(t), nil, Webhook{URL: big.URL, Secret: secret}, "id-1", testPayload(t), time.Now())
	var se *StatusError
	if !errors.As(err, &se) || len(se.Body) > maxErrorBody+len("…") {
		t.Errorf("big answer: %d bytes quoted", len(se.Body))
	}

	// Nobody listening: temporary.
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	if err := Post(ctxT(t), nil, Webhook{URL: closed.URL, Secret: secret}, "id-1", testPayload(t), time.Now()); err == nil || Permanent(err) {
		t.Errorf("closed port: got %v, want a temporary error", err)
	}

	// A cancelled context: temporary.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Post(ctx, nil, Webhook{URL: big.URL, Secret: secret}, "id-1", testPayload(t), time.Now()); err == nil || Permanent(err) {
		t.Errorf("cancelled: got %v, want a temporary error", err)
	}
}

func TestPostRejectsBadInput(t *testing.T) {
	secret := testSecret(t)
	short := "whsec_" + base64.StdEncoding.EncodeToString([]byte("too short"))
	for _, c := range []struct {
		name string
		wh   Webhook
		id   string
	}{
		{"no prefix", Webhook{URL: "http://127.0.0.1:1", Secret: strings.TrimPrefix(secret, "whsec_")}, "id"},
		{"not base64", Webhook{URL: "http://127.0.0.1:1", Secret: "whsec_!!!"}, "id"},
		{"short key", Webhook{URL: "http://127.0.0.1:1", Secret: short}, "id"},
		{"relative URL", Webhook{URL: "/hooks", Secret: secret}, "id"},
		{"ftp URL", Webhook{URL: "ftp://127.0.0.1/x", Secret: secret}, "id"},
		{"empty id", Webhook{URL: "http://127.0.0.1:1", Secret: secret}, ""},
		{"id with newline", Webhook{URL: "http://127.0.0.1:1", Secret: secret}, "a\nb"},
	} {
		err := Post(ctxT(t), nil, c.wh, c.id, []byte("{}"), time.Now())
		if !errors.Is(err, ErrInvalidInput) || !Permanent(err) {
			t.Errorf("%s: got %v, want a permanent ErrInvalidInput", c.name, err)
		}
	}
	// The URL's credentials do not leak into errors.
	err := Post(ctxT(t), nil, Webhook{URL: "http://user:pw@127.0.0.1:1/x?token=tok", Secret: "bad"}, "id", nil, time.Now())
	if err == nil || strings.Contains(err.Error(), "pw") || strings.Contains(err.Error(), "tok") {
		t.Errorf("error leaks credentials: %v", err)
	}
}

func TestNewSecret(t *testing.T) {
	a, b := testSecret(t), testSecret(t)
	if a == b || !strings.HasPrefix(a, SecretPrefix) {
		t.Fatalf("secrets %q, %q", a, b)
	}
	key, err := decodeSecret(a)
	if err != nil || len(key) != 32 {
		t.Fatalf("decode %q: %d bytes, %v", a, len(key), err)
	}
	if _, err := standardwebhooks.NewWebhook(a); err != nil {
		t.Fatalf("official library rejects the secret: %v", err)
	}
}

// A webhook carries the notification's titles in every language they are
// written in, as objects keyed by language; those of an activity without
// languages stay the plain strings they were.
func TestWebhookPayloadCarriesEveryLanguage(t *testing.T) {
	n := sample(lifecycle.EventMilestoneCompleted)
	n.Title = lifecycle.Text{"es": "Capacitación aduanera", "en": "Customs training"}
	n.MilestoneTitle = lifecycle.Text{"es": "Taller en Colón", "en": "Workshop in Colón"}
	b, err := WebhookPayload(n)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Type string `json:"type"`
		Data struct {
			Title          map[string]string `json:"title"`
			MilestoneTitle map[string]string `json:"milestone_title"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("payload %s: %v", b, err)
	}
	if got.Type != "activity.milestone_completed" || len(got.Data.Title) != 2 || got.Data.Title["es"] != "Capacitación aduanera" || got.Data.Title["en"] != "Customs training" {
		t.Errorf("payload title %v in %s", got.Data.Title, b)
	}
	if len(got.Data.MilestoneTitle) != 2 || got.Data.MilestoneTitle["es"] != "Taller en Colón" || got.Data.MilestoneTitle["en"] != "Workshop in Colón" {
		t.Errorf("payload milestone title %v in %s", got.Data.MilestoneTitle, b)
	}
	// The bytes, and so the signature base, are the same on every attempt.
	if again, err := WebhookPayload(n); err != nil || string(again) != string(b) {
		t.Errorf("a second payload differs: %s\n%s", again, b)
	}

	old := sample(lifecycle.EventMilestoneCompleted)
	old.MilestoneTitle = lifecycle.Plain("Primera cohorte formada")
	if b, err = WebhookPayload(old); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"title":"Joint customs training"`, `"milestone_title":"Primera cohorte formada"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("payload of an activity without languages lacks %s: %s", want, b)
		}
	}
}

// A meeting's notice reaches a webhook typed as a dialogue's, with the
// meeting it is about (dialogue, number, time), the statements' close, the
// reminder's number and the parties owing, the report's SHA-256 and the
// agenda with its titles in every language, all as the JSON reads back.
func TestWebhookPayloadCarriesTheMeeting(t *testing.T) {
	n := meetingSample(lifecycle.EventMeetingDrafted)
	n.Notice, n.Parties, n.PartyNames = 1, []lifecycle.PartyCode{"US"}, []string{"Estados Unidos"}
	b, err := WebhookPayload(n)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Type      string                    `json:"type"`
		Timestamp time.Time                 `json:"timestamp"`
		Data      store.NotificationContent `json:"data"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("payload %s: %v", b, err)
	}
	if got.Type != "dialogue.meeting_drafted" || !got.Timestamp.Equal(n.At) {
		t.Errorf("type %q at %s, want dialogue.meeting_drafted at %s", got.Type, got.Timestamp, n.At)
	}
	d := got.Data
	if d.Activity != "" || d.Dialogue != "hld-pa-us" || d.Meeting != 3 || d.MeetingAt == nil || !d.MeetingAt.Equal(meetingAt) ||
		d.Due == nil || !d.Due.Equal(due) || d.Digest != reportSHA || d.Notice != 1 || d.Title.In("es") != dialogueName ||
		len(d.Parties) != 1 || d.Parties[0] != "US" || len(d.PartyNames) != 1 || d.PartyNames[0] != "Estados Unidos" {
		t.Errorf("the meeting did not come through: %+v\n%s", d, b)
	}
	if len(d.Agenda) != 2 || d.Agenda[0].Activity != "act-1" || d.Agenda[0].Title["en"] != "Customs training in Colón" ||
		d.Agenda[0].Title["es"] != "Capacitación aduanera en Colón" || d.Agenda[1].Title["es"] != "Línea de base de la migración irregular" {
		t.Errorf("agenda %+v in %s", d.Agenda, b)
	}
	for _, want := range []string{`"dialogue":"hld-pa-us"`, `"meeting":3`, `"meeting_at":"2027-03-22T14:00:00Z"`, `"digest":"` + reportSHA + `"`,
		`"agenda":[{"activity":"act-1","title":{"en":"Customs training in Colón","es":"Capacitación aduanera en Colón"}}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("payload lacks %s: %s", want, b)
		}
	}

	// Minutes carry their version; a signature's party is named. An
	// activity's notice stays an activity's.
	for et, want := range map[lifecycle.EventType]string{
		lifecycle.EventMinutesAdopted: `"type":"dialogue.minutes_adopted"`, lifecycle.EventMinutesSigned: `"party":"US"`,
	} {
		b, err := WebhookPayload(meetingSample(et))
		if err != nil || !strings.Contains(string(b), want) || !strings.Contains(string(b), `"version":2`) {
			t.Errorf("%s: %v, want %s and the version in %s", et, err, want, b)
		}
	}
	if b, err := WebhookPayload(sample(lifecycle.EventCancelled)); err != nil || !strings.Contains(string(b), `"type":"activity.cancelled"`) || strings.Contains(string(b), `"dialogue"`) {
		t.Errorf("an activity's notice: %v %s", err, b)
	}
}
