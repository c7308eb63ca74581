package console

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"pacto/internal/api"
)

// Both languages have every message, with the same arguments in the same
// order, and every key the templates name exists.
func TestCatalogsHaveTheSameKeysAndArguments(t *testing.T) {
	cats, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	verbs := regexp.MustCompile(`%[a-z]`)
	es, en := cats["es"], cats["en"]
	for k, v := range es {
		w, ok := en[k]
		if !ok {
			t.Errorf("%q is in Spanish only", k)
			continue
		}
		if a, b := verbs.FindAllString(v, -1), verbs.FindAllString(w, -1); !slices.Equal(a, b) {
			t.Errorf("%q takes %v in Spanish and %v in English", k, a, b)
		}
		if strings.TrimSpace(v) == "" || strings.TrimSpace(w) == "" {
			t.Errorf("%q is empty", k)
		}
	}
	for k := range en {
		if _, ok := es[k]; !ok {
			t.Errorf("%q is in English only", k)
		}
	}
	// Keys written out in the templates.
	names, _ := templateFS.ReadDir("templates")
	literal := regexp.MustCompile(`\{\{-?\s*t "([a-z0-9_.]+)"|\(t "([a-z0-9_.]+)"`)
	for _, n := range names {
		b, _ := templateFS.ReadFile("templates/" + n.Name())
		for _, m := range literal.FindAllStringSubmatch(string(b), -1) {
			key := m[1] + m[2]
			if _, ok := en[key]; !ok {
				t.Errorf("%s names %q, which no catalog has", n.Name(), key)
			}
		}
	}
}

func TestRelativeTimes(t *testing.T) {
	cats, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		lang string
		at   time.Time
		want string
	}{
		{"es", now.Add(72 * time.Hour), "en 3 días"},
		{"en", now.Add(-49 * time.Hour), "2 days ago"},
		{"es", now.Add(-time.Hour), "hace 1 hora"},
		{"en", now.Add(90 * 24 * time.Hour), "in 3 months"},
		{"en", now.Add(20 * time.Second), "just now"},
		{"es", now.Add(-3 * 365 * 24 * time.Hour), "hace 3 años"},
	} {
		if got := relative(cats[c.lang], c.at, now); got != c.want {
			t.Errorf("%s %s: %q, want %q", c.lang, c.at.Sub(now), got, c.want)
		}
	}
}

// Keys the templates build from values (printf "status.%s"): one message
// for every value they can take.
func TestCatalogsNameEveryValue(t *testing.T) {
	cats, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string][]string{
		"status":        {"proposed", "active", "suspended", "declined", "expired", "cancelled", "completed"},
		"colour":        {"green", "amber", "red"},
		"decision":      {"pending", "approve", "request_changes", "decline"},
		"term":          {"short", "medium", "long"},
		"role":          {"coordinator", "approver", "observer", "admin"},
		"mstatus":       {"pending", "open", "completed"},
		"xstatus":       {"pending", "approved", "declined", "withdrawn"},
		"due":           {"minutes", "days", "months", "years"},
		"control":       {"suspend", "resume", "cancel"},
		"language":      {"es", "en", "und"},
		"changes.field": {"title", "summary", "objectives", "milestone_added", "milestone_changed", "milestone_removed"},
		"event": {"proposed", "amended", "approved", "changes_requested", "declined", "activated", "approval_reminder", "expired",
			"progress_reported", "milestone_completed", "completed", "extension_requested", "extension_decided", "extension_approved",
			"extension_declined", "milestone_due_soon", "milestone_overdue", "milestone_escalated", "suspended", "resumed", "cancelled", "languages_assigned",
			"workflow_lost", "restarted", "meeting_drafted", "statement_made", "statement_reminder", "meeting_moved", "meeting_cancelled", "report_frozen",
			"minutes_recorded", "minutes_signed", "minutes_adopted"},
		"flash": {"decided_approve", "decided_request_changes", "decided_decline", "reported", "completed", "extension_requested",
			"extension_approve", "extension_decline", "suspend", "resume", "cancel", "proposed", "amended", "read", "saved",
			"statement", "minutes", "signed"},
		"meeting.phase":   {"scheduled", "waiting", "draft", "frozen", "closed", "cancelled"},
		"meeting.explain": {"scheduled", "waiting", "draft", "frozen", "closed", "cancelled"},
	}
	for prefix, vs := range values {
		for _, v := range vs {
			for lang, cat := range cats {
				if _, ok := cat[prefix+"."+v]; !ok {
					t.Errorf("%s has no %s.%s", lang, prefix, v)
				}
			}
		}
	}
}

// Every problem class the API knows has a message saying it.
func TestCatalogsNameEveryProblemClass(t *testing.T) {
	cats, err := loadCatalogs()
	if err != nil {
		t.Fatal(err)
	}
	for _, slug := range api.ProblemClasses() {
		for lang, cat := range cats {
			if _, ok := cat["problem."+slug]; !ok {
				t.Errorf("%s has no message for problem class %s", lang, slug)
			}
		}
	}
}
