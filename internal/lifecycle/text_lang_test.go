package lifecycle

import (
	"encoding/json"
	"strings"
	"testing"
)

// A text recorded before texts had languages is written as the plain
// string it was, so recorded states and content hashes stay the same.
func TestTextJSONKeepsLegacyStringsAsTheyWere(t *testing.T) {
	for _, c := range []struct {
		text Text
		want string
	}{
		{Plain("Capacitación <aduanera>"), `"Capacitación \u003caduanera\u003e"`},
		{Text{"es": "Capacitación", "en": "Training"}, `{"en":"Training","es":"Capacitación"}`},
		{Text{"es": "Solo español"}, `{"es":"Solo español"}`},
	} {
		b, err := json.Marshal(c.text)
		if err != nil || string(b) != c.want {
			t.Errorf("Marshal(%v) = %s, %v; want %s", c.text, b, err, c.want)
		}
		var back Text
		if err := json.Unmarshal(b, &back); err != nil || !back.Equal(c.text) {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v", b, back, err, c.text)
		}
	}
	// A field written as a string before still reads, and omitempty drops
	// an empty text as it dropped an empty string.
	var v struct {
		Title   Text `json:"title"`
		Summary Text `json:"summary,omitempty"`
	}
	if err := json.Unmarshal([]byte(`{"title":"Joint training"}`), &v); err != nil || v.Title.In("es") != "Joint training" || !v.Summary.Empty() {
		t.Fatalf("legacy state: %+v, %v", v, err)
	}
	if b, _ := json.Marshal(v); string(b) != `{"title":"Joint training"}` {
		t.Fatalf("legacy state re-encoded as %s", b)
	}
	if err := json.Unmarshal([]byte(`{"title":42}`), &v); err == nil {
		t.Fatal("a number was accepted as a text")
	}
}

func TestTextInFallsBackAsAReaderWould(t *testing.T) {
	both := Text{"es": "Capacitación", "en": "Training"}
	if both.In("es") != "Capacitación" || both.In("en") != "Training" || both.In("fr", "en") != "Training" || both.In("fr") != "Training" {
		t.Fatalf("In on %v", both)
	}
	if Plain("Old").In("es") != "Old" || Text(nil).In("es") != "" {
		t.Fatal("In on a legacy or empty text")
	}
	if got := (Text{"es": "a", "en": " "}).Languages(); len(got) != 1 || got[0] != "es" {
		t.Fatalf("a blank version counts as written: %v", got)
	}
}

func TestCheckLanguageText(t *testing.T) {
	langs := []string{"en", "es"}
	got, err := checkLanguageText("title", Text{"es": "  Capacitación ", "en": ""}, langs, 200, true)
	if err != nil || !got.Equal(Text{"es": "Capacitación"}) {
		t.Fatalf("normalised to %v, %v", got, err)
	}
	for _, c := range []struct {
		text  Text
		field string
	}{
		{Text{"fr": "Formation"}, "title.fr"},
		{Plain("no language"), "title"},
		{Text{"es": "a\x00b"}, "title.es"},
		{Text{"en": strings.Repeat("a", 201)}, "title.en"},
		{Text{}, "title"},
		{Text{"es": "   "}, "title"},
	} {
		_, err := checkLanguageText("title", c.text, langs, 200, true)
		if e, ok := err.(*Error); !ok || e.Kind != KindInvalidInput || e.Field != c.field {
			t.Errorf("checkLanguageText(%q) = %v; want invalid input naming %s", c.text, err, c.field)
		}
	}
	if got, err := checkLanguageText("summary", nil, langs, 200, false); err != nil || got != nil {
		t.Fatalf("an optional empty text: %v, %v", got, err)
	}
}

func TestLacksLanguage(t *testing.T) {
	title := Text{"es": "Capacitación", "en": "Training"}
	summary := Text{"es": "Solo en español"}
	if LacksLanguage("es", title, summary, nil) {
		t.Error("everything written is in Spanish")
	}
	if !LacksLanguage("en", title, summary) {
		t.Error("the summary lacks English")
	}
	if LacksLanguage("en", title, Text{}) {
		t.Error("an empty text lacks nothing")
	}
}
