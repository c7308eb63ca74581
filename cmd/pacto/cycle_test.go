package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ledongthuc/pdf"

	"pacto/internal/lifecycle"
)

// The dialogue cycle against `pacto dev`, on minute-scale offsets: a
// meeting two to three minutes away gets its draft and agenda out at
// once, in each reader's language; Panama states its progress and the
// US's statement is missing; the report freezes at the meeting's time,
// with its digest in the meeting's audit log; and the minutes, changed
// after one signature, are co-signed and propose the activity they agreed.
func TestDevDialogueCycle(t *testing.T) {
	t.Parallel()
	dir := traversableDir(t)
	httpPort, temporalPort := freePort(t), freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	pactoBinary(t)
	dev := start(t, nil, "dev", "--data-dir", dir, "--http", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"--temporal-port", fmt.Sprint(temporalPort), "--ui-port", "0")
	waitReady(t, dev, base, 3*time.Minute)
	tokens := readTokens(t, dir)
	as := func(who string) apiClient { return apiClient{t, base, tokens[who]} }

	// An active activity with a milestone of each party's.
	a := as("pa-coordinator").must("POST", "/v1/activities", map[string]any{
		"dialogue": "hld-pa-us", "parties": []string{"PA", "US"},
		"title": map[string]string{"es": "Capacitación aduanera conjunta", "en": "Joint customs training"},
		"milestones": []map[string]any{
			{"id": "m1", "title": map[string]string{"es": "Primera cohorte formada", "en": "First cohort trained"}, "owner": "PA", "due": "P6M"},
			{"id": "m2", "title": map[string]string{"es": "Manual publicado", "en": "Handbook published"}, "owner": "US", "due": "P6M"}},
	}, 201)
	id := a["id"].(string)
	for _, who := range []string{"pa-approver", "us-approver"} {
		as(who).must("POST", "/v1/activities/"+id+"/decisions", map[string]any{"version": 1, "decision": "approve"}, 200)
	}

	// A meeting at the next whole minute two minutes ahead, on Panama's
	// clock: its draft is due at once, statements close a minute before it.
	panama, err := lifecycle.LoadZone("America/Panama")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().In(panama).Truncate(time.Minute).Add(3 * time.Minute)
	as("pa-coordinator").must("PUT", "/v1/dialogues/hld-pa-us/calendar", map[string]any{
		"zone": "America/Panama", "hosts": []string{"PA"}, "dates": []string{at.Format("2006-01-02T15:04")},
		"draft_before": "PT2M", "statements_before": "PT1M", "remind_every": "PT1M",
	}, 200)
	meeting := "/v1/dialogues/hld-pa-us/meetings/1"
	type detail struct {
		Phase  string `json:"phase"`
		Agenda []struct {
			Activity  string `json:"activity"`
			TitleText string `json:"title_text"`
		} `json:"agenda"`
		Missing []struct {
			Activity string `json:"activity"`
			Party    string `json:"party"`
		} `json:"missing_statements"`
		ReportSHA256 string `json:"report_sha256"`
	}
	read := func(who string) detail {
		var d detail
		b, _ := json.Marshal(as(who).must("GET", meeting, nil, 200))
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	waitPhase := func(phase string, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for read("us-observer").Phase != phase {
			if time.Now().After(deadline) {
				t.Fatalf("meeting 1 never reached phase %s (now %s)", phase, read("us-observer").Phase)
			}
			time.Sleep(time.Second)
		}
	}
	waitPhase("draft", 2*time.Minute)

	// The agenda, in each reader's language.
	for who, title := range map[string]string{"pa-observer": "Capacitación aduanera conjunta", "us-observer": "Joint customs training"} {
		d := read(who)
		if len(d.Agenda) != 1 || d.Agenda[0].Activity != id || d.Agenda[0].TitleText != title {
			t.Fatalf("%s reads the agenda %+v; want %q", who, d.Agenda, title)
		}
	}
	chain := lifecycle.MeetingChain("hld-pa-us", 1)
	waitFor(t, time.Minute, "the draft's notice in the US coordinator's inbox", func() bool { return inboxHas(as("us-coordinator"), chain, "meeting_drafted") })
	waitFor(t, time.Minute, "the draft and agenda mailed in Spanish and in English", func() bool {
		return mailed(t, dir, "pa-coordinator@pa.example", "Borrador del informe de avance y orden del día", "Capacitación aduanera conjunta") &&
			mailed(t, dir, "us-approver@us.example", "Draft report and agenda", "Joint customs training")
	})

	// Panama states; an observer may not; the US says nothing.
	as("pa-coordinator").must("POST", meeting+"/statements", map[string]any{"activity": id, "body": "La primera cohorte se formó en marzo."}, 201)
	as("pa-observer").must("POST", meeting+"/statements", map[string]any{"activity": id, "body": "No"}, 403)

	// At the meeting's time the report is frozen, the US's statement
	// marked missing.
	waitPhase("frozen", 3*time.Minute)
	d := read("pa-approver")
	if d.ReportSHA256 == "" || len(d.Missing) != 1 || d.Missing[0].Party != "US" {
		t.Fatalf("the frozen meeting: %+v; want its digest and the US's statement missing", d)
	}
	var rep struct {
		Statements []struct {
			Party string `json:"party"`
			Body  string `json:"body"`
		} `json:"statements"`
	}
	if b := get(t, as("pa-approver"), meeting+"/report.json"); json.Unmarshal(b, &rep) != nil || len(rep.Statements) != 1 || rep.Statements[0].Party != "PA" {
		t.Fatalf("the frozen report's statements: %s", b)
	}
	text := pdfText(t, get(t, as("pa-approver"), meeting+"/report.pdf"))
	for _, want := range []string{"Informe de avance", "Capacitación aduanera conjunta", "La primera cohorte se formó en marzo.", "Sin informe de la parte"} {
		if !strings.Contains(text, want) {
			t.Errorf("the Spanish PDF lacks %q", want)
		}
	}

	// The minutes: recorded, signed by Panama, changed by the US (which
	// resets the signature), then co-signed; they propose what they agreed.
	minutes := map[string]any{
		"decisions":  []any{map[string]string{"es": "Ampliar la capacitación a Darién", "en": "Extend the training to Darién"}},
		"follow_ups": []any{map[string]any{"text": map[string]string{"es": "Enviar el plan", "en": "Send the plan"}, "owner": "US", "due": "2027-06-30"}},
		"new_activities": []any{map[string]any{
			"title": map[string]string{"es": "Puesto fronterizo conjunto", "en": "Joint border post"},
			"proposal": map[string]any{"parties": []string{"PA", "US"},
				"title":      map[string]string{"es": "Puesto fronterizo conjunto", "en": "Joint border post"},
				"milestones": []any{map[string]any{"title": map[string]string{"es": "Sitio elegido", "en": "Site chosen"}, "owner": "PA", "due": "P3M"}}},
		}},
	}
	if m := as("pa-coordinator").must("PUT", meeting+"/minutes", minutes, 200); m["version"] != 1.0 {
		t.Fatalf("recorded minutes: %v", m)
	}
	as("pa-approver").must("POST", meeting+"/minutes/signatures", map[string]any{"version": 1}, 200)
	minutes["decisions"] = append(minutes["decisions"].([]any), map[string]string{"en": "Review the plan at the next meeting", "es": "Revisar el plan en la próxima reunión"})
	if m := as("us-coordinator").must("PUT", meeting+"/minutes", minutes, 200); m["version"] != 2.0 || len(m["signatures"].([]any)) != 0 {
		t.Fatalf("changed minutes: %v; want version 2 with no signature", m)
	}
	as("pa-approver").must("POST", meeting+"/minutes/signatures", map[string]any{"version": 1}, 409)
	as("pa-approver").must("POST", meeting+"/minutes/signatures", map[string]any{"version": 2}, 200)
	if m := as("us-approver").must("POST", meeting+"/minutes/signatures", map[string]any{"version": 2}, 200); m["adopted_at"] == nil {
		t.Fatalf("minutes signed by both: %v; want them adopted", m)
	}
	as("us-coordinator").must("PUT", meeting+"/minutes", minutes, 409)
	waitPhase("closed", time.Minute)
	waitFor(t, time.Minute, "the agreed activity proposed", func() bool {
		_, b := as("us-observer").do("GET", "/v1/activities?status=proposed", nil)
		return bytes.Contains(b, []byte("Joint border post"))
	})
	waitFor(t, time.Minute, "the adopted minutes mailed in Spanish and in English", func() bool {
		return mailed(t, dir, "pa-coordinator@pa.example", "Acta adoptada") && mailed(t, dir, "us-coordinator@us.example", "Minutes adopted")
	})
	if err := dev.kill(t, syscall.SIGTERM, 60*time.Second); err != nil {
		t.Fatalf("SIGTERM: exit %v", err)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "mail", "*.eml")); len(files) == 0 {
		t.Fatal("no mail written")
	}
}

// waitFor polls ok until it holds, failing the test after within.
func waitFor(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// get is a GET's body, which must be 200.
func get(t *testing.T, c apiClient, path string) []byte {
	t.Helper()
	status, b := c.do("GET", path, nil)
	if status != 200 {
		t.Fatalf("GET %s: %d: %s", path, status, b)
	}
	return b
}

// pdfText is the text a PDF extractor reads from b, its spaces folded.
func pdfText(t *testing.T, b []byte) string {
	t.Helper()
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("read the PDF: %v", err)
	}
	plain, err := r.GetPlainText()
	if err != nil {
		t.Fatalf("the PDF's text: %v", err)
	}
	text, err := io.ReadAll(plain)
	if err != nil {
		t.Fatalf("the PDF's text: %v", err)
	}
	return strings.Join(strings.Fields(string(text)), " ")
}
