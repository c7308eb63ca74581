package review

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"pacto/internal/lifecycle"
)

// TestCatalogsHaveTheSameKeys: a message in one language only would show
// its key to the readers of the other.
func TestCatalogsHaveTheSameKeys(t *testing.T) {
	es, en := slices.Sorted(maps.Keys(messages["es"])), slices.Sorted(maps.Keys(messages["en"]))
	if !slices.Equal(es, en) {
		t.Fatalf("es and en differ:\nes %q\nen %q", es, en)
	}
	for _, key := range es {
		if strings.Count(messages["es"][key], "%") != strings.Count(messages["en"][key], "%") {
			t.Errorf("%s takes different arguments in es and en", key)
		}
	}
	var keys []string
	for _, s := range states {
		keys = append(keys, "state."+s)
	}
	for _, h := range terms {
		keys = append(keys, "term."+string(h))
	}
	for _, s := range []lifecycle.Status{lifecycle.StatusProposed, lifecycle.StatusActive, lifecycle.StatusSuspended,
		lifecycle.StatusDeclined, lifecycle.StatusExpired, lifecycle.StatusCancelled, lifecycle.StatusCompleted} {
		keys = append(keys, "status."+string(s))
	}
	for _, k := range keys {
		if _, ok := messages["es"][k]; !ok {
			t.Errorf("no message %s", k)
		}
	}
}

func TestLanguage(t *testing.T) {
	for in, want := range map[string]string{"es": "es", "es-PA": "es", "EN": "en", "en-US": "en"} {
		if got, err := language(in); err != nil || got != want {
			t.Errorf("language(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "fr", "pt-BR"} {
		if _, err := language(in); err == nil {
			t.Errorf("language(%q) was accepted", in)
		}
	}
}
