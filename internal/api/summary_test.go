package api

import (
	"strings"
	"testing"
	"unicode/utf8"

	"pacto/internal/lifecycle"
)

// The summary is the title in the proposer's language and the parties,
// on one line and within the bytes Temporal takes, cut on a character.
func TestWorkflowSummary(t *testing.T) {
	s := lifecycle.State{
		Dialogue: "hld-pa-us", ProposerParty: "US",
		Parties: []lifecycle.Party{{Code: "PA", Language: "es"}, {Code: "US", Language: "en"}},
		Title:   lifecycle.Text{"es": "Equipar puntos\nfronterizos estratégicos", "en": "Equip strategic  border points"},
	}
	summary, details := workflowSummary(s)
	if summary != "Equip strategic border points (PA, US)" {
		t.Errorf("summary %q", summary)
	}
	if details != "en: Equip strategic border points\nes: Equipar puntos fronterizos estratégicos\ndialogue: hld-pa-us\nproposed by: US\n" {
		t.Errorf("details %q", details)
	}

	s.ProposerParty = "PA"
	s.Title = lifecycle.Text{"es": strings.Repeat("Señalización ", 40)}
	summary, _ = workflowSummary(s)
	if len(summary) > maxSummaryBytes || !utf8.ValidString(summary) || !strings.HasSuffix(summary, "… (PA, US)") || !strings.HasPrefix(summary, "Señalización Señalización") {
		t.Errorf("a long title's summary is %d bytes: %q", len(summary), summary)
	}
}
