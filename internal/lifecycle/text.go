package lifecycle

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
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
// plain string a text recorded before languages was (an empty text as the
// empty string it was).
func (t Text) MarshalJSON() ([]byte, error) {
	if s, ok := t[legacy]; (ok && len(t) == 1) || len(t) == 0 {
		return json.Marshal(s)
	}
	return json.Marshal(map[string]string(t))
}

// UnmarshalJSON reads either form MarshalJSON writes.
func (t *Text) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = nil
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		// Kept even when empty, so that a text given as "" is told
		// apart from one not given.
		*t = Text{legacy: s}
		return nil
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("a text is a string or an object of strings keyed by language")
	}
	if _, ok := m[legacy]; ok {
		return fmt.Errorf("a text keyed by language needs a language tag for each text")
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

func (t Text) clone() Text {
	if t == nil {
		return nil
	}
	return maps.Clone(t)
}

func cloneTexts(ts []Text) []Text {
	if ts == nil {
		return nil
	}
	out := make([]Text, len(ts))
	for i, t := range ts {
		out[i] = t.clone()
	}
	return out
}

// merged is cur with the languages t is written in replaced by t's texts;
// a language t gives as empty is removed. Neither input changes.
func (t Text) merged(cur Text) Text {
	out := cur.clone()
	if out == nil {
		out = Text{}
	}
	for lang, s := range t {
		if strings.TrimSpace(s) == "" {
			delete(out, lang)
		} else {
			out[lang] = s
		}
	}
	return out
}

// keyed returns t with a plain string (recorded or given without a
// language) keyed by lang; false if t holds lang as well, so the two
// cannot be told apart.
func (t Text) keyed(lang string) (Text, bool) {
	s, ok := t[legacy]
	if !ok {
		return t, true
	}
	if _, both := t[lang]; both {
		return nil, false
	}
	out := t.clone()
	delete(out, legacy)
	out[lang] = s
	return out, true
}

// LanguageOf is the language party p reads and approves in, if the
// activity has languages.
func (s *State) LanguageOf(p PartyCode) (string, bool) {
	party, ok := s.Party(p)
	return party.Language, ok && party.Language != ""
}

// MissingTexts names the material texts of the current version that are
// written in some language but not in lang: "title", "summary",
// "objectives[0]", "milestones[1].title", "milestones[1].indicator.unit".
// A text written in no language (an absent summary) is not missing.
func (s *State) MissingTexts(lang string) []string {
	var out []string
	check := func(field string, t Text) {
		if LacksLanguage(lang, t) {
			out = append(out, field)
		}
	}
	check("title", s.Title)
	check("summary", s.Summary)
	for i, o := range s.Objectives {
		check(fmt.Sprintf("objectives[%d]", i), o)
	}
	for i, m := range s.Milestones {
		check(fmt.Sprintf("milestones[%d].title", i), m.Title)
		if m.Indicator != nil {
			check(fmt.Sprintf("milestones[%d].indicator.unit", i), m.Indicator.Unit)
		}
	}
	return out
}

// languageTag is a language tag as dialogues name their languages: a
// two- or three-letter primary language, optionally with subtags
// ("es", "en", "pt-BR").
var languageTag = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)

// checkLanguages returns the authentic languages of a proposal under rules
// 3: those given, or else its parties' languages; every party must read
// one of them.
func checkLanguages(c Propose, parties []Party) ([]string, error) {
	langs := slices.Clone(c.Languages)
	for i, l := range langs {
		if !languageTag.MatchString(l) {
			return nil, invalid(fmt.Sprintf("languages[%d]", i), "%q is not a language tag such as es or en", l)
		}
		if slices.Contains(langs[:i], l) {
			return nil, invalid(fmt.Sprintf("languages[%d]", i), "language %q is listed twice", l)
		}
	}
	if len(langs) > maxParties {
		return nil, invalid("languages", "a dialogue may have at most %d languages", maxParties)
	}
	given := len(langs) > 0
	for i, p := range parties {
		if !languageTag.MatchString(p.Language) {
			return nil, invalid(fmt.Sprintf("parties[%d]", i), "party %q has no language to read and approve in", p.Code)
		}
		switch {
		case !given && !slices.Contains(langs, p.Language):
			langs = append(langs, p.Language)
		case given && !slices.Contains(langs, p.Language):
			return nil, invalid("languages", "the languages must include %s, the language of party %s", p.Language, p.Code)
		}
	}
	if !given {
		sort.Strings(langs)
	}
	return langs, nil
}

// assignLanguages moves an activity proposed before texts had languages to
// them (see AssignLanguages): every plain text becomes the text of the
// proposer party's language, the text the proposer wrote. The content
// hash is recomputed over the keyed texts; the version, and the approvals
// given to it, stand, as the texts have not changed.
func (s *State) assignLanguages(parties []Party, langs []string) {
	s.Languages = slices.Clone(langs)
	for i := range s.Parties {
		if j := slices.IndexFunc(parties, func(p Party) bool { return p.Code == s.Parties[i].Code }); j >= 0 {
			s.Parties[i].Language = parties[j].Language
		}
	}
	lang, _ := s.LanguageOf(s.ProposerParty)
	key := func(t Text) Text {
		k, _ := t.keyed(lang)
		if k.Empty() {
			return nil
		}
		return k
	}
	s.Title, s.Summary = key(s.Title), key(s.Summary)
	for i := range s.Objectives {
		s.Objectives[i] = key(s.Objectives[i])
	}
	for i := range s.Milestones {
		m := &s.Milestones[i]
		m.Title = key(m.Title)
		if m.Indicator != nil {
			m.Indicator.Unit = key(m.Indicator.Unit)
		}
	}
	c := Content{Title: s.Title, Summary: s.Summary, Objectives: s.Objectives, Sector: s.Sector, RecipientCountries: s.RecipientCountries, Milestones: s.Milestones}
	if c.Objectives == nil {
		c.Objectives = []Text{}
	}
	s.ContentHash = contentHash(&c)
}

// WithLanguages is s as AssignLanguages with these parties and languages
// would leave it, but without an event: how an activity not yet moved to
// languages reads. A state with languages, or whose proposer's party has
// none given, is returned as it is.
func (s State) WithLanguages(parties []Party, langs []string) State {
	i := slices.IndexFunc(parties, func(p Party) bool { return p.Code == s.ProposerParty })
	if len(s.Languages) > 0 || i < 0 || !slices.Contains(langs, parties[i].Language) {
		return s
	}
	s = s.Clone()
	s.assignLanguages(parties, langs)
	return s
}
