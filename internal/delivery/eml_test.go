package delivery

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pacto/internal/lifecycle"
)

func TestEMLMailerWritesOneParseableFilePerMessageID(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail") // created by NewEMLMailer
	m, err := NewEMLMailer(dir)
	if err != nil {
		t.Fatal(err)
	}
	var _ Mailer = m

	n := sample(lifecycle.EventMilestoneDueSoon)
	n.Title = lifecycle.Plain("Capacitación aduanera conjunta")
	first, err := Render(n, paRecipient, "http://127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	const id = "act-01J9Z.7.pa-coordinator"
	if err := m.Send(ctxT(t), testFrom, paRecipient, first, id); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, id+".eml")
	if m.Path(id) != path {
		t.Errorf("Path(%q) = %q, want %q", id, m.Path(id), path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p := parseMail(t, data)
	if p.Subject != "Hito próximo a vencer: Capacitación aduanera conjunta" {
		t.Errorf("subject %q", p.Subject)
	}
	if len(p.To) != 1 || p.To[0].Address != paRecipient.Email || p.To[0].Name != paRecipient.Name {
		t.Errorf("To %v", p.To)
	}
	if got := p.Header.Get("Message-ID"); got != "<"+id+"@pacto.example.org>" {
		t.Errorf("Message-ID %q", got)
	}
	if p.Header.Get("Date") == "" || p.Header.Get("From") == "" || p.Header.Get("MIME-Version") == "" {
		t.Errorf("missing Date, From or MIME-Version:\n%s", data)
	}
	if !strings.Contains(p.Text, "lunes, 15 de marzo de 2027, 4:00 p. m. (America/Panama)") || !strings.Contains(p.HTML, "http://127.0.0.1:8080/activities/act-01J9Z") {
		t.Errorf("body:\n%s\n%s", p.Text, p.HTML)
	}
	if !bytes.Contains(data, []byte("\r\n")) {
		t.Error("lines do not end in CRLF as RFC 5322 requires")
	}

	// A second attempt for the same message, even with other content,
	// leaves the first file alone; another message gets its own file.
	second, err := Render(sample(lifecycle.EventMilestoneOverdue), paRecipient, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(ctxT(t), testFrom, paRecipient, second, id); err != nil {
		t.Fatal(err)
	}
	again, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, data) {
		t.Error("a repeated messageID rewrote the file")
	}
	// A key with a path separator must stay inside the directory.
	if err := m.Send(ctxT(t), testFrom, paRecipient, second, "act-01J9Z/8/pa-coordinator"); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".eml") || strings.HasPrefix(e.Name(), ".") {
			t.Errorf("unexpected entry %q", e.Name())
		}
	}
	if len(names) != 2 {
		t.Fatalf("directory holds %v, want two .eml files", names)
	}
	if _, err := os.Stat(m.Path("act-01J9Z/8/pa-coordinator")); err != nil {
		t.Errorf("Path does not find the rewritten name: %v (have %v)", err, names)
	}
}

func TestEMLMailerRejectsBadInput(t *testing.T) {
	m, err := NewEMLMailer(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	msg, err := Render(sample(lifecycle.EventCompleted), usRecipient, "")
	if err != nil {
		t.Fatal(err)
	}
	r := usRecipient
	r.Email = "not-an-address"
	if err := m.Send(ctxT(t), testFrom, r, msg, "k"); !Permanent(err) {
		t.Errorf("bad address: got %v, want a permanent error", err)
	}
	if _, err := NewEMLMailer(""); err == nil {
		t.Error("NewEMLMailer(\"\") succeeded")
	}
}

func TestSafeToken(t *testing.T) {
	for _, c := range []struct {
		key  string
		keep bool
	}{
		{"act-1.7.pa-coordinator", true},
		{"A_b-9", true},
		{"act/1/pa", false},
		{"../etc/passwd", false},
		{".hidden", false},
		{"a..b", false},
		{"trailing.", false},
		{"ñandú", false},
		{strings.Repeat("x", 200), false},
	} {
		got := safeToken(c.key)
		if (got == c.key) != c.keep {
			t.Errorf("safeToken(%q) = %q, keep = %v", c.key, got, c.keep)
		}
		if !messageIDPattern.MatchString("<"+got+"@x.org>") || strings.ContainsAny(got, `/\`) || strings.HasPrefix(got, ".") {
			t.Errorf("safeToken(%q) = %q is not a safe token", c.key, got)
		}
		if safeToken(c.key) != got {
			t.Errorf("safeToken(%q) is not stable", c.key)
		}
	}
	if safeToken("a/b") == safeToken("a_b") || safeToken("a/b") == safeToken("a:b") {
		t.Error("distinct keys collide")
	}
}
