package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/temporaltest"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"pacto/internal/codec"
	"pacto/internal/pgtest"
	"pacto/workflows"

	// The SQLite driver the embedded Temporal server writes with.
	_ "modernc.org/sqlite"
)

// The texts of the codec tests' activity: distinctive, so that finding
// one anywhere can only mean it leaked.
const (
	secretTitleES   = "Censo de orquideas cebra 7731"
	secretTitleEN   = "Zebra orchid census 7731"
	secretMilestone = "Quetzal marker 5521"
	secretNote      = "Heron landing note 8812"
	// plainMarker goes into Temporal through a client without the codec:
	// the scans must find it, or they are not looking where data is.
	plainMarker = "plaintext-control-4471"
)

var secrets = []string{secretTitleES, secretTitleEN, secretMilestone, secretNote}

// plainClient dials Temporal without the codec, as anyone with access to
// the server (or its database) reads it.
func plainClient(t *testing.T, hostPort, namespace string) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: hostPort, Namespace: namespace,
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// rawHistory is the workflow's history as the server keeps it, every
// run of it, and the first run's input payloads.
func rawHistory(t *testing.T, c client.Client, workflowID string) ([]byte, []*commonpb.Payload) {
	t.Helper()
	it := c.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var all []byte
	var input []*commonpb.Payload
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", workflowID, err)
		}
		b, err := proto.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
		if a := e.GetWorkflowExecutionStartedEventAttributes(); a != nil && input == nil {
			input = a.GetInput().GetPayloads()
		}
	}
	if len(input) == 0 {
		t.Fatalf("%s has no start event with input", workflowID)
	}
	return all, input
}

// assertNoSecrets fails for every secret text in b.
func assertNoSecrets(t *testing.T, where string, b []byte) {
	t.Helper()
	for _, s := range secrets {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("%s holds %q in plain text", where, s)
		}
	}
}

// startPlainWorkflow puts plainMarker into Temporal as an input no worker
// will run, through a client without the codec.
func startPlainWorkflow(t *testing.T, c client.Client) {
	t.Helper()
	_, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: "codec-test-control", TaskQueue: "codec-test-nobody"},
		"CodecTestControl", plainMarker)
	if err != nil {
		t.Fatal(err)
	}
}

// scanSQLite reads every value of every table of the SQLite database at
// path and counts the values that hold each needle.
func scanSQLite(t *testing.T, path string, needles ...string) map[string]int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) < 10 {
		t.Fatalf("%s has only the tables %v", path, tables)
	}
	found, values := map[string]int{}, 0
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("read %s: %v", table, err)
			}
			for _, v := range vals {
				var b []byte
				switch v := v.(type) {
				case []byte:
					b = v
				case string:
					b = []byte(v)
				default:
					continue
				}
				values++
				for _, n := range needles {
					if bytes.Contains(b, []byte(n)) {
						found[n]++
					}
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		rows.Close()
	}
	t.Logf("scanned %d values in %d tables of %s", values, len(tables), filepath.Base(path))
	return found
}

// decodeThrough sends payloads to a codec endpoint's /decode as req
// describes, and returns the status and the answer.
func decodeThrough(t *testing.T, hc *http.Client, endpoint string, payloads []*commonpb.Payload, header ...string) (int, []*commonpb.Payload, []byte) {
	t.Helper()
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: payloads})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, endpoint+"/decode", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Namespace", "default")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return resp.StatusCode, nil, b
	}
	var out commonpb.Payloads
	if err := protojson.Unmarshal(b, &out); err != nil {
		t.Fatalf("decode answer %s: %v", b, err)
	}
	return resp.StatusCode, out.Payloads, b
}

// `pacto dev` encrypts what it hands to Temporal under a key it makes in
// the data dir: after an activity is proposed, refused once, amended and
// approved, the server's database holds none of its texts (but does hold
// a payload written without the codec), while the API shows them, an
// admin reads them through the codec endpoint, and the Web UI is set to
// decode through it. A restart keeps the key, and the new worker, which
// must replay the encrypted history, takes the next command.
func TestDevEncryptsPayloadsInTemporal(t *testing.T) {
	dir := traversableDir(t)
	httpPort, temporalPort, uiPort := freePort(t), freePort(t), freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	frontend := fmt.Sprintf("127.0.0.1:%d", temporalPort)
	uiOrigin := fmt.Sprintf("http://127.0.0.1:%d", uiPort)
	args := []string{"dev", "--data-dir", dir, "--http", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"--temporal-port", fmt.Sprint(temporalPort), "--ui-port", fmt.Sprint(uiPort)}
	// Configured keys would take the dev key's place.
	env := []string{codec.EnvKeys + "=", codec.EnvKeysFile + "="}

	dev := start(t, env, args...)
	waitReady(t, dev, base, 3*time.Minute)
	tokens := readTokens(t, dir)
	keyFile := filepath.Join(dir, codec.DevKeysFile)
	fi, err := os.Stat(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s has mode %v, want 0600", keyFile, fi.Mode().Perm())
	}
	keyText, _ := os.ReadFile(keyFile)
	kc, err := codec.FromFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dev.out.String(), "payload key "+kc.EncryptingKey()+" made") {
		t.Fatalf("the first start does not say it made key %s:\n%s", kc.EncryptingKey(), dev.out.String())
	}
	keys, err := codec.ParseKeys(string(keyText))
	if err != nil || len(keys) != 1 {
		t.Fatalf("the key file holds %d keys: %v", len(keys), err)
	}
	if _, secret, _ := strings.Cut(codec.FormatKey(keys[0]), ":"); strings.Contains(dev.out.String(), secret) {
		t.Fatal("pacto dev printed the key's secret")
	}

	pa := apiClient{t, base, tokens["pa-coordinator"]}
	a := pa.must("POST", "/v1/activities", map[string]any{
		"dialogue": "hld-pa-us", "parties": []string{"PA", "US"}, "title": secretTitleES,
		"milestones": []map[string]any{{"id": "m1", "title": secretMilestone, "owner": "PA", "due": "P1Y"}},
	}, 201)
	id := a["id"].(string)
	usApprover := apiClient{t, base, tokens["us-approver"]}
	// The refusal's details come back through the encrypted failure.
	if refused := usApprover.must("POST", "/v1/activities/"+id+"/decisions", map[string]any{"version": 1, "decision": "approve"}, 409); refused["language"] != "en" {
		t.Fatalf("the US approval was refused with %v; want it to name en", refused)
	}
	apiClient{t, base, tokens["us-coordinator"]}.must("PATCH", "/v1/activities/"+id, map[string]any{
		"version": 1, "title": secretTitleEN, "milestones": []map[string]any{{"id": "m1", "title": secretMilestone, "owner": "PA", "due": "P1Y"}},
	}, 200)
	apiClient{t, base, tokens["pa-approver"]}.must("POST", "/v1/activities/"+id+"/decisions", map[string]any{"version": 2, "decision": "approve"}, 200)
	active := usApprover.must("POST", "/v1/activities/"+id+"/decisions", map[string]any{"version": 2, "decision": "approve"}, 200)
	if active["status"] != "active" {
		t.Fatalf("after both approvals: %v", active["status"])
	}
	got := apiClient{t, base, tokens["us-observer"]}.must("GET", "/v1/activities/"+id, nil, 200)
	if title := got["title"].(map[string]any); title["es"] != secretTitleES || title["en"] != secretTitleEN {
		t.Fatalf("the API shows the title %v", got["title"])
	}

	// Read as the server keeps it, the history holds none of the texts;
	// its payloads are sealed under the data dir's key.
	tc := plainClient(t, frontend, "default")
	hist, input := rawHistory(t, tc, id)
	assertNoSecrets(t, "the history", hist)
	for _, p := range input {
		if string(p.Metadata[converter.MetadataEncoding]) != codec.EncodingEncrypted || string(p.Metadata[codec.MetadataKeyID]) != kc.EncryptingKey() {
			t.Fatalf("the start input's metadata is %v", p.Metadata)
		}
	}

	// An admin reads them through the codec endpoint: with a token, as the
	// temporal CLI does, and as the Web UI's page does, by the console
	// session of the admin signed in, from the UI's origin.
	status, dec, body := decodeThrough(t, http.DefaultClient, base+"/codec", input, "Authorization", "Bearer "+tokens["admin"])
	if status != 200 {
		t.Fatalf("decode as admin: %d %s", status, body)
	}
	if s := payloadText(t, dec); !strings.Contains(s, secretTitleES) || !strings.Contains(s, secretMilestone) {
		t.Fatalf("the decoded start input lacks the texts: %s", s)
	}
	if status, _, _ := decodeThrough(t, http.DefaultClient, base+"/codec", input, "Authorization", "Bearer "+tokens["pa-coordinator"]); status != 403 {
		t.Fatalf("decode as a coordinator: %d, want 403", status)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	resp, err := browser.PostForm(base+"/signin", url.Values{"principal": {"admin"}, "next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if status, dec, body := decodeThrough(t, browser, base+"/codec", input, "Origin", uiOrigin); status != 200 || !strings.Contains(payloadText(t, dec), secretTitleES) {
		t.Fatalf("decode from the UI's page with the admin's session: %d %s", status, body)
	}
	if status, _, _ := decodeThrough(t, browser, base+"/codec", input, "Origin", "http://127.0.0.1:1"); status != 403 {
		t.Fatalf("decode from another page with the admin's session: %d, want 403", status)
	}

	// The Web UI is set to decode through that endpoint, with the
	// browser's cookies.
	var settings struct {
		Codec struct {
			Endpoint           string
			IncludeCredentials bool
			PassAccessToken    bool
		}
	}
	resp, err = http.Get("http://127.0.0.1:" + fmt.Sprint(uiPort) + "/api/v1/settings")
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(resp.Body).Decode(&settings)
	resp.Body.Close()
	if err != nil || settings.Codec.Endpoint != base+"/codec" || !settings.Codec.IncludeCredentials || settings.Codec.PassAccessToken {
		t.Fatalf("the UI's codec settings: %+v, %v", settings.Codec, err)
	}

	// In a browser, the Web UI's page of the run shows the title once the
	// admin has signed in to the console, and not before.
	d, err := tc.DescribeWorkflowExecution(context.Background(), id, "")
	if err != nil {
		t.Fatal(err)
	}
	runID, uiBase := d.GetWorkflowExecutionInfo().GetExecution().GetRunId(), "http://127.0.0.1:"+fmt.Sprint(uiPort)
	if uiShows(t, base, uiBase, id, runID, "", secretTitleES, 5*time.Second) {
		t.Fatal("the Web UI shows the title to a browser nobody signed in to")
	}
	if uiShows(t, base, uiBase, id, runID, "pa-coordinator", secretTitleES, 5*time.Second) {
		t.Fatal("the Web UI shows the title to a coordinator")
	}
	if !uiShows(t, base, uiBase, id, runID, "admin", secretTitleES, 30*time.Second) {
		t.Fatal("the Web UI does not show the title to the admin signed in to the console")
	}

	startPlainWorkflow(t, tc)
	if err := dev.kill(t, syscall.SIGTERM, 60*time.Second); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}

	// The database files (history, and visibility records), stopped: no
	// value holds a text of the activity; the payload written without the
	// codec is there to find.
	found := map[string]int{}
	for _, name := range []string{"temporal.db", "temporal-visibility.db"} {
		for s, n := range scanSQLite(t, filepath.Join(dir, "temporal", name), append([]string{plainMarker}, secrets...)...) {
			found[s] += n
		}
	}
	if found[plainMarker] == 0 {
		t.Fatalf("the scan did not find the plain payload: it does not read where the history is")
	}
	for _, s := range secrets {
		if found[s] > 0 {
			t.Errorf("%d values of the Temporal databases hold %q in plain text", found[s], s)
		}
	}
	// Nor any byte of their files, freed pages included.
	files, _ := filepath.Glob(filepath.Join(dir, "temporal", "temporal*.db*"))
	if len(files) < 2 {
		t.Fatalf("Temporal's database files: %v", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		assertNoSecrets(t, filepath.Base(f), b)
	}

	// Restarted, dev keeps its key; the new worker replays the encrypted
	// history to take a progress report.
	dev = start(t, env, args...)
	waitReady(t, dev, base, 3*time.Minute)
	if again, _ := os.ReadFile(keyFile); !bytes.Equal(again, keyText) {
		t.Fatal("the restart changed the key file")
	}
	if !strings.Contains(dev.out.String(), "payload key "+kc.EncryptingKey()+", from "+keyFile) {
		t.Fatalf("the restart does not say it reuses key %s:\n%s", kc.EncryptingKey(), dev.out.String())
	}
	progress := pa.must("POST", "/v1/activities/"+id+"/milestones/m1/progress", map[string]any{"note": secretNote}, 200)
	if progress["seq"].(float64) <= active["seq"].(float64) {
		t.Fatalf("progress after the restart: seq %v, before %v", progress["seq"], active["seq"])
	}
	tc = plainClient(t, frontend, "default")
	hist, _ = rawHistory(t, tc, id)
	assertNoSecrets(t, "the history after the restart", hist)
	if err := dev.kill(t, syscall.SIGTERM, 60*time.Second); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
}

// payloadText is the decoded payloads' data, as text.
func payloadText(t *testing.T, ps []*commonpb.Payload) string {
	t.Helper()
	var s strings.Builder
	for _, p := range ps {
		if e := string(p.Metadata[converter.MetadataEncoding]); e != "json/plain" {
			t.Fatalf("a decoded payload has encoding %q", e)
		}
		s.Write(p.Data)
	}
	return s.String()
}

// payloadKeys lists, for every payload in the history's events (inputs,
// results, update answers, failures' encoded attributes, markers), the
// key that sealed it, or "plain" for a payload stored unencrypted.
func payloadKeys(t *testing.T, c client.Client, workflowID string) map[string]int {
	t.Helper()
	keys := map[string]int{}
	var visit func(m protoreflect.Message)
	visit = func(m protoreflect.Message) {
		if p, ok := m.Interface().(*commonpb.Payload); ok {
			if string(p.Metadata[converter.MetadataEncoding]) == codec.EncodingEncrypted {
				keys[string(p.Metadata[codec.MetadataKeyID])]++
			} else {
				keys["plain"]++
			}
			return
		}
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsList() && fd.Message() != nil:
				for i := range v.List().Len() {
					visit(v.List().Get(i).Message())
				}
			case fd.IsMap() && fd.MapValue().Message() != nil:
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool { visit(mv.Message()); return true })
			case fd.Message() != nil && !fd.IsList() && !fd.IsMap():
				visit(v.Message())
			}
			return true
		})
	}
	it := c.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		// Search attributes are the server's to read: never encoded.
		e = proto.Clone(e).(*historypb.HistoryEvent)
		if a := e.GetWorkflowExecutionStartedEventAttributes(); a != nil {
			a.SearchAttributes = nil
		}
		if a := e.GetUpsertWorkflowSearchAttributesEventAttributes(); a != nil {
			a.SearchAttributes = nil
		}
		visit(e.ProtoReflect())
	}
	return keys
}

// The production processes, as an operator turns the codec on and then
// rotates its key: an activity proposed while payloads were plain goes on
// once `pacto serve` restarts with key A, and again once it restarts with
// A and B, while new payloads are sealed under B; its history then holds
// payloads of all three eras and every one still reads, through the
// worker and through the codec endpoint. Without a key the process warns
// that payloads are stored in plain text.
func TestServeTurnsTheCodecOnAndRotatesItsKey(t *testing.T) {
	ctx := context.Background()
	ts := temporaltest.NewServer(temporaltest.WithT(t), temporaltest.WithBaseClientOptions(client.Options{
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
	}))
	if _, err := workflows.RegisterSearchAttributes(ctx, ts.GetDefaultClient(), ts.GetDefaultNamespace()); err != nil {
		t.Fatal(err)
	}
	db := pgtest.NewDatabase(t)
	httpPort := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	env := []string{
		"PACTO_DATABASE_URL=" + db, "TEMPORAL_ADDRESS=" + ts.GetFrontendHostPort(),
		"TEMPORAL_NAMESPACE=" + ts.GetDefaultNamespace(), "PACTO_LOG_LEVEL=info", "PACTO_LOG_FORMAT=text",
		codec.EnvKeysFile + "=",
	}
	tokens := migrateAndSeed(t, env, db)
	pa := apiClient{t, base, tokens["pa-coordinator"]}
	approve := func(who, id string, version int) map[string]any {
		return apiClient{t, base, tokens[who]}.must("POST", "/v1/activities/"+id+"/decisions", map[string]any{"version": version, "decision": "approve"}, 200)
	}
	propose := func(title string) string {
		return pa.must("POST", "/v1/activities", map[string]any{
			"dialogue": "hld-pa-us", "parties": []string{"PA", "US"}, "title": map[string]string{"es": title, "en": title},
			"milestones": []map[string]any{{"id": "m1", "title": map[string]string{"es": "Informe", "en": "Report"}, "owner": "PA", "due": "P1Y"}},
		}, 201)["id"].(string)
	}
	serve := func(keys ...codec.Key) *proc {
		t.Helper()
		var ring []string
		for _, k := range keys {
			ring = append(ring, codec.FormatKey(k))
		}
		p := start(t, append(env, codec.EnvKeys+"="+strings.Join(ring, ","), codecOriginEnv+"=https://temporal.example.gov"),
			"serve", "--http", fmt.Sprintf("127.0.0.1:%d", httpPort))
		waitReady(t, p, base, 2*time.Minute)
		return p
	}
	keyA, keyB := mustKey(t, "2026-01"), mustKey(t, "2026-07")

	// No key: plain, and said so.
	p := serve()
	if !strings.Contains(p.out.String(), "plain text") {
		t.Fatalf("no warning without a key:\n%s", p.out.String())
	}
	x := propose("Before the codec")
	if err := p.kill(t, syscall.SIGTERM, time.Minute); err != nil {
		t.Fatal(err)
	}

	// Key A: the plain history goes on.
	p = serve(keyA)
	if !strings.Contains(p.out.String(), "encrypting_key=2026-01") {
		t.Fatalf("the start does not name the encrypting key:\n%s", p.out.String())
	}
	approve("pa-approver", x, 1)
	y := propose("Under key A")
	if err := p.kill(t, syscall.SIGTERM, time.Minute); err != nil {
		t.Fatal(err)
	}

	// A and B, B newest: B encrypts, A still reads.
	p = serve(keyA, keyB)
	if out := p.out.String(); !strings.Contains(out, "encrypting_key=2026-07") || strings.Contains(out, strings.TrimPrefix(codec.FormatKey(keyB), "2026-07:")) {
		t.Fatalf("the start names the wrong key, or shows a secret:\n%s", out)
	}
	if v := approve("us-approver", x, 1); v["status"] != "active" {
		t.Fatalf("the activity from before the codec: %v", v["status"])
	}
	approve("pa-approver", y, 1)
	if v := approve("us-approver", y, 1); v["status"] != "active" {
		t.Fatalf("the activity from under key A: %v", v["status"])
	}

	tc := plainClient(t, ts.GetFrontendHostPort(), ts.GetDefaultNamespace())
	if got := payloadKeys(t, tc, x); got["plain"] == 0 || got["2026-01"] == 0 || got["2026-07"] == 0 {
		t.Fatalf("the first activity's payloads by key: %v; want plain, 2026-01 and 2026-07", got)
	}
	if got := payloadKeys(t, tc, y); got["plain"] != 0 || got["2026-01"] == 0 || got["2026-07"] == 0 {
		t.Fatalf("the second activity's payloads by key: %v; want 2026-01 and 2026-07 only", got)
	}
	_, input := rawHistory(t, tc, y)
	if string(input[0].Metadata[codec.MetadataKeyID]) != "2026-01" {
		t.Fatalf("the second activity's input is under %q", input[0].Metadata[codec.MetadataKeyID])
	}
	status, dec, body := decodeThrough(t, http.DefaultClient, base+"/codec", input, "Authorization", "Bearer "+tokens["admin"])
	if status != 200 || !strings.Contains(payloadText(t, dec), "Under key A") {
		t.Fatalf("decode the input under the older key: %d %s", status, body)
	}
	// The Web UI's origin is served; others are not.
	for origin, want := range map[string]string{"https://temporal.example.gov": "https://temporal.example.gov", "https://other.example.gov": ""} {
		req, _ := http.NewRequest(http.MethodOptions, base+"/codec/decode", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != want {
			t.Errorf("preflight from %s: allowed %q, want %q", origin, got, want)
		}
	}
	if err := p.kill(t, syscall.SIGTERM, time.Minute); err != nil {
		t.Fatal(err)
	}
}

func mustKey(t *testing.T, id string) codec.Key {
	t.Helper()
	k, err := codec.NewKey(id)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
