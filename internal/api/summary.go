package api

import (
	"strings"
	"unicode/utf8"

	"pacto/internal/lifecycle"
)

// maxSummaryBytes bounds a workflow's summary text. Temporal refuses a
// summary payload over 400 bytes (limit.userMetadataSummarySize); the
// payload adds its encoding and, with a codec, its encryption to the text.
const maxSummaryBytes = 200

// workflowSummary is what Temporal shows of an activity's workflow (the
// Web UI's list and `temporal workflow list`): a line with its title in
// the proposer's language and its parties, "Equip strategic border
// points (PA, US)", and details with the title in every language and the
// dialogue. They are payloads, encoded by the client's data converter
// like any other.
func workflowSummary(s lifecycle.State) (summary, details string) {
	lang, _ := s.LanguageOf(s.ProposerParty)
	codes := make([]string, len(s.Parties))
	for i, p := range s.Parties {
		codes[i] = string(p.Code)
	}
	parties := " (" + strings.Join(codes, ", ") + ")"
	if len(parties) > maxSummaryBytes/2 {
		parties = ""
	}
	title := strings.Join(strings.Fields(s.Title.In(lang)), " ")
	summary = clipBytes(title, maxSummaryBytes-len(parties)) + parties

	var b strings.Builder
	for _, l := range s.Title.Languages() {
		b.WriteString(l + ": " + strings.Join(strings.Fields(s.Title[l]), " ") + "\n")
	}
	b.WriteString("dialogue: " + s.Dialogue + "\nproposed by: " + string(s.ProposerParty) + "\n")
	return summary, b.String()
}

// clipBytes cuts s to at most n bytes on a rune boundary, marking a cut
// with an ellipsis.
func clipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	cut := max(n-len(ellipsis), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.TrimRight(s[:cut], " ") + ellipsis
}
