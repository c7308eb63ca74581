package delivery

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"pacto/internal/lifecycle"
)

var messageIDPattern = regexp.MustCompile("^<[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*>$")

const testFrom = "Pacto <notificaciones@pacto.example.org>"

// newTestMailer is a mailer for a test server on 127.0.0.1:port.
func newTestMailer(t *testing.T, cfg SMTPConfig, port int) *SMTPMailer {
	t.Helper()
	cfg.Host, cfg.Port = "127.0.0.1", port
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	m, err := NewSMTPMailer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSMTPSendsRenderedMailOverSTARTTLS(t *testing.T) {
	serverTLS, pool := selfSigned(t)
	b := &smtpBackend{}
	port := startSMTP(t, b, serverTLS, false)
	mailer := newTestMailer(t, SMTPConfig{TLS: TLSMandatory, TLSConfig: &tls.Config{RootCAs: pool}}, port)

	n := sample(lifecycle.EventMilestoneOverdue)
	n.Title = lifecycle.Plain("Capacitación aduanera conjunta")
	for _, r := range []Recipient{usRecipient, paRecipient} {
		msg, err := Render(n, r, "https://pacto.example.org")
		if err != nil {
			t.Fatal(err)
		}
		if err := mailer.Send(ctxT(t), testFrom, r, msg, "act-01J9Z.7."+r.ID); err != nil {
			t.Fatalf("send to %s: %v", r.ID, err)
		}
	}

	got := b.messages()
	if len(got) != 2 {
		t.Fatalf("server received %d messages, want 2", len(got))
	}
	for i, c := range []struct {
		r                    Recipient
		lang, subject, clock string
		notClock             string
	}{
		{usRecipient, "en", "Milestone overdue: Capacitación aduanera conjunta", "5:00 PM (America/New_York)", "America/Panama"},
		{paRecipient, "es", "Hito vencido: Capacitación aduanera conjunta", "4:00 p. m. (America/Panama)", "America/New_York"},
	} {
		rcv := got[i]
		if !rcv.TLS {
			t.Errorf("%s: mail was not sent over TLS", c.r.ID)
		}
		if rcv.From != "notificaciones@pacto.example.org" || len(rcv.To) != 1 || rcv.To[0] != c.r.Email {
			t.Errorf("%s: envelope from %q to %v", c.r.ID, rcv.From, rcv.To)
		}
		p := parseMail(t, rcv.Data)
		if len(p.To) != 1 || p.To[0].Address != c.r.Email || p.To[0].Name != c.r.Name {
			t.Errorf("%s: To header %v", c.r.ID, p.To)
		}
		if p.Subject != c.subject {
			t.Errorf("%s: subject %q, want %q", c.r.ID, p.Subject, c.subject)
		}
		if got := p.Header.Get("Content-Language"); got != c.lang {
			t.Errorf("%s: Content-Language %q, want %q", c.r.ID, got, c.lang)
		}
		if want := "<act-01J9Z.7." + c.r.ID + "@pacto.example.org>"; p.Header.Get("Message-ID") != want {
			t.Errorf("%s: Message-ID %q, want %q", c.r.ID, p.Header.Get("Message-ID"), want)
		}
		if p.Header.Get("Auto-Submitted") != "auto-generated" {
			t.Errorf("%s: no Auto-Submitted header", c.r.ID)
		}
		if !strings.Contains(p.Text, c.clock) || !strings.Contains(p.HTML, c.clock) {
			t.Errorf("%s: due time %q missing:\n%s", c.r.ID, c.clock, p.Text)
		}
		if strings.Contains(p.Text, c.notClock) {
			t.Errorf("%s: text mentions the other party's zone:\n%s", c.r.ID, p.Text)
		}
		if !strings.Contains(p.Text, "https://pacto.example.org/activities/act-01J9Z") {
			t.Errorf("%s: link missing:\n%s", c.r.ID, p.Text)
		}
	}
	es := parseMail(t, got[1].Data)
	for _, want := range []string{"lunes, 15 de marzo de 2027, 4:00 p. m. (America/Panama)", "Hola, Ana Pérez:", "aviso de vencimiento n.º 2"} {
		if !strings.Contains(es.Text, want) {
			t.Errorf("Spanish text lacks %q:\n%s", want, es.Text)
		}
	}
	en := parseMail(t, got[0].Data)
	if want := "Monday, March 15, 2027, 5:00 PM (America/New_York)"; !strings.Contains(en.Text, want) {
		t.Errorf("English text lacks %q:\n%s", want, en.Text)
	}
}

func TestSMTPMessageIDIsStableAcrossAttempts(t *testing.T) {
	b := &smtpBackend{}
	port := startSMTP(t, b, nil, false)
	mailer := newTestMailer(t, SMTPConfig{TLS: TLSOpportunistic}, port)
	msg, err := Render(sample(lifecycle.EventActivated), usRecipient, "")
	if err != nil {
		t.Fatal(err)
	}
	// A key that is not a valid Message-ID as it stands is made one, the
	// same way every time.
	for range 2 {
		if err := mailer.Send(ctxT(t), testFrom, usRecipient, msg, "act-01J9Z/7/us-coordinator"); err != nil {
			t.Fatal(err)
		}
	}
	got := b.messages()
	if len(got) != 2 {
		t.Fatalf("got %d messages", len(got))
	}
	id1 := parseMail(t, got[0].Data).Header.Get("Message-ID")
	id2 := parseMail(t, got[1].Data).Header.Get("Message-ID")
	if id1 == "" || id1 != id2 {
		t.Fatalf("Message-IDs %q and %q differ", id1, id2)
	}
	// RFC 5322 msg-id: "<" dot-atom-text "@" dot-atom-text ">".
	if !messageIDPattern.MatchString(id1) {
		t.Errorf("Message-ID %q is not an RFC 5322 msg-id", id1)
	}
}

func TestSMTPTLSModes(t *testing.T) {
	msg, err := Render(sample(lifecycle.EventResumed), paRecipient, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("opportunistic without STARTTLS sends in clear", func(t *testing.T) {
		b := &smtpBackend{}
		port := startSMTP(t, b, nil, false)
		if err := newTestMailer(t, SMTPConfig{TLS: TLSOpportunistic}, port).Send(ctxT(t), testFrom, paRecipient, msg, "k1"); err != nil {
			t.Fatal(err)
		}
		if got := b.messages(); len(got) != 1 || got[0].TLS {
			t.Fatalf("got %+v, want one message in clear", got)
		}
	})
	t.Run("opportunistic with STARTTLS upgrades", func(t *testing.T) {
		serverTLS, pool := selfSigned(t)
		b := &smtpBackend{}
		port := startSMTP(t, b, serverTLS, false)
		if err := newTestMailer(t, SMTPConfig{TLS: TLSOpportunistic, TLSConfig: &tls.Config{RootCAs: pool}}, port).Send(ctxT(t), testFrom, paRecipient, msg, "k1"); err != nil {
			t.Fatal(err)
		}
		if got := b.messages(); len(got) != 1 || !got[0].TLS {
			t.Fatalf("got %+v, want one message over TLS", got)
		}
	})
	t.Run("mandatory without STARTTLS refuses", func(t *testing.T) {
		b := &smtpBackend{}
		port := startSMTP(t, b, nil, false)
		err := newTestMailer(t, SMTPConfig{TLS: TLSMandatory}, port).Send(ctxT(t), testFrom, paRecipient, msg, "k1")
		if err == nil || len(b.messages()) != 0 {
			t.Fatalf("err %v, %d messages: want a refusal and nothing sent", err, len(b.messages()))
		}
	})
	t.Run("mandatory with an untrusted certificate refuses", func(t *testing.T) {
		serverTLS, _ := selfSigned(t)
		b := &smtpBackend{}
		port := startSMTP(t, b, serverTLS, false)
		err := newTestMailer(t, SMTPConfig{TLS: TLSMandatory, TLSConfig: &tls.Config{RootCAs: x509.NewCertPool()}}, port).Send(ctxT(t), testFrom, paRecipient, msg, "k1")
		if err == nil || len(b.messages()) != 0 {
			t.Fatalf("err %v, %d messages: want a refusal and nothing sent", err, len(b.messages()))
		}
	})
	t.Run("implicit TLS", func(t *testing.T) {
		serverTLS, pool := selfSigned(t)
		b := &smtpBackend{users: map[string]string{"pacto": "s3cret"}}
		port := startSMTP(t, b, serverTLS, true)
		cfg := SMTPConfig{TLS: TLSImplicit, TLSConfig: &tls.Config{RootCAs: pool}, Username: "pacto", Password: "s3cret"}
		if err := newTestMailer(t, cfg, port).Send(ctxT(t), testFrom, paRecipient, msg, "k1"); err != nil {
			t.Fatal(err)
		}
		if got := b.messages(); len(got) != 1 || !got[0].TLS || got[0].User != "pacto" {
			t.Fatalf("got %+v, want one authenticated message over TLS", got)
		}
	})
}

func TestSMTPAuth(t *testing.T) {
	msg, err := Render(sample(lifecycle.EventSuspended), usRecipient, "")
	if err != nil {
		t.Fatal(err)
	}
	serverTLS, pool := selfSigned(t)
	b := &smtpBackend{users: map[string]string{"pacto": "s3cret"}}
	port := startSMTP(t, b, serverTLS, false)
	base := SMTPConfig{TLS: TLSMandatory, TLSConfig: &tls.Config{RootCAs: pool}, Username: "pacto", Password: "s3cret"}

	for _, mech := range []AuthMechanism{AuthPlain, AuthLogin} {
		cfg := base
		cfg.Auth = mech
		if err := newTestMailer(t, cfg, port).Send(ctxT(t), testFrom, usRecipient, msg, "auth-"+string(mech)); err != nil {
			t.Fatalf("%s: %v", mech, err)
		}
	}
	got := b.messages()
	if len(got) != 2 || got[0].User != "pacto" || got[1].User != "pacto" || !got[0].TLS || !got[1].TLS {
		t.Fatalf("got %+v, want two authenticated messages over TLS", got)
	}

	bad := base
	bad.Password = "wrong"
	err = newTestMailer(t, bad, port).Send(ctxT(t), testFrom, usRecipient, msg, "auth-bad")
	if err == nil || !Permanent(err) {
		t.Errorf("wrong password: got %v, want a permanent error (535)", err)
	}
	anon := base
	anon.Username, anon.Password = "", ""
	err = newTestMailer(t, anon, port).Send(ctxT(t), testFrom, usRecipient, msg, "auth-none")
	if err == nil || !Permanent(err) {
		t.Errorf("no login: got %v, want a permanent error (530)", err)
	}
	if n := len(b.messages()); n != 2 {
		t.Errorf("server holds %d messages, want 2", n)
	}
}

func TestSMTPErrorsClassified(t *testing.T) {
	msg, err := Render(sample(lifecycle.EventCancelled), usRecipient, "")
	if err != nil {
		t.Fatal(err)
	}
	send := func(t *testing.T, cfg SMTPConfig, port int) error {
		t.Helper()
		return newTestMailer(t, cfg, port).Send(ctxT(t), testFrom, usRecipient, msg, "k1")
	}

	t.Run("refused connection is temporary", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		err = send(t, SMTPConfig{TLS: TLSOpportunistic}, port)
		if err == nil || Permanent(err) {
			t.Fatalf("got %v, want a temporary error", err)
		}
	})
	t.Run("550 is permanent", func(t *testing.T) {
		b := &smtpBackend{rcptErr: &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}}
		err := send(t, SMTPConfig{TLS: TLSOpportunistic}, startSMTP(t, b, nil, false))
		if err == nil || !Permanent(err) || !strings.Contains(err.Error(), "550") {
			t.Fatalf("got %v, want a permanent 550 error", err)
		}
	})
	t.Run("554 after DATA is permanent", func(t *testing.T) {
		b := &smtpBackend{dataErr: &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Message refused"}}
		if err := send(t, SMTPConfig{TLS: TLSOpportunistic}, startSMTP(t, b, nil, false)); err == nil || !Permanent(err) {
			t.Fatalf("got %v, want a permanent error", err)
		}
	})
	t.Run("451 is temporary", func(t *testing.T) {
		b := &smtpBackend{rcptErr: &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}}
		if err := send(t, SMTPConfig{TLS: TLSOpportunistic}, startSMTP(t, b, nil, false)); err == nil || Permanent(err) {
			t.Fatalf("got %v, want a temporary error", err)
		}
	})
	t.Run("silent server times out, temporarily", func(t *testing.T) {
		start := time.Now()
		err := send(t, SMTPConfig{TLS: TLSOpportunistic, Timeout: 300 * time.Millisecond}, silentServer(t))
		if err == nil || Permanent(err) {
			t.Fatalf("got %v, want a temporary error", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("gave up after %v, want about 300ms", d)
		}
	})
	t.Run("cancelled context stops at once", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := newTestMailer(t, SMTPConfig{TLS: TLSOpportunistic, Timeout: 20 * time.Second}, silentServer(t)).
			Send(ctx, testFrom, usRecipient, msg, "k1")
		if err == nil || Permanent(err) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want a temporary deadline error", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("returned after %v, want about 200ms", d)
		}
	})
	t.Run("bad addresses are permanent and nothing is sent", func(t *testing.T) {
		b := &smtpBackend{}
		port := startSMTP(t, b, nil, false)
		m := newTestMailer(t, SMTPConfig{TLS: TLSOpportunistic}, port)
		for _, c := range []struct {
			from, to, id string
		}{
			{testFrom, "not an address", "k1"},
			{testFrom, "Someone <x@example.org>", "k1"},
			{testFrom, "", "k1"},
			{"nobody", usRecipient.Email, "k1"},
			{testFrom, usRecipient.Email, ""},
		} {
			r := usRecipient
			r.Email = c.to
			err := m.Send(ctxT(t), c.from, r, msg, c.id)
			if !Permanent(err) || !errors.Is(err, ErrInvalidInput) {
				t.Errorf("from %q to %q id %q: got %v, want a permanent ErrInvalidInput", c.from, c.to, c.id, err)
			}
		}
		if n := len(b.messages()); n != 0 {
			t.Errorf("server received %d messages", n)
		}
	})
}

// silentServer accepts connections on loopback and never says a word, like
// a hung mail server; it returns the port.
func silentServer(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
	)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

func TestNewSMTPMailerChecksConfig(t *testing.T) {
	for _, cfg := range []SMTPConfig{
		{},
		{Host: "mail.example.org", Port: 70000},
		{Host: "mail.example.org", TLS: TLSMode(9)},
		{Host: "mail.example.org", Auth: AuthLogin},
		{Host: "mail.example.org", Auth: "CRAM-MD5", Username: "u"},
		{Host: "mail.example.org", Timeout: -time.Second},
	} {
		if _, err := NewSMTPMailer(cfg); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%+v: got %v, want ErrInvalidInput", cfg, err)
		}
	}
	m, err := NewSMTPMailer(SMTPConfig{Host: "mail.example.org", TLS: TLSImplicit, Username: "u"})
	if err != nil {
		t.Fatal(err)
	}
	if m.cfg.Port != 465 || m.cfg.Auth != AuthPlain || m.cfg.Timeout != defaultSMTPTimeout || m.tls.ServerName != "mail.example.org" {
		t.Errorf("defaults not applied: %+v", m.cfg)
	}
}
