package lifecycle

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Text is one material text of an activity written in each of the
// dialogue's authentic languages that has it, keyed by language tag ("es",
// "en"); each is equally authentic. A text recorded before activities were
// multilingual has a single version under the empty tag, and is written
// as the plain string it was, so the states and hashes recorded then stay
// byte for byte what they were.
type Text map[string]string

// legacy is the tag of a text recorded before texts had languages.
const legacy = ""

// Plain is a text recorded before texts had languages.
func Plain(s string) Text {
	if s == "" {
		return nil
	}
	return Text{legacy: s}
}

// MarshalJSON writes a text as an object keyed by language, or as the
// plain string a text recorded before languages was.
func (t Text) MarshalJSON() ([]byte, error) {
	if s, ok := t[legacy]; ok && len(t) == 1 {
		return json.Marshal(s)
	}
	return json.Marshal(map[string]string(t))
}

// UnmarshalJSON reads either form MarshalJSON writes.
func (t *Text) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*t = Plain(s)
		return nil
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("a text is a string or an object of strings keyed by language: %w", err)
	}
	*t = m
	return nil
}

// Languages lists the languages the text is written in, sorted; a text
// recorded before languages has none.
func (t Text) Languages() []string {
	var out []string
	for lang, s := range t {
		if lang != legacy && strings.TrimSpace(s) != "" {
			out = append(out, lang)
		}
	}
	sort.Strings(out)
	return out
}

// Has reports whether the text is written in lang.
func (t Text) Has(lang string) bool { return strings.TrimSpace(t[lang]) != "" }

// Empty reports whether the text is written in no language at all.
func (t Text) Empty() bool {
	for _, s := range t {
		if strings.TrimSpace(s) != "" {
			return false
		}
	}
	return true
}

// In returns the text for a reader of lang: in lang if it is written in
// it, else in the first of fallbacks it is written in, else the text
// recorded before languages, else in the first language it has.
func (t Text) In(lang string, fallbacks ...string) string {
	for _, l := range append([]string{lang}, fallbacks...) {
		if t.Has(l) {
			return t[l]
		}
	}
	if t.Has(legacy) {
		return t[legacy]
	}
	if langs := t.Languages(); len(langs) > 0 {
		return t[langs[0]]
	}
	return ""
}

// Equal reports whether two texts say the same in every language.
func (t Text) Equal(o Text) bool {
	if len(t.Languages()) != len(o.Languages()) || t[legacy] != o[legacy] {
		return false
	}
	for _, l := range t.Languages() {
		if t[l] != o[l] {
			return false
		}
	}
	return true
}

// checkLanguageText validates one multilingual text field: each version in
// one of the allowed languages, storable (CheckText), within max runes,
// trimmed, and, when required, present in at least one language. It
// returns the text normalised: trimmed, with empty versions dropped.
func checkLanguageText(field string, t Text, allowed []string, max int, required bool) (Text, error) {
	out := Text{}
	for _, lang := range sortedKeys(t) {
		if !slices.Contains(allowed, lang) {
			if lang == legacy {
				return nil, invalid(field, "give the text keyed by language (%s)", strings.Join(allowed, ", "))
			}
			return nil, invalid(field+"."+lang, "%q is not a language of this dialogue (%s)", lang, strings.Join(allowed, ", "))
		}
		s := strings.TrimSpace(t[lang])
		if err := checkText(field+"."+lang, s, max, false); err != nil {
			return nil, err
		}
		if s != "" {
			out[lang] = s
		}
	}
	if required && len(out) == 0 {
		return nil, invalid(field, "is required, in at least one of %s", strings.Join(allowed, ", "))
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func sortedKeys(t Text) []string {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// LacksLanguage reports whether any text that is written at all is not
// written in lang: a party that reads lang cannot approve a version while
// one of its texts lacks lang.
func LacksLanguage(lang string, texts ...Text) bool {
	for _, t := range texts {
		if !t.Empty() && !t.Has(lang) {
			return true
		}
	}
	return false
}
