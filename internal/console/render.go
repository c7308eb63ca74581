package console

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"pacto/internal/api"
	"pacto/internal/delivery"
	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// pageSet is one language's pages, each parsed with the layout.
type pageSet struct {
	cat   catalog
	pages map[string]*template.Template
}

// parsePages parses every page with the layout and the partials, once per
// language, with that language's catalog and formats bound in.
func parsePages() (map[string]*pageSet, error) {
	cats, err := loadCatalogs()
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*pageSet{}
	for _, lang := range languages {
		set := &pageSet{cat: cats[lang], pages: map[string]*template.Template{}}
		for _, n := range names {
			base := strings.TrimSuffix(path.Base(n), ".html")
			if base == "layout" || base == "partials" {
				continue
			}
			t, err := template.New("layout").Funcs(funcs(lang, set.cat)).
				ParseFS(templateFS, "templates/layout.html", "templates/partials.html", n)
			if err != nil {
				return nil, fmt.Errorf("parse %s (%s): %w", n, lang, err)
			}
			set.pages[base] = t
		}
		out[lang] = set
	}
	return out, nil
}

// funcs are the templates' helpers in one language.
func funcs(lang string, cat catalog) template.FuncMap {
	return template.FuncMap{
		"t": func(key string, args ...any) string { return cat.t(key, args...) },
		// text picks the reader's language's text of a text keyed by
		// language, else the first it has.
		"text": func(t api.TextView) string { return lifecycle.Text(t).In(lang) },
		"when": func(zone string, t any) string {
			at, ok := timeOf(t)
			if !ok {
				return ""
			}
			return delivery.FormatTime(at, zone, lang)
		},
		"date": func(zone string, t any) string {
			at, ok := timeOf(t)
			if !ok {
				return ""
			}
			return shortDate(at, zone)
		},
		"iso": func(t any) string {
			at, ok := timeOf(t)
			if !ok {
				return ""
			}
			return at.UTC().Format(time.RFC3339)
		},
		"rel": func(now time.Time, t any) string {
			at, ok := timeOf(t)
			if !ok {
				return ""
			}
			return relative(cat, at, now)
		},
		"otherLanguages": func(t api.TextView) []langText {
			var out []langText
			for _, l := range lifecycle.Text(t).Languages() {
				if l != lang {
					out = append(out, langText{l, t[l]})
				}
			}
			return out
		},
		"has":    func(list []string, v string) bool { return contains(list, v) },
		"add":    func(a, b int) int { return a + b },
		"lower":  strings.ToLower,
		"query":  url.QueryEscape,
		"number": formatNumber,
		"inc":    func(i int) int { return i + 1 },
		"ptr":    func(f float64) *float64 { return &f },
		"list":   func(v ...string) []string { return v },
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
		"fieldid": fieldID,
		// problemkey is the message that says a problem's class in the
		// reader's language.
		"problemkey": func(typ string) string {
			_, slug, _ := strings.Cut(typ, "#problem-")
			return "problem." + slug
		},
		// ferr is the error to show beside the input for field, if any.
		"ferr": func(errs map[string]string, field string) *fieldErr {
			if msg, ok := errs[field]; ok {
				return &fieldErr{ID: fieldID(field), Message: msg}
			}
			return nil
		},
	}
}

// fieldErr is a refusal shown beside the input it concerns.
type fieldErr struct{ ID, Message string }

// fieldIDs turns the core's field names into the ids of the inputs
// (milestones[0].title.en → milestones_0_title_en), so an error links to
// its input.
var fieldIDs = strings.NewReplacer("[", "_", "]", "", ".", "_")

func fieldID(field string) string { return "f-" + fieldIDs.Replace(field) }

type langText struct{ Lang, Text string }

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func timeOf(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, !t.IsZero()
	case *time.Time:
		if t == nil {
			return time.Time{}, false
		}
		return *t, !t.IsZero()
	}
	return time.Time{}, false
}

// shortDate is the date as both locales write it short (M/d/y; Panama
// writes it as the US does), in zone.
func shortDate(t time.Time, zone string) string {
	loc, err := lifecycle.LoadZone(zone)
	if err != nil {
		loc = time.UTC
	}
	t = t.In(loc)
	return fmt.Sprintf("%d/%d/%d", t.Month(), t.Day(), t.Year())
}

// formatNumber writes a number without needless decimals, as both locales
// do (1,234.5).
func formatNumber(f *float64) string {
	if f == nil {
		return "—"
	}
	s := fmt.Sprintf("%.2f", *f)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	intPart, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	out := b.String()
	if frac != "" {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}

// page is what every page's template sees.
type page struct {
	Lang      string
	Zone      string // the viewer's party's time zone
	Now       time.Time
	Principal store.Principal
	PartyName string
	Dev       bool
	Nav       string
	Unread    int
	// Flash confirms what the last action did.
	Flash string
	// Problem is the refusal of the last action, with Errors naming the
	// fields it concerns (by the core's field names).
	Problem *api.Problem
	Errors  map[string]string
	D       any
}

// render writes page name with data, in the viewer's language.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	if p.Lang == "" {
		p.Lang = consoleLanguage(principalOf(r).Language)
	}
	set := c.pages[p.Lang]
	t := set.pages[name]
	if t == nil {
		c.log.ErrorContext(r.Context(), "no console page", "page", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		c.log.ErrorContext(r.Context(), "render console page", "page", name, "err", err, "request_id", requestID(r))
		http.Error(w, set.cat.t("error.internal"), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// base fills what every signed-in page needs: language, zone, names and
// the unread count.
func (c *Console) base(r *http.Request, nav string) page {
	p := principalOf(r)
	pg := page{Lang: consoleLanguage(p.Language), Zone: "UTC", Now: c.now(), Principal: p, Dev: c.dev, Nav: nav}
	if p.Party != "" {
		if parties, err := c.store.Parties(r.Context()); err == nil {
			for _, party := range parties {
				if party.Code == p.Party {
					pg.Zone, pg.PartyName = party.TimeZone, party.Name
				}
			}
		}
	}
	if ns, _, err := c.store.Inbox(r.Context(), p.ID, true, nil, 100); err == nil {
		pg.Unread = len(ns)
	}
	if f := r.URL.Query().Get("done"); f != "" {
		pg.Flash = set(c, pg.Lang).t("flash." + f)
	}
	return pg
}

func set(c *Console, lang string) catalog { return c.pages[lang].cat }

// fail shows an error page for err: the API's problem, in the viewer's
// language where the console knows the class.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	pg := c.base(r, "")
	status := http.StatusNotFound
	if !errors.Is(err, errNotFound) {
		prob := api.Describe(err)
		status = prob.Status
		if status >= 500 {
			c.log.ErrorContext(r.Context(), "console request failed", "err", err, "request_id", requestID(r))
		}
		pg.Problem = &prob
	}
	pg.D = map[string]any{"Status": status, "RequestID": requestID(r)}
	c.render(w, r, status, "error", pg)
}

// safeNext is next, checked and escaped for a sign-in link's query.
func safeNext(next string) string { return url.QueryEscape(validNext(next)) }
