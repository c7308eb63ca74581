package console

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"pacto/internal/store"
)

//go:embed messages/*.json
var messageFS embed.FS

// languages are the console's languages, the first the default.
var languages = []string{"es", "en"}

// catalog is one language's messages by key. A message may hold fmt verbs
// for its arguments; both languages' versions of a key take the same.
type catalog map[string]string

// loadCatalogs reads each language's messages: messages/<lang>.json and
// any messages/<part>.<lang>.json beside it (a part of the console keeps
// its messages in a file of its own).
func loadCatalogs() (map[string]catalog, error) {
	out := map[string]catalog{}
	for _, lang := range languages {
		files, err := fs.Glob(messageFS, "messages/*"+lang+".json")
		if err != nil {
			return nil, err
		}
		c := catalog{}
		for _, f := range files {
			if base := path.Base(f); base != lang+".json" && !strings.HasSuffix(base, "."+lang+".json") {
				continue
			}
			b, err := messageFS.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", f, err)
			}
			var part catalog
			if err := json.Unmarshal(b, &part); err != nil {
				return nil, fmt.Errorf("parse %s: %w", f, err)
			}
			for k, v := range part {
				if _, dup := c[k]; dup {
					return nil, fmt.Errorf("%s: message %q is defined twice", f, k)
				}
				c[k] = v
			}
		}
		if len(c) == 0 {
			return nil, fmt.Errorf("no %s messages", lang)
		}
		out[lang] = c
	}
	return out, nil
}

// t is a message in the catalog, with args; a missing key shows as itself
// so that it is seen, and a test keeps the catalogs complete.
func (c catalog) t(key string, args ...any) string {
	m, ok := c[key]
	if !ok {
		return key
	}
	if len(args) == 0 {
		return m
	}
	return fmt.Sprintf(m, args...)
}

// languageCookie keeps a language chosen on the console for this browser.
const languageCookie = "pacto_lang"

// languageOf is the language the console speaks to p: chosen on this
// browser, else p's own, else Spanish.
func (c *Console) languageOf(r *http.Request, p store.Principal) string {
	if ck, err := r.Cookie(languageCookie); err == nil && slices.Contains(languages, ck.Value) {
		return ck.Value
	}
	return consoleLanguage(p.Language)
}

// consoleLanguage maps a language tag onto one the console speaks.
func consoleLanguage(tag string) string {
	primary, _, _ := strings.Cut(strings.ToLower(tag), "-")
	if slices.Contains(languages, primary) {
		return primary
	}
	return languages[0]
}

// relative says how far t is from now as people say it: "en 3 días",
// "2 days ago", "today".
func relative(cat catalog, t, now time.Time) string {
	d := t.Sub(now)
	future := d >= 0
	if !future {
		d = -d
	}
	var n int
	var unit string
	switch {
	case d < time.Minute:
		return cat.t("rel.now")
	case d < time.Hour:
		n, unit = int(d/time.Minute), "minute"
	case d < 48*time.Hour:
		n, unit = int(d/time.Hour), "hour"
	case d < 60*24*time.Hour:
		n, unit = int(d/(24*time.Hour)), "day"
	case d < 730*24*time.Hour:
		n, unit = int(d/(30*24*time.Hour)), "month"
	default:
		n, unit = int(d/(365*24*time.Hour)), "year"
	}
	if n != 1 {
		unit += "s"
	}
	amount := cat.t("rel."+unit, n)
	if future {
		return cat.t("rel.in", amount)
	}
	return cat.t("rel.ago", amount)
}
