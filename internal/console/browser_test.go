package console

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The browser tests play the console in a real headless Chromium: each
// person in a browser context of their own (cookies and sessions apart),
// signing in through the dev sign-in page, with axe-core checking every
// main page against WCAG 2.x A and AA.

// screenshots saves the main pages as PNG files in docs/screenshots; off
// by default so that ordinary runs rewrite nothing:
//
//	go test ./internal/console -run TestBrowserStory -screenshots
var screenshots = flag.Bool("screenshots", false, "save PNG screenshots of the console's main pages to docs/screenshots")

const (
	// The fixed window the pages are drawn (and shot) in.
	viewportWidth, viewportHeight = 1280, 900
	// axeDir holds axe-core, installed at the exact version its
	// package-lock.json pins (.ci/run does this).
	axeDir        = "testdata/axe"
	screenshotDir = "../../docs/screenshots"
	// step bounds one browser action: a page load, a click, a query.
	step = 30 * time.Second
)

// axeTags are the rule sets of WCAG 2.0, 2.1 and 2.2 at levels A and AA.
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

// axeScript is axe-core's source, checked to be the pinned version.
func axeScript(t *testing.T) string {
	t.Helper()
	const install = "install it from the repository's root with `npm ci --prefix internal/console/testdata/axe` (.ci/run does)"
	src, err := os.ReadFile(filepath.Join(axeDir, "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core is missing: %v; %s", err, install)
	}
	var pinned struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	var installed struct {
		Version string `json:"version"`
	}
	if err := readJSON(filepath.Join(axeDir, "package.json"), &pinned); err != nil {
		t.Fatal(err)
	}
	if err := readJSON(filepath.Join(axeDir, "node_modules", "axe-core", "package.json"), &installed); err != nil {
		t.Fatalf("%v; %s", err, install)
	}
	if want := pinned.Dependencies["axe-core"]; installed.Version != want {
		t.Fatalf("axe-core %s is installed, %s is pinned; %s", installed.Version, want, install)
	}
	return string(src)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}

// chrome is one headless Chromium process.
type chrome struct {
	ctx context.Context
	axe string
}

// newChrome starts Chromium for the test and stops it at the end.
func newChrome(t *testing.T) *chrome {
	t.Helper()
	axe := axeScript(t)
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("the browser tests need Chromium on PATH: %v; on Debian `apt-get install chromium` (.ci/run does)", err)
	}
	alloc, stopAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox, // Chromium refuses its sandbox as root, and most containers lack what it needs
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.WindowSize(viewportWidth, viewportHeight),
	)
	ctx, stop := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		stop()
		stopAlloc()
	})
	// The first run starts the browser, bound to ctx: no timeout on it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return &chrome{ctx: ctx, axe: axe}
}

// person is someone at their own browser: a browser context of their own
// in the one Chromium, so their cookies are theirs alone.
type person struct {
	t      *testing.T
	s      *site
	c      *chrome
	id     string
	ctx    context.Context
	checks a11yChecks
}

// a11yChecks remembers which pages axe has checked, to check each once
// per language.
type a11yChecks map[string]bool

// signIn opens a new browser context for principal id, asking for pages
// in acceptLanguage, and signs in through the dev sign-in page.
func (c *chrome) signIn(t *testing.T, s *site, checks a11yChecks, id, acceptLanguage string) *person {
	t.Helper()
	ctx, cancel := chromedp.NewContext(c.ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	p := &person{t: t, s: s, c: c, id: id, ctx: ctx, checks: checks}
	// The tab's first run opens it, bound to ctx: no timeout on it.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(viewportWidth, viewportHeight)); err != nil {
		t.Fatalf("open a browser for %s: %v", id, err)
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
		Headers: network.Headers{"Accept-Language": acceptLanguage}}); err != nil {
		t.Fatal(err)
	}
	p.open("/")
	if path := p.path(); !strings.HasPrefix(path, "/signin?") {
		t.Fatalf("%s: not sent to sign in but to %s", id, path)
	}
	p.axe("signin")
	p.follow(chromedp.Click(chromedp.CSS(`button[name="principal"][value="` + id + `"]`)))
	p.waitFor(`!!document.querySelector('form[action="/signout"]')`, "signed in as "+id)
	return p
}

// do runs browser actions, bounded in time.
func (p *person) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, step)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %s at %s: %v", p.id, what, p.path(), err)
	}
}

// js is s as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](p *person, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, step)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: evaluate %.80q: %v", p.id, expr, err)
	}
	return v
}

// path is the page's path and query.
func (p *person) path() string {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname + location.search`))
	if err != nil {
		return "?"
	}
	return v
}

// open loads a page of the site.
func (p *person) open(path string) {
	p.t.Helper()
	p.do("open "+path, chromedp.Navigate(p.s.base+path))
}

// follow runs an action that leaves the page (a click on a link or a
// button that sends a form) and waits for the next page to have loaded.
func (p *person) follow(act chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	p.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.pactoLeaving = true`))
	p.do("act", act)
	p.waitFor(`window.pactoLeaving === undefined && document.readyState === "complete"`, "the next page")
}

// waitFor polls the page until expr is true, for a step at most.
func (p *person) waitFor(expr, what string) {
	p.t.Helper()
	deadline := time.Now().Add(step)
	for {
		ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: waited %s for %s at %s (last error: %v)\n%s", p.id, step, what, p.path(), err, p.text())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// text is what the page shows (the body's rendered text).
func (p *person) text() string {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	return v
}

// in is the rendered text of the first element matching the CSS selector
// sel, or "" when there is none.
func (p *person) in(sel string) string {
	p.t.Helper()
	return eval[string](p, fmt.Sprintf(`(document.querySelector(%s) || {innerText: ""}).innerText`, js(sel)))
}

// sees fails unless the page shows each of wants.
func (p *person) sees(wants ...string) {
	p.t.Helper()
	text := p.text()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			p.t.Fatalf("%s: %s does not show %q:\n%s", p.id, p.path(), w, text)
		}
	}
}

// seesIn fails unless the element sel shows each of wants.
func (p *person) seesIn(sel string, wants ...string) {
	p.t.Helper()
	text := p.in(sel)
	for _, w := range wants {
		if !strings.Contains(text, w) {
			p.t.Fatalf("%s: %s: %s does not show %q:\n%s", p.id, p.path(), sel, w, text)
		}
	}
}

// speaks fails unless the page is in lang.
func (p *person) speaks(lang string) {
	p.t.Helper()
	if got := eval[string](p, `document.documentElement.lang`); got != lang {
		p.t.Fatalf("%s: %s is in %q, want %q", p.id, p.path(), got, lang)
	}
}

// setValue sets the value of the field sel, as a script would.
func (p *person) setValue(sel, value string) {
	p.t.Helper()
	if !eval[bool](p, fmt.Sprintf(`(e => {
		if (!e) return false;
		e.value = %s;
		e.dispatchEvent(new Event("change", {bubbles: true}));
		return e.value === %[1]s;
	})(document.querySelector(%s))`, js(value), js(sel))) {
		p.t.Fatalf("%s: cannot set %s to %q at %s", p.id, sel, value, p.path())
	}
}

// typeInto replaces the text of the field sel by typing text into it.
func (p *person) typeInto(sel, text string) {
	p.t.Helper()
	p.setValue(sel, "")
	p.do("type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// choose picks value in the select sel.
func (p *person) choose(sel, value string) {
	p.t.Helper()
	p.setValue(sel, value)
}

// click clicks sel, staying on the page.
func (p *person) click(sel string) {
	p.t.Helper()
	p.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// submit clicks sel and waits for the page it leads to.
func (p *person) submit(sel string) {
	p.t.Helper()
	p.follow(chromedp.Click(chromedp.CSS(sel)))
}

// axeViolation is one rule axe-core found broken, with the nodes.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []any  `json:"target"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

// axe checks the page with axe-core against WCAG 2.0, 2.1 and 2.2, A and
// AA, once per page name and language, and fails on any violation.
func (p *person) axe(name string) {
	p.t.Helper()
	lang := eval[string](p, `document.documentElement.lang`)
	if p.checks[name+"/"+lang] {
		return
	}
	p.checks[name+"/"+lang] = true
	vs := p.axeViolations(name)
	// Ids must be unique, for labels, descriptions and links to point at
	// one element: axe-core no longer checks it.
	if dup := eval[[]string](p, `(() => {
		const seen = new Set(), dup = new Set();
		for (const e of document.querySelectorAll("[id]")) { (seen.has(e.id) ? dup : seen).add(e.id); }
		return [...dup];
	})()`); len(dup) > 0 {
		p.t.Errorf("%s: the %s page (%s, %s) has duplicate ids: %v", p.id, name, lang, p.path(), dup)
	}
	// The page loads nothing from another origin.
	if foreign := eval[[]string](p, `performance.getEntriesByType("resource").map(e => e.name)
		.filter(u => new URL(u).origin !== location.origin)`); len(foreign) > 0 {
		p.t.Errorf("%s: the %s page (%s) loads from other origins: %v", p.id, name, p.path(), foreign)
	}
	// An error summary's links each lead to an element of the page.
	if broken := eval[[]string](p, `[...document.querySelectorAll(".error-summary a[href^='#']")]
		.map(a => a.getAttribute("href")).filter(h => !document.getElementById(h.slice(1)))`); len(broken) > 0 {
		p.t.Errorf("%s: the %s page's error summary (%s, %s) links to nothing: %v", p.id, name, lang, p.path(), broken)
	}
	if len(vs) == 0 {
		return
	}
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "\n  %s (%s): %s", v.ID, v.Impact, v.Help)
		for _, n := range v.Nodes {
			fmt.Fprintf(&b, "\n    %v\n      %s", n.Target, strings.ReplaceAll(n.Summary, "\n", "\n      "))
		}
	}
	p.t.Errorf("%s: axe-core finds %d WCAG violations on the %s page (%s, %s):%s", p.id, len(vs), name, lang, p.path(), b.String())
}

// axeViolations runs axe-core on the page as it is now.
func (p *person) axeViolations(name string) []axeViolation {
	p.t.Helper()
	if !eval[bool](p, `typeof window.axe === "object"`) {
		// Injected through the DevTools protocol: the page itself loads
		// nothing but the console's own assets.
		p.do("inject axe-core", chromedp.Evaluate[chromedp.Void](p.c.axe))
	}
	tags, _ := json.Marshal(axeTags)
	res := eval[struct {
		Violations []axeViolation `json:"violations"`
		Passes     int            `json:"passes"`
	}](p, fmt.Sprintf(`axe.run(document, {runOnly: {type: "tag", values: %s}, resultTypes: ["violations"]})
		.then(r => ({violations: r.violations, passes: r.passes.length}))`, tags))
	if res.Passes == 0 {
		p.t.Fatalf("%s: axe-core checked nothing on the %s page (%s)", p.id, name, p.path())
	}
	return res.Violations
}

// shot saves the viewport as docs/screenshots/<name>.png when the test
// runs with -screenshots.
func (p *person) shot(name string) {
	p.t.Helper()
	if !*screenshots {
		return
	}
	// The top of the page, with no control focused or hovered.
	p.do("settle the page", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0); document.activeElement && document.activeElement.blur()`),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, 0, 0))
	ctx, cancel := context.WithTimeout(p.ctx, step)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// focused describes the element that has the keyboard focus, and whether
// its focus indicator is drawn.
type focused struct {
	Tag     string `json:"tag"`
	ID      string `json:"id"`
	Name    string `json:"name"`
	Value   string `json:"value"`
	Text    string `json:"text"`
	Checked bool   `json:"checked"`
	Form    string `json:"form"`
	Visible bool   `json:"visible"`
}

func (f focused) String() string {
	return fmt.Sprintf("<%s id=%q name=%q value=%q> %q", strings.ToLower(f.Tag), f.ID, f.Name, f.Value, f.Text)
}

// focus is the focused element; it fails unless its focus is visible: the
// browser's :focus-visible applies and an outline is drawn.
func (p *person) focus() focused {
	p.t.Helper()
	f := eval[focused](p, `(() => {
		const e = document.activeElement;
		const s = getComputedStyle(e);
		return {tag: e.tagName, id: e.id, name: e.name || "", value: typeof e.value === "string" ? e.value : "",
			text: (e.innerText || "").trim().slice(0, 60), checked: !!e.checked,
			form: e.form ? e.form.getAttribute("action") : "",
			visible: e !== document.body && e.matches(":focus-visible") && s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2};
	})()`)
	if !f.Visible {
		p.t.Fatalf("%s: the keyboard focus on %s at %s is not visible", p.id, f, p.path())
	}
	return f
}

// tabTo presses Tab until the focus is on an element that match accepts,
// checking that the focus is visible on every element it passes.
func (p *person) tabTo(what string, match func(focused) bool) focused {
	p.t.Helper()
	var passed []string
	for range 100 {
		p.do("press Tab", chromedp.KeyEvent(kb.Tab))
		f := p.focus()
		if match(f) {
			return f
		}
		passed = append(passed, f.String())
	}
	p.t.Fatalf("%s: Tab never reaches %s at %s; it passes:\n%s", p.id, what, p.path(), strings.Join(passed, "\n"))
	return focused{}
}

// The whole story in the browser: Panama's coordinator proposes in
// Spanish with short-, medium- and long-term milestones (a form that is
// first refused), the US approver asks for changes, the coordinator
// amends and adds the English texts, the US approver reads what changed,
// both approvers approve (the US one with the keyboard alone), the
// minute-scale milestone turns red and its owner is reminded, an
// extension is granted by both parties, progress is reported with
// evidence and every milestone completed. Axe-core checks each main page.
func TestBrowserStory(t *testing.T) {
	began := time.Now()
	s := newSite(t)
	c := newChrome(t)
	checks := a11yChecks{}
	const (
		titleES    = "Capacitación aduanera conjunta"
		newTitleES = "Programa conjunto de capacitación aduanera"
		titleEN    = "Joint customs training programme"
		m1ES, m1EN = "Primera cohorte formada", "First cohort trained"
		m2ES, m2EN = "Manual publicado", "Handbook published"
		m3ES, m3EN = "Centro regional en funcionamiento", "Regional centre running"
		evidence   = "https://aduanas.example/informes/cohorte-1.pdf"
	)

	// Panama's coordinator reads the console in Spanish.
	pa := c.signIn(t, s, checks, "pa-coordinator", "es-PA,es;q=0.9")
	pa.speaks("es")
	pa.sees("Mi trabajo", "Nada pendiente.")
	pa.axe("mywork")
	// The checker itself: a field without a label and text too faint to
	// read, planted on the page, are found. (The style is set through the
	// DOM: the console's policy refuses inline style attributes.)
	pa.do("plant violations", chromedp.Evaluate[chromedp.Void](`(() => {
		const main = document.querySelector("main");
		main.append(document.createElement("input"));
		const p = document.createElement("p");
		p.textContent = "faint";
		p.style.color = "#ccc";
		main.append(p);
	})()`))
	planted := map[string]bool{}
	for _, v := range pa.axeViolations("mywork") {
		planted[v.ID] = true
	}
	if !planted["label"] || !planted["color-contrast"] {
		t.Fatalf("axe-core misses planted violations: it finds %v", planted)
	}
	pa.open("/activities/act_nosuchactivity")
	pa.sees("No se encontró la página")
	pa.axe("error")
	pa.submit(`nav a[href="/settings"]`)
	pa.sees("Preferencias")
	pa.axe("settings")

	// The proposal: Spanish only, three milestones added with the form's
	// own button, which works without JavaScript.
	pa.submit(`nav a[href="/activities/new"]`)
	pa.sees("Proponer una actividad")
	pa.axe("propose")
	pa.typeInto(`[name=title_es]`, titleES)
	pa.typeInto(`[name=summary_es]`, "Formar al personal de aduanas de ambas partes en el control de la carga.")
	pa.typeInto(`[name=objective0_es]`, "Formar a 40 funcionarios")
	milestone := func(i int, title, owner, in, unit string) {
		k := fmt.Sprintf("[name=m%d_", i)
		pa.typeInto(k+"title_es]", title)
		pa.choose(k+"owner]", owner)
		pa.typeInto(k+"due_in]", in)
		pa.choose(k+"due_unit]", unit)
	}
	milestone(0, m1ES, "PA", "1", "minutes")
	pa.submit(`button[name=more][value=milestone]`)
	milestone(1, m2ES, "US", "2", "years")
	pa.submit(`button[name=more][value=milestone]`)
	milestone(2, m3ES, "PA", "5", "years")
	if got := eval[string](pa, `document.querySelector("[name=m0_title_es]").value`); got != m1ES {
		t.Fatalf("adding a milestone lost the first one's title: %q", got)
	}
	pa.shot("propose")

	// Without a title the form comes back refused: the summary at the top
	// has the focus and links to the field, and nothing typed is lost.
	send := `form.content-form > button[type=submit]:not([name])`
	pa.setValue(`[name=title_es]`, "")
	pa.submit(send)
	pa.seesIn(".error-summary", "Hay un problema")
	if !eval[bool](pa, `document.activeElement.classList.contains("error-summary")`) {
		t.Fatalf("the refused form's error summary does not have the focus")
	}
	if got := eval[string](pa, `document.querySelector("[name=m2_title_es]").value`); got != m3ES {
		t.Fatalf("the refused form lost the third milestone: %q", got)
	}
	pa.axe("propose-refused")
	// So is a milestone without a title, the message beside its fields.
	pa.typeInto(`[name=title_es]`, titleES)
	pa.setValue(`[name=m1_title_es]`, "")
	pa.submit(send)
	pa.seesIn(".error-summary", "Hay un problema")
	if got := eval[string](pa, `document.querySelector(".error-summary a").getAttribute("href")`); got != "#f-milestones_1_title" {
		t.Fatalf("the summary links to %q, not the second milestone's title", got)
	}
	pa.seesIn("#f-milestones_1", "is required")
	pa.axe("propose-refused-milestone")
	pa.typeInto(`[name=m1_title_es]`, m2ES)
	pa.submit(send)
	pa.sees("Se envió su propuesta", titleES, "Propuesta", m1ES, "Corto plazo", "Mediano plazo", "Largo plazo")
	id := strings.TrimPrefix(eval[string](pa, `location.pathname`), "/activities/")
	if !strings.HasPrefix(id, "act_") {
		t.Fatalf("the proposal did not lead to its activity: %s", id)
	}
	activity := "/activities/" + id
	pa.axe("activity")

	// The US approver reads English, finds the proposal in My work and
	// asks for changes: the English texts are missing.
	us := c.signIn(t, s, checks, "us-approver", "en-US,en;q=0.9")
	us.speaks("en")
	us.seesIn(`section[aria-labelledby=w-decisions]`, titleES, "Version 1")
	us.axe("mywork")
	us.submit(`section[aria-labelledby=w-decisions] a[href="` + activity + `"]`)
	us.speaks("en")
	us.sees("Missing in English", "Your party's decision on version 1")
	us.axe("activity")
	// Changes asked without a reason are refused beside the field.
	us.click(`#d-changes`)
	us.submit(`form[action$="/decide"] button[type=submit]`)
	us.seesIn(".error-summary", "There is a problem")
	us.seesIn("#h-decide + form", "a reason is required")
	us.axe("activity-refused")
	us.click(`#d-changes`)
	us.typeInto(`#f-comment`, "Please add the English texts, and call it a programme.")
	us.submit(`form[action$="/decide"] button[type=submit]`)
	us.sees("You requested changes.", "Changes requested")

	// Panama's coordinator hears of it and amends: a new title and the
	// English texts beside the Spanish ones.
	pa.open("/")
	pa.seesIn(`section[aria-labelledby=w-inbox]`, "Cambios solicitados")
	pa.open(activity)
	pa.submit(`a[href="` + activity + `/edit"]`)
	pa.sees("Enmendar la propuesta")
	pa.axe("amend")
	pa.typeInto(`[name=title_es]`, newTitleES)
	pa.typeInto(`[name=title_en]`, titleEN)
	pa.typeInto(`[name=summary_en]`, "Train the customs staff of both parties in cargo control.")
	pa.typeInto(`[name=objective0_en]`, "Train 40 officers")
	for i, title := range []string{m1EN, m2EN, m3EN} {
		pa.typeInto(fmt.Sprintf("[name=m%d_title_en]", i), title)
	}
	pa.submit(send)
	pa.sees("La enmienda es una nueva versión", newTitleES, "Versión 2")

	// The US approver sees what changed since the version they decided on.
	us.open(activity)
	us.seesIn(`section[aria-labelledby=h-changes]`, "What changed since version 1 (now version 2)", "Title", "Milestone changed")
	us.seesIn(`section[aria-labelledby=h-changes] del`, titleES)
	us.seesIn(`section[aria-labelledby=h-changes] ins`, titleEN)
	us.axe("activity-changes")
	us.shot("activity")

	// Panama's approver approves with the mouse.
	paa := c.signIn(t, s, checks, "pa-approver", "es-PA,es;q=0.9")
	paa.open(activity)
	paa.click(`#d-approve`)
	paa.submit(`form[action$="/decide"] button[type=submit]`)
	paa.sees("Usted aprobó esta versión por su parte.")

	// The US approver approves with the keyboard alone, every control on
	// the way showing its focus.
	us.open(activity)
	us.tabTo("the Approve choice", func(f focused) bool { return f.ID == "d-approve" })
	us.do("press Space", chromedp.KeyEvent(" "))
	if f := us.focus(); f.ID != "d-approve" || !f.Checked {
		t.Fatalf("Space on Approve: focus on %s, checked %v", f, f.Checked)
	}
	us.do("press Tab", chromedp.KeyEvent(kb.Tab))
	if f := us.focus(); f.ID != "f-comment" {
		t.Fatalf("Tab after the decision goes to %s, not the comment", f)
	}
	us.do("type a comment", chromedp.KeyEvent("Approved for the United States."))
	us.do("press Tab", chromedp.KeyEvent(kb.Tab))
	if f := us.focus(); f.Tag != "BUTTON" || !strings.HasSuffix(f.Form, "/decide") {
		t.Fatalf("Tab after the comment goes to %s, not the decision's button", f)
	}
	us.follow(chromedp.KeyEvent(kb.Enter))
	us.sees("You approved this version for your party.", "Approved for the United States.")
	us.seesIn(".tags", "Active")

	// Active: the one-minute milestone is due soon (the default policy
	// warns 7 days ahead) and shows so to its owner.
	pa.open(activity)
	pa.seesIn(".tags", "Activa")
	pa.seesIn("#m-m1", m1ES, "Por vencer")
	pa.seesIn("#m-m2", m2ES, "United States")
	dueAt, err := time.Parse(time.RFC3339, eval[string](pa, `document.querySelector("#m-m1 time").getAttribute("datetime")`))
	if err != nil {
		t.Fatal(err)
	}
	pa.axe("activity-active")
	pa.open("/")
	pa.seesIn(`section[aria-labelledby=w-soon]`, m1ES, "Por vencer")

	// While the minute runs: the other main pages, in both languages.
	us.open("/activities")
	us.seesIn("table.list", titleEN, "Active")
	us.seesIn(".export", "Export CSV", "Export Excel")
	us.axe("activities")
	us.shot("activities")
	pa.submit(`nav a[href="/activities"]`)
	pa.seesIn("table.list", newTitleES, "Activa")
	pa.axe("activities")
	us.submit(`nav a[href="/inbox"]`)
	us.sees("Inbox")
	us.axe("inbox")
	us.submit(`nav a[href="/settings"]`)
	us.axe("settings")
	us.open("/activities/new") // not a coordinator: no form for them
	us.speaks("en")

	// Past the due time the milestone is red, and its owner's coordinator
	// has the overdue reminder in My work.
	deadline := dueAt.Add(45 * time.Second)
	for {
		pa.open("/")
		if strings.Contains(pa.in(`section[aria-labelledby=w-overdue]`), m1ES) &&
			strings.Contains(pa.in(`section[aria-labelledby=w-inbox]`), "Hito vencido") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("at %s, 45s past the due time %s, My work shows no overdue milestone and reminder:\n%s", time.Now().Format(time.TimeOnly), dueAt.Format(time.TimeOnly), pa.text())
		}
		time.Sleep(time.Second)
	}
	if time.Now().Before(dueAt) {
		t.Fatalf("the milestone turned red before its due time %s", dueAt)
	}
	pa.seesIn(`section[aria-labelledby=w-overdue]`, "Vencido")
	pa.shot("mywork")
	pa.submit(`nav a[href="/inbox"]`)
	pa.sees("Bandeja de entrada", "Hito vencido: "+newTitleES)
	pa.axe("inbox")
	pa.shot("inbox")

	// An extension of a month, asked by the owner and granted by both.
	pa.open(activity)
	pa.seesIn("#m-m1", "Vencido")
	pa.click(`details:has(form[action$="/milestones/m1/extensions"]) > summary`)
	pa.typeInto("#x-m1-in", "1")
	pa.choose("#x-m1-unit", "months")
	pa.typeInto("#x-m1-reason", "La segunda sede no estuvo lista a tiempo.")
	pa.axe("activity-extension-form")
	pa.submit(`form[action$="/milestones/m1/extensions"] button[type=submit]`)
	pa.sees("Se solicitó la prórroga")
	decideExtension := `form[action*="/extensions/"][action$="/decide"] button[type=submit]`
	paa.open(activity)
	paa.axe("activity-extension-decide")
	paa.submit(decideExtension)
	paa.sees("Usted aprobó la prórroga por su parte.")
	us.open("/")
	us.seesIn(`section[aria-labelledby=w-extensions]`, titleEN)
	us.submit(`section[aria-labelledby=w-extensions] a`)
	us.submit(decideExtension)
	us.sees("You approved the extension for your party.")
	pa.open(activity)
	pa.seesIn("#m-m1", "Al día")
	pa.seesIn(`section[aria-labelledby=h-extensions]`, "Aprobada")
	pa.open("/")
	if strings.Contains(pa.in(`section[aria-labelledby=w-overdue]`), m1ES) {
		t.Fatalf("the extended milestone is still overdue in My work")
	}

	// Progress with an evidence link, then every milestone completed, each
	// by a coordinator of the party that owns it.
	// An empty report is refused, its form open again with the message.
	sendReport := `form[action$="/milestones/m1/progress"] button[type=submit]:not([formaction])`
	pa.open(activity)
	pa.click(`details:has(form[action$="/milestones/m1/progress"]) > summary`)
	pa.axe("activity-progress-form")
	pa.submit(sendReport)
	pa.seesIn(".error-summary", "Hay un problema")
	pa.seesIn(`form[action$="/milestones/m1/progress"]`, "a progress report needs evidence")
	pa.axe("activity-progress-refused")
	pa.typeInto("#f-note", "Se formaron 38 funcionarios en Colón.")
	pa.typeInto("#f-evidence", evidence)
	pa.submit(sendReport)
	pa.sees("Se registró su informe de avance.", "Se formaron 38 funcionarios en Colón.")
	if !eval[bool](pa, fmt.Sprintf(`[...document.querySelectorAll("a")].some(a => a.getAttribute("href") === %s)`, js(evidence))) {
		t.Fatalf("the evidence link is not on the activity page")
	}
	complete := func(p *person, mid, flash string) {
		p.t.Helper()
		p.open(activity)
		p.click(`details:has(form[action$="/milestones/` + mid + `/progress"]) > summary`)
		p.submit(`form[action$="/milestones/` + mid + `/progress"] button[formaction$="/complete"]`)
		p.sees(flash)
	}
	complete(pa, "m1", "El hito está completado.")
	complete(pa, "m3", "El hito está completado.")
	usc := c.signIn(t, s, checks, "us-coordinator", "en-US,en;q=0.9")
	complete(usc, "m2", "The milestone is completed.")
	usc.seesIn(".tags", "Completed")
	pa.open(activity)
	pa.seesIn(".tags", "Finalizada")
	pa.seesIn(".steps li:last-child", "Finalizada")
	pa.axe("activity-completed")
	t.Logf("the story took %s in the browser (%d pages checked by axe-core)", time.Since(began).Round(time.Second), len(checks))
}
