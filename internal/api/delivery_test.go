package api

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"pacto/internal/app"
	"pacto/internal/delivery"
	"pacto/workflows"
)

// mailbox is a real SMTP server's backend that keeps what it receives.
type mailbox struct {
	mu   sync.Mutex
	mail []string // raw messages, one per recipient
	to   []string
}

func (m *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{m: m}, nil }

type mailSession struct {
	m  *mailbox
	to []string
}

func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	for _, to := range s.to {
		// Decode quoted-printable so tests read the text as a person would.
		plain, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(b)))
		if err != nil {
			plain = b
		}
		s.m.mail = append(s.m.mail, string(plain))
		s.m.to = append(s.m.to, to)
	}
	return nil
}
func (s *mailSession) Reset()        { s.to = nil }
func (s *mailSession) Logout() error { return nil }

// received returns the messages sent to addr.
func (m *mailbox) received(addr string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for i, to := range m.to {
		if to == addr {
			out = append(out, m.mail[i])
		}
	}
	return out
}

// verifySignature checks a Standard Webhooks signature independently of
// the package that made it.
func verifySignature(secret string, h http.Header, body []byte) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.%s", h.Get("webhook-id"), h.Get("webhook-timestamp"), body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(h.Get("webhook-signature")) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}

// A mail server that is down at first, and a webhook receiver that fails
// its first attempts: every notice still arrives, exactly once, signed.
func TestDeliveryThroughOutages(t *testing.T) {
	// Reserve the mail server's port but leave it closed for now.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mailPort := l.Addr().(*net.TCPAddr).Port
	l.Close()
	mailer, err := delivery.NewSMTPMailer(delivery.SMTPConfig{Host: "127.0.0.1", Port: mailPort, TLS: delivery.TLSOpportunistic, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s := newStackWith(t, app.Delivery{Mailer: mailer, From: "Pacto <pacto@pacto.example>", BaseURL: "https://pacto.example",
		Policy: workflows.DeliveryInput{Attempts: 30, FirstRetry: 500 * time.Millisecond, MaxRetry: time.Second}})
	ctx := context.Background()
	for who, addr := range map[string]string{"us-approver": "us-approver@us.example", "pa-approver": "pa-approver@pa.example"} {
		if _, err := s.st.Pool().Exec(ctx, "UPDATE principals SET email = $2 WHERE id = $1", who, addr); err != nil {
			t.Fatal(err)
		}
	}

	// The webhook receiver fails twice, then verifies and keeps what it gets.
	var mu sync.Mutex
	secrets := map[string]bool{} // the secrets the receiver knows
	attempts := map[string]int{}
	var accepted []map[string]any
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		id := r.Header.Get("webhook-id")
		attempts[id]++
		if attempts[id] <= 2 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		known := false
		for sec := range secrets {
			known = known || verifySignature(sec, r.Header, body)
		}
		if !known {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var v map[string]any
		_ = json.Unmarshal(body, &v)
		accepted = append(accepted, v)
	}))
	defer hook.Close()
	created := s.call("admin", "POST", "/v1/admin/webhooks", WebhookRequest{ID: "ministry", URL: hook.URL, EventTypes: []string{"proposed", "activated"}, Parties: []string{"PA"}})
	want(t, created, 201)
	var nw NewWebhook
	if err := json.Unmarshal(created.body, &nw); err != nil || !strings.HasPrefix(nw.Secret, "whsec_") {
		t.Fatalf("new webhook: %s", created.body)
	}
	mu.Lock()
	secrets[nw.Secret] = true
	mu.Unlock()
	// A second subscription whose secret the receiver does not know yet:
	// its deliveries are refused (401) and end as failed, then are retried.
	stranger := s.call("admin", "POST", "/v1/admin/webhooks", WebhookRequest{ID: "stranger", URL: hook.URL, EventTypes: []string{"proposed"}})
	want(t, stranger, 201)
	var sw NewWebhook
	if err := json.Unmarshal(stranger.body, &sw); err != nil {
		t.Fatal(err)
	}

	a := s.propose(proposal())

	// Let the mail server stay down through a few attempts, then start it.
	time.Sleep(2 * time.Second)
	box := &mailbox{}
	srv := smtp.NewServer(box)
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	ml, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", mailPort))
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ml) }()
	defer srv.Close()

	eventually(t, 60*time.Second, "both approvers' approval requests", func() bool {
		return len(box.received("us-approver@us.example")) >= 1 && len(box.received("pa-approver@pa.example")) >= 1
	})
	eventually(t, 60*time.Second, "the signed webhook", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(accepted) >= 1
	})
	// Give any duplicate a chance to show up before counting.
	time.Sleep(2 * time.Second)
	us, pa := box.received("us-approver@us.example"), box.received("pa-approver@pa.example")
	if len(us) != 1 || len(pa) != 1 {
		t.Fatalf("got %d and %d mails, want exactly one each", len(us), len(pa))
	}
	// Each reads the title in their own language.
	if !strings.Contains(us[0], "Joint customs training") || !strings.Contains(pa[0], "Capacitación aduanera conjunta") {
		t.Fatal("the mails do not name the activity in their readers' languages")
	}
	if !strings.Contains(us[0], "https://pacto.example/activities/"+a.ID) {
		t.Fatalf("the mail has no link to the activity:\n%s", us[0])
	}
	if !strings.Contains(strings.ToLower(us[0]), "approv") || strings.Contains(strings.ToLower(us[0]), "aprobación") {
		t.Fatal("the US approver's mail is not in English")
	}
	if !strings.Contains(strings.ToLower(pa[0]), "aprob") {
		t.Fatal("the PA approver's mail is not in Spanish")
	}
	mu.Lock()
	if len(accepted) != 1 || accepted[0]["type"] != "activity.proposed" || accepted[0]["data"].(map[string]any)["activity"] != a.ID {
		t.Fatalf("webhook accepted %d times: %v", len(accepted), accepted)
	}
	for id, n := range attempts {
		if strings.Contains(id, "ministry") && n != 3 {
			t.Errorf("webhook %s tried %d times, want 2 failures then 1 success", id, n)
		}
	}
	mu.Unlock()

	// The stranger's delivery fails for good (401 is permanent) and shows.
	var failed DeliveryList
	eventually(t, 30*time.Second, "the refused webhook to be marked failed", func() bool {
		r := s.call("admin", "GET", "/v1/admin/deliveries?status=failed", nil)
		_ = json.Unmarshal(r.body, &failed)
		return len(failed.Deliveries) == 1
	})
	d := failed.Deliveries[0]
	if d.Channel != "webhook" || !strings.Contains(d.ID, "stranger") || d.LastError == "" {
		t.Fatalf("failed delivery %+v", d)
	}
	// Now the receiver learns that secret too, and the admin retries.
	mu.Lock()
	secrets[sw.Secret] = true
	mu.Unlock()
	want(t, s.call("admin", "POST", "/v1/admin/deliveries/"+d.ID+"/retry", nil), 200)
	var sentList DeliveryList
	eventually(t, 30*time.Second, "the retried webhook to be sent", func() bool {
		r := s.call("admin", "GET", "/v1/admin/deliveries?status=sent", nil)
		_ = json.Unmarshal(r.body, &sentList)
		return len(sentList.Deliveries) == 4 // two mails and two webhooks
	})
	want(t, s.call("admin", "POST", "/v1/admin/deliveries/"+d.ID+"/retry", nil), 404, "not-found")
	mu.Lock()
	if len(accepted) != 2 {
		t.Fatalf("webhooks accepted %d times, want 2", len(accepted))
	}
	mu.Unlock()

	// A principal can turn email off.
	want(t, s.call("us-approver", "PUT", "/v1/me/notifications", NotificationPreferences{Email: false}), 200)
	b := s.propose(proposal())
	eventually(t, 30*time.Second, "the PA approver's second mail", func() bool {
		return len(box.received("pa-approver@pa.example")) == 2
	})
	if n := len(box.received("us-approver@us.example")); n != 1 {
		t.Fatalf("the US approver turned email off but got %d mails (activity %s)", n, b.ID)
	}
}

func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// deliveryAdmin exercises the delivery endpoints' shapes and errors; the
// deliveries themselves are tested in TestDeliveryThroughOutages.
func (s *stack) deliveryAdmin(t *testing.T) {
	created := s.call("admin", "POST", "/v1/admin/webhooks", WebhookRequest{ID: "audit-office", URL: "https://receiver.example/pacto", EventTypes: []string{"milestone_overdue"}})
	want(t, created, 201)
	want(t, s.call("admin", "POST", "/v1/admin/webhooks", WebhookRequest{ID: "audit-office", URL: "https://receiver.example/pacto"}), 409, "conflict")
	want(t, s.call("admin", "POST", "/v1/admin/webhooks", WebhookRequest{ID: "bad", URL: "ftp://x"}), 422, "invalid-input", "url")
	want(t, s.call("admin", "POST", "/v1/admin/webhooks", WebhookRequest{ID: "bad", URL: "https://x.example", EventTypes: []string{"progress_reported"}}), 422, "invalid-input", "event_types")
	list := s.call("admin", "GET", "/v1/admin/webhooks", nil)
	want(t, list, 200)
	if !strings.Contains(string(list.body), "audit-office") || strings.Contains(string(list.body), "whsec_") {
		t.Fatalf("webhook list %s", list.body)
	}
	want(t, s.call("admin", "DELETE", "/v1/admin/webhooks/audit-office", nil), 204)
	want(t, s.call("admin", "DELETE", "/v1/admin/webhooks/audit-office", nil), 404, "not-found")
	want(t, s.call("admin", "GET", "/v1/admin/deliveries?status=failed", nil), 200)
	want(t, s.call("admin", "GET", "/v1/admin/deliveries?status=lost", nil), 422, "invalid-input", "status")
	want(t, s.call("admin", "POST", "/v1/admin/deliveries/email-999999/retry", nil), 404, "not-found")
	want(t, s.call("pa-approver", "GET", "/v1/admin/deliveries", nil), 403, "forbidden")
	want(t, s.call("pa-approver", "PUT", "/v1/me/notifications", NotificationPreferences{Email: false}), 200)
	want(t, s.call("pa-approver", "PUT", "/v1/me/notifications", []byte(`{"email":"no"}`)), 422, "invalid-input", "email")
	want(t, s.call("pa-approver", "PUT", "/v1/me/notifications", NotificationPreferences{Email: true}), 200)
	eight := 8
	want(t, s.call("pa-approver", "PUT", "/v1/me/notifications", NotificationPreferences{Email: true, DigestHour: &eight}), 200)
	want(t, s.call("pa-approver", "PUT", "/v1/me/notifications", []byte(`{"email":true,"digest_hour":24}`)), 422, "invalid-input", "digest_hour")
	want(t, s.call("pa-approver", "GET", "/v1/me/notifications", nil), 200)
	want(t, s.call("pa-approver", "PUT", "/v1/me/notifications", NotificationPreferences{Email: true}), 200)
}
