package store

import (
	"slices"
	"strings"
	"unicode"

	"pacto/internal/lifecycle"

	"golang.org/x/text/unicode/norm"
)

// Fold is the form in which free text is searched: lower case and without
// accents, so "capacitacion" finds "Capacitación" and "CAPACITACIÓN".
// Record stores the folded title and summary of each activity, and the
// search term is folded the same way, so a plain LIKE on the stored column
// (served by a trigram index) is accent- and case-insensitive whatever the
// database's locale.
func Fold(s string) string {
	// Canonical decomposition splits an accented letter into its base
	// letter and combining marks (ó → o + ◌́); dropping the marks leaves
	// the base letter. Recomposing afterwards keeps scripts that decompose
	// without marks (Hangul) as they were.
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return norm.NFC.String(b.String())
}

// likeEscaper makes LIKE's wildcards (and its escape character) match
// themselves, so a search for "50%" or "_" is literal.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// containsPattern is the LIKE pattern that finds the folded text anywhere.
func containsPattern(text string) string {
	return "%" + likeEscaper.Replace(Fold(text)) + "%"
}

// searchText is what the search column holds for an activity: its title
// and summary in each language they are written in, language by language,
// so a phrase running from a title into its summary is found as before.
func searchText(title, summary lifecycle.Text) string {
	var langs []string
	for _, t := range []lifecycle.Text{title, summary} {
		for lang := range t {
			langs = append(langs, lang)
		}
	}
	if len(langs) == 0 {
		langs = []string{""} // no text at all, as before languages
	}
	slices.Sort(langs)
	parts := make([]string, 0, len(langs))
	for _, lang := range slices.Compact(langs) {
		parts = append(parts, title[lang]+" "+summary[lang])
	}
	return Fold(strings.Join(parts, " "))
}
