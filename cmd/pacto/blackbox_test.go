package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// These tests run the real binary as a user would, over HTTP on loopback,
// and clean up every process they start even when they fail.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	binDir    string
)

// pactoBinary builds cmd/pacto once per test binary.
func pactoBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "pacto-bin-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "pacto")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// traversableDir is a temp dir the postgres user can reach when the tests
// run as root (t.TempDir is 0700).
func traversableDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pacto-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// proc is a running pacto process.
type proc struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs the binary with args; the process (and its group) is killed
// when the test ends if still running.
func start(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	return startBinary(t, pactoBinary(t), env, args...)
}

// startBinary is start with another build of pacto.
func startBinary(t *testing.T, bin string, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, out: out, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
		if t.Failed() {
			t.Logf("output of pacto %s:\n%s", strings.Join(args, " "), out.String())
		}
	})
	return p
}

// kill sends sig and waits for the process to exit.
func (p *proc) kill(t *testing.T, sig syscall.Signal, within time.Duration) error {
	t.Helper()
	_ = p.cmd.Process.Signal(sig)
	select {
	case err := <-p.done:
		p.done <- err
		return err
	case <-time.After(within):
		t.Fatalf("pacto did not exit within %s of %s", within, sig)
		return nil
	}
}

// waitReady polls /readyz until it answers 200.
func waitReady(t *testing.T, p *proc, base string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("pacto exited before it was ready: %v\n%s", err, p.out.String())
		default:
		}
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("not ready within %s:\n%s", within, p.out.String())
}

// apiClient speaks to a running API with a token.
type apiClient struct {
	t     *testing.T
	base  string
	token string
}

func (c apiClient) do(method, path string, body any) (int, []byte) {
	c.t.Helper()
	return c.doKey(method, path, "", body)
}

// doKey sends a request with an Idempotency-Key (none if key is empty).
func (c apiClient) doKey(method, path, key string, body any) (int, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequestWithContext(context.Background(), method, c.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (c apiClient) must(method, path string, body any, status int) map[string]any {
	c.t.Helper()
	got, b := c.do(method, path, body)
	if got != status {
		c.t.Fatalf("%s %s: %d, want %d: %s", method, path, got, status, b)
	}
	var v map[string]any
	_ = json.Unmarshal(b, &v)
	return v
}

func readTokens(t *testing.T, dir string) map[string]string {
	t.Helper()
	path := filepath.Join(dir, "dev-tokens.json")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s has mode %v, want 0600", path, fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	var tokens map[string]string
	if err := json.Unmarshal(b, &tokens); err != nil || len(tokens) != 7 {
		t.Fatalf("dev tokens %s: %v", b, err)
	}
	return tokens
}

// inboxHas reports whether the principal's inbox holds an event of kind
// about the activity.
func inboxHas(c apiClient, activity, kind string) bool {
	_, b := c.do("GET", "/v1/inbox?limit=200", nil)
	var page struct {
		Notifications []struct {
			Activity string `json:"activity"`
			Kind     string `json:"kind"`
		} `json:"notifications"`
	}
	_ = json.Unmarshal(b, &page)
	for _, n := range page.Notifications {
		if n.Activity == activity && n.Kind == kind {
			return true
		}
	}
	return false
}

// The README walkthrough against `pacto dev`, with the process killed
// with SIGKILL once the activity is active: after a restart nothing
// accepted is lost and the reminder that fell due while it was down
// arrives.
func TestDevWalkthroughSurvivesSIGKILL(t *testing.T) {
	dir := traversableDir(t)
	httpPort, temporalPort := freePort(t), freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	args := []string{"dev", "--data-dir", dir, "--http", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"--temporal-port", fmt.Sprint(temporalPort), "--ui-port", "0"}

	pactoBinary(t) // build first, so the timings below are pacto's own
	firstStart := time.Now()
	dev := start(t, nil, args...)
	waitReady(t, dev, base, 3*time.Minute)
	t.Logf("first start ready in %s", time.Since(firstStart).Round(time.Millisecond))
	tokens := readTokens(t, dir)
	if !strings.Contains(dev.out.String(), tokens["pa-coordinator"]) {
		t.Fatal("the first start did not print the demo tokens")
	}
	// Panama proposes in Spanish only: a plain string is in the caller's
	// party's language. Each party owns a milestone.
	pa := apiClient{t, base, tokens["pa-coordinator"]}
	a := pa.must("POST", "/v1/activities", map[string]any{
		"dialogue": "hld-pa-us", "parties": []string{"PA", "US"},
		"title": "Capacitación aduanera conjunta",
		"milestones": []map[string]any{{"id": "m1", "title": "Primera cohorte formada", "owner": "PA", "due": "PT20S"},
			{"id": "m2", "title": "Manual publicado", "owner": "US", "due": "PT20S"}},
		"policy": map[string]any{"due_soon_lead": "PT0S", "overdue_reminder_every": "PT10S", "overdue_reminders": 2},
	}, 201)
	id := a["id"].(string)
	usApprover := apiClient{t, base, tokens["us-approver"]}
	// The US approver cannot approve a version without its English texts.
	refused := usApprover.must("POST", "/v1/activities/"+id+"/decisions", map[string]any{"version": 1, "decision": "approve"}, 409)
	if refused["language"] != "en" {
		t.Fatalf("the US approval was refused with %v; want it to name en", refused)
	}
	// The US coordinator adds them, in English; the Spanish stays.
	amended := apiClient{t, base, tokens["us-coordinator"]}.must("PATCH", "/v1/activities/"+id, map[string]any{
		"version": 1, "title": "Joint customs training",
		"milestones": []map[string]any{{"id": "m1", "title": "First cohort trained", "owner": "PA", "due": "PT20S"},
			{"id": "m2", "title": "Handbook published", "owner": "US", "due": "PT20S"}},
	}, 200)
	if title := amended["title"].(map[string]any); amended["version"] != 2.0 || title["es"] != "Capacitación aduanera conjunta" || title["en"] != "Joint customs training" {
		t.Fatalf("after the English amendment: version %v title %v", amended["version"], amended["title"])
	}
	apiClient{t, base, tokens["pa-approver"]}.must("POST", "/v1/activities/"+id+"/decisions", map[string]any{"version": 2, "decision": "approve"}, 200)
	active := usApprover.must("POST", "/v1/activities/"+id+"/decisions", map[string]any{"version": 2, "decision": "approve"}, 200)
	if active["status"] != "active" {
		t.Fatalf("after both approvals: %v", active["status"])
	}
	due, _ := time.Parse(time.RFC3339Nano, active["milestones"].([]any)[0].(map[string]any)["due_at"].(string))

	dev.kill(t, syscall.SIGKILL, 30*time.Second)
	// Stay down until the milestone is overdue.
	time.Sleep(time.Until(due.Add(2 * time.Second)))

	restart := time.Now()
	dev = start(t, nil, args...)
	waitReady(t, dev, base, 3*time.Minute)
	t.Logf("restart after SIGKILL ready in %s", time.Since(restart).Round(time.Millisecond))
	if strings.Contains(dev.out.String(), tokens["pa-coordinator"]) {
		t.Fatal("a restart printed the tokens again")
	}
	got := apiClient{t, base, tokens["us-observer"]}.must("GET", "/v1/activities/"+id, nil, 200)
	if got["status"] != "active" || got["seq"].(float64) < active["seq"].(float64) {
		t.Fatalf("after restart: status %v seq %v; before the kill: seq %v", got["status"], got["seq"], active["seq"])
	}
	deadline := time.Now().Add(60 * time.Second)
	for !inboxHas(pa, id, "milestone_overdue") {
		if time.Now().After(deadline) {
			t.Fatal("the overdue reminder never reached the PA coordinator's inbox")
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("overdue reminder arrived %s after the restart was ready", time.Since(restart).Round(time.Millisecond))
	// Without SMTP, dev writes each mail as an .eml file: the approval
	// requests, and each coordinator's reminder in their own language,
	// with their own language's titles.
	deadline = time.Now().Add(60 * time.Second)
	for !mailed(t, dir, "To: ", "pa-coordinator@pa.example", "Hito vencido: Capacitación aduanera conjunta", "Primera cohorte formada") ||
		!mailed(t, dir, "To: ", "us-coordinator@us.example", "Milestone overdue: Joint customs training", "Handbook published") {
		if time.Now().After(deadline) {
			t.Fatal("no reminder mail in Spanish for the PA coordinator and in English for the US coordinator under " + filepath.Join(dir, "mail"))
		}
		time.Sleep(500 * time.Millisecond)
	}
	if mailed(t, dir, "us-coordinator@us.example", "Milestone overdue", "Capacitación") || mailed(t, dir, "pa-coordinator@pa.example", "Hito vencido", "Joint customs training") {
		t.Fatal("a coordinator's reminder carries the other party's text")
	}
	if !mailed(t, dir, "us-approver@us.example", "Approval requested for an amended version: Joint customs training") {
		t.Fatal("no approval request mail in English for the US approver")
	}

	if err := dev.kill(t, syscall.SIGTERM, 60*time.Second); err != nil {
		t.Fatalf("SIGTERM: exit %v", err)
	}
	if !strings.Contains(dev.out.String(), "stopping") {
		t.Fatal("no orderly stop on SIGTERM")
	}
}

// mailed reports whether an .eml file under the data dir holds every part.
func mailed(t *testing.T, dir string, parts ...string) bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "mail", "*.eml"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// Quoted-printable may wrap lines and escape accents, and the
		// subject is an encoded word when it is not ASCII: compare with
		// the text as a person reads it too.
		text := strings.ReplaceAll(string(b), "=\r\n", "")
		if dec, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(b))); err == nil {
			text += "\n" + string(dec)
		}
		if m, err := mail.ReadMessage(bytes.NewReader(b)); err == nil {
			if subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err == nil {
				text += "\nSubject: " + subject
			}
		}
		all := true
		for _, p := range parts {
			all = all && strings.Contains(text, p)
		}
		if all {
			return true
		}
	}
	return false
}

// `pacto bench --quick` runs on the embedded default and prints its table,
// with the JSON beside it.
func TestBenchQuick(t *testing.T) {
	out := filepath.Join(traversableDir(t), "bench.json")
	p := start(t, nil, "bench", "--quick", "--out", out)
	if err := p.wait(t, 5*time.Minute); err != nil {
		t.Fatalf("pacto bench --quick: %v\n%s", err, p.out.String())
	}
	text := p.out.String()
	for _, want := range []string{"API proposals/s", "CPU per request", "approval round trip", "bare Temporal round trip (start + 2 Updates)", "bare Temporal Update", "reminder lateness", "GET /v1/activities/{id} at 1000", "worklist (proposed, pending US, text) at 1000", "PostgreSQL size",
		"console My work at 1000", "console activity page at 1000", "console page weight", "IATI export", "while reminders fired", "while reads ran at 1000"} {
		if !strings.Contains(text, want) {
			t.Errorf("the table lacks %q:\n%s", want, text)
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Throughput []struct {
			Concurrency int     `json:"concurrency"`
			Ratio       float64 `json:"ratio"`
			APICPU      struct {
				MachineMs float64 `json:"machine_ms"`
				ProcessMs float64 `json:"process_ms"`
			} `json:"api_cpu"`
			BareCPU struct {
				MachineMs float64 `json:"machine_ms"`
			} `json:"bare_sdk_cpu"`
		} `json:"throughput"`
		Reminders struct {
			Count int `json:"count"`
		} `json:"reminder_lateness"`
		ReminderCPU struct {
			Seconds      float64 `json:"seconds"`
			ProcessCores float64 `json:"process_cores"`
			MachineBusy  float64 `json:"machine_busy"`
		} `json:"reminder_cpu"`
		Exports []struct {
			Activities int     `json:"activities"`
			MB         float64 `json:"mb"`
		} `json:"iati_exports"`
		Memory struct {
			Open  int `json:"open_activities"`
			Cache int `json:"workflow_cache"`
		} `json:"memory"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	// The export of a dialogue of 1,000 published activities.
	if len(res.Exports) != 1 || res.Exports[0].Activities != 1000 || res.Exports[0].MB <= 0 {
		t.Fatalf("bench JSON's IATI export: %s", b)
	}
	if len(res.Throughput) != 2 || res.Throughput[1].Concurrency != 32 || res.Throughput[1].Ratio <= 0 || res.Reminders.Count != 50 ||
		res.ReminderCPU.Seconds <= 0 || res.ReminderCPU.ProcessCores <= 0 || res.ReminderCPU.MachineBusy <= 0 || res.ReminderCPU.MachineBusy > 1 {
		t.Fatalf("bench JSON: %s", b)
	}
	// What a request cost: a proposal does more than a bare start, in
	// this process and in PostgreSQL, which the machine's share counts.
	for _, tp := range res.Throughput {
		if tp.BareCPU.MachineMs <= 0 || tp.APICPU.ProcessMs <= 0 || tp.APICPU.MachineMs < tp.APICPU.ProcessMs {
			t.Fatalf("bench JSON's CPU per request at concurrency %d: %s", tp.Concurrency, b)
		}
	}
	// Every reminder fired though the worker kept fewer workflows than
	// were open: those it had let go were replayed when their timers fired.
	if res.Memory.Cache != 5 || res.Memory.Open < 150 {
		t.Fatalf("bench JSON: %d open activities, a cache of %d; want 150 or more, and 5", res.Memory.Open, res.Memory.Cache)
	}
	t.Logf("\n%s", text)
}

// `pacto bench --quick --cluster` runs the same measures on a Temporal
// cluster whose four services are child processes of pacto, and adds
// their memory and database growth to the table.
func TestBenchQuickOnACluster(t *testing.T) {
	out := filepath.Join(traversableDir(t), "bench.json")
	p := start(t, nil, "bench", "--quick", "--cluster", "--out", out)
	if err := p.wait(t, 5*time.Minute); err != nil {
		t.Fatalf("pacto bench --quick --cluster: %v\n%s", err, p.out.String())
	}
	text := p.out.String()
	for _, want := range []string{"Temporal: cluster (frontend, history, matching and worker processes", "API proposals/s", "reminder lateness",
		"console activity page at 1000", "Temporal services", "Temporal's PostgreSQL"} {
		if !strings.Contains(text, want) {
			t.Errorf("the table lacks %q:\n%s", want, text)
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Temporal  string `json:"temporal"`
		Reminders struct {
			Count int `json:"count"`
		} `json:"reminder_lateness"`
		Memory struct {
			TemporalRSS float64 `json:"temporal_rss_mb"`
			TemporalPG  float64 `json:"temporal_postgres_mb_per_1000"`
		} `json:"memory"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.Temporal, "cluster") || res.Reminders.Count != 50 || res.Memory.TemporalRSS <= 0 || res.Memory.TemporalPG <= 0 {
		t.Fatalf("bench JSON: %s", b)
	}
	t.Logf("\n%s", text)
}
