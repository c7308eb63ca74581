package api

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func docsHTML(t *testing.T) string {
	t.Helper()
	rec := httptest.NewRecorder()
	(&Server{}).docs(rec, httptest.NewRequest(http.MethodGet, "/docs", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/docs answered %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Fatalf("/docs Content-Type %q", ct)
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none';") {
		t.Fatalf("/docs Content-Security-Policy %q", csp)
	}
	return rec.Body.String()
}

// opSection returns the HTML of one operation's section of /docs.
func opSection(t *testing.T, page, operationID string) string {
	t.Helper()
	return section(t, page, "op-"+operationID)
}

// section returns the HTML of the section of /docs with this id.
func section(t *testing.T, page, id string) string {
	t.Helper()
	start := strings.Index(page, `<section class="op" id="`+id+`">`)
	if start < 0 {
		t.Fatalf("/docs has no section %s", id)
	}
	end := strings.Index(page[start:], "</section>")
	return page[start : start+end]
}

// fieldRow returns the table row of a field (or parameter) named name in
// a section, before the first row of any later heading named after.
func fieldRow(t *testing.T, section, name string) string {
	t.Helper()
	re := regexp.MustCompile(`(?s)<tr><td><code>` + regexp.QuoteMeta(name) + `</code>.*?</tr>`)
	row := re.FindString(section)
	if row == "" {
		t.Fatalf("no row for %s in:\n%.2000s", name, section)
	}
	return row
}

// The reference lists each field of a request and a response, nested ones
// too, with its type, whether it is required and its limits.
func TestDocsListFieldsWithTheirLimits(t *testing.T) {
	page := docsHTML(t)
	propose := opSection(t, page, "proposeActivity")
	body := propose[strings.Index(propose, "<h4>Request body"):strings.Index(propose, "<h4>Responses")]
	for name, wants := range map[string][]string{
		"title":                       {"string or object", "required", "as a string, 1 to 200 characters", "each value at most 200 characters"},
		"summary":                     {"optional", "at most 20000 characters"},
		"parties":                     {"array of string", "2 to 12 items"},
		"objectives[]":                {"each item", "1 to 1000 characters"},
		"milestones":                  {"1 to 240 items"},
		"milestones[].id":             {"pattern <code>^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$</code>"},
		"milestones[].due":            {"required", "e.g. <code>2027-03-31</code>, <code>P6M</code>", "<code>P6M</code>"},
		"milestones[].indicator.unit": {"at most 32 characters"},
		"policy.overdue_reminders":    {"integer", "minimum <code>0</code>", "maximum <code>20</code>"},
		"milestones[].horizon":        {"one of <code></code>, <code>short</code>"},
	} {
		row := fieldRow(t, body, name)
		for _, w := range wants {
			if !strings.Contains(row, w) {
				t.Errorf("propose body %s row lacks %q: %s", name, w, row)
			}
		}
	}
	// Parameters, with their bounds and defaults.
	list := opSection(t, page, "listActivities")
	for _, w := range []string{"minimum <code>1</code>", "maximum <code>200</code>", "default <code>50</code>", "(query)"} {
		if row := fieldRow(t, list, "limit"); !strings.Contains(row, w) {
			t.Errorf("limit parameter row lacks %q: %s", w, row)
		}
	}
	// Response fields, nested through $refs, with a date-time format. The
	// activity, which many operations answer with, is listed once.
	get := opSection(t, page, "getActivity")
	if !strings.Contains(get, `<a href="#object-Activity">Activity</a>`) {
		t.Error("getActivity does not link to the Activity object")
	}
	activity := section(t, page, "object-Activity")
	for name, w := range map[string]string{
		"milestones[].due_at":            "string (date-time)",
		"milestones[].notes[].text":      "string",
		"extensions[].decisions[].party": "string",
		"status":                         "<code>suspended</code>",
		"policy.overdue_reminder_every":  "required",
	} {
		if row := fieldRow(t, activity, name); !strings.Contains(row, w) {
			t.Errorf("Activity %s row lacks %q: %s", name, w, row)
		}
	}
	// Error responses name their problem type.
	notFound := regexp.MustCompile(`(?s)<tr><td>404</td>.*?</tr>`).FindString(get)
	if !strings.Contains(notFound, `<a href="/docs#problem-not-found"><code>/docs#problem-not-found</code></a>`) ||
		strings.Contains(notFound, "problem-stale-version") {
		t.Errorf("getActivity's 404 should name the not-found problem type alone: %s", notFound)
	}
	// The audit event's content lists the fields its event declares.
	audit := opSection(t, page, "listAudit")
	fieldRow(t, audit, "events[].content.event.seq")
}

// Markdown in the document is rendered, never shown as source.
func TestDocsRenderMarkdown(t *testing.T) {
	page := docsHTML(t)
	if i := strings.IndexByte(page, '`'); i >= 0 {
		t.Fatalf("/docs shows a literal backtick: …%s…", page[max(0, i-80):min(len(page), i+80)])
	}
	if strings.Contains(page, "**") {
		t.Error("/docs shows literal ** markup")
	}
	for _, want := range []string{
		"<code>Authorization: Bearer &lt;token&gt;</code>", // escaped inside code
		"<strong>Errors.</strong>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("/docs lacks %s", want)
		}
	}
}

// Every operation of the document has its section, and the page loads
// nothing from anywhere else: no scripts, no external styles or images.
func TestDocsListEveryOperationSelfContained(t *testing.T) {
	page := docsHTML(t)
	documented, doc := documentOperations(t)
	if len(documented) < 30 {
		t.Fatalf("only %d operations documented", len(documented))
	}
	raw := rawOpenAPI(t)
	for path, methods := range doc.Paths {
		for method := range methods {
			op := raw["paths"].(map[string]any)[path].(map[string]any)[method].(map[string]any)
			section := opSection(t, page, op["operationId"].(string))
			if !strings.Contains(section, `<span class="m">`+strings.ToUpper(method)+`</span> <code>`+path+`</code>`) {
				t.Errorf("the section of %s %s does not show its method and path", method, path)
			}
		}
	}
	for _, bad := range []string{"<script", "<link", "src=", "@import", "url(", "<iframe", "<img"} {
		if strings.Contains(strings.ToLower(page), bad) {
			t.Errorf("/docs contains %q", bad)
		}
	}
	for _, href := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(page, -1) {
		if !strings.HasPrefix(href[1], "#") && !strings.HasPrefix(href[1], "/") {
			t.Errorf("/docs links elsewhere: %s", href[1])
		}
	}
	for _, p := range allProblemClasses {
		if !strings.Contains(page, `id="problem-`+p.slug+`"`) {
			t.Errorf("/docs lacks the anchor of problem %s", p.slug)
		}
	}
}

func TestRenderMarkdown(t *testing.T) {
	for in, want := range map[string]string{
		"Send `X-Request-Id` <b>now</b>.":                    "<p>Send <code>X-Request-Id</code> &lt;b&gt;now&lt;/b&gt;.</p>\n",
		"one\ntwo\n\nthree":                                  "<p>one two</p>\n<p>three</p>\n",
		"Classes:\n\n- `a` (1)\n- **b**\n  more":             "<p>Classes:</p>\n<ul><li><code>a</code> (1)</li><li><strong>b</strong> more</li></ul>\n",
		"[the spec](https://www.rfc-editor.org/rfc/rfc9457)": `<p><a href="https://www.rfc-editor.org/rfc/rfc9457">the spec</a></p>` + "\n",
		"[x](javascript:alert(1))":                           "<p>x)</p>\n",
		"[x](//evil.example/)":                               "<p>x</p>\n",
		"a ` alone & **open":                                 "<p>a ` alone &amp; **open</p>\n",
		"`<script>`":                                         "<p><code>&lt;script&gt;</code></p>\n",
		"":                                                   "",
	} {
		if got := string(renderMarkdown(in)); got != want {
			t.Errorf("renderMarkdown(%q) = %q, want %q", in, got, want)
		}
	}
}
