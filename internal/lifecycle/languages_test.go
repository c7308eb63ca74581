package lifecycle_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	lc "pacto/internal/lifecycle"
)

// The demo dialogue's parties with the languages their people read.
var bilingualParties = []lc.Party{
	{Code: "PA", TimeZone: "America/Panama", Language: "es"},
	{Code: "US", TimeZone: "America/New_York", Language: "en"},
	{Code: "MX", TimeZone: "America/Mexico_City", Language: "es"},
}

// spanishProposal is what the PA coordinator proposes under rules 3, in
// Spanish only (plain strings are the proposer's language).
func spanishProposal() lc.Propose {
	p := proposal()
	p.Rules = lc.CurrentRules
	p.DialogueParties = bilingualParties
	p.Title = lc.Plain("Capacitación aduanera")
	p.Summary = lc.Plain("Formar al personal de aduanas")
	p.Objectives = plains("formar a 40 funcionarios")
	p.Milestones[0].Title = lc.Plain("Taller en Colón")
	p.Milestones[0].Indicator = &lc.Indicator{Target: 40, Unit: lc.Plain("personas")}
	p.Milestones[1].Title = lc.Plain("Manual publicado")
	return p
}

// english is what the US coordinator sends to add the English texts,
// as plain strings in their own language, keeping everything else.
func english(s lc.State) lc.Amend {
	specs := specs(s)
	specs[0].Title = lc.Plain("Workshop in Colón")
	in := *specs[0].Indicator
	in.Unit = lc.Plain("people")
	specs[0].Indicator = &in
	specs[1].Title = lc.Plain("Handbook published")
	return lc.Amend{
		BaseVersion: s.Version,
		Title:       lc.Plain("Customs training"),
		Summary:     lc.Plain("Train customs staff"),
		Objectives:  plains("train 40 officers"),
		Milestones:  specs,
	}
}

func TestProposalTextsAreInTheProposersLanguage(t *testing.T) {
	s := proposed(t, spanishProposal())
	if !slices.Equal(s.Languages, []string{"en", "es"}) {
		t.Fatalf("languages %v; want the parties' en and es", s.Languages)
	}
	if lang, _ := s.LanguageOf("US"); lang != "en" {
		t.Fatalf("US reads %q", lang)
	}
	if !s.Title.Equal(lc.Text{"es": "Capacitación aduanera"}) || !s.Milestones[0].Indicator.Unit.Equal(lc.Text{"es": "personas"}) {
		t.Fatalf("texts %v, %v; want them keyed es", s.Title, s.Milestones[0].Indicator.Unit)
	}
	if got := s.MissingTexts("en"); !slices.Equal(got, []string{"title", "summary", "objectives[0]", "milestones[0].title", "milestones[0].indicator.unit", "milestones[1].title"}) {
		t.Fatalf("missing in English: %v", got)
	}
	if got := s.MissingTexts("es"); len(got) != 0 {
		t.Fatalf("missing in Spanish: %v", got)
	}
	// The state says so in JSON, as the API and the read model will.
	b, _ := json.Marshal(s)
	var back lc.State
	if err := json.Unmarshal(b, &back); err != nil || !back.Title.Equal(s.Title) || back.Parties[1].Language != "en" {
		t.Fatalf("round trip: %v, %+v", err, back.Parties)
	}
}

func TestAMissingLanguageBlocksThatPartysApproval(t *testing.T) {
	s := proposed(t, spanishProposal())
	e := refuse(t, s, lc.DecideProposal{Version: 1, Decision: lc.DecisionApprove}, approver("US"), t0.Add(time.Hour), lc.KindInvalidTransition, "")
	if e.Language != "en" || !slices.Contains(e.Missing, "title") || !slices.Contains(e.Missing, "milestones[1].title") {
		t.Fatalf("refusal %+v; want it to name en and the texts without it", e)
	}
	// Panama reads Spanish, which is all there: its approver may approve,
	// and the US may still ask for changes or decline.
	s, _ = run(t, s, lc.DecideProposal{Version: 1, Decision: lc.DecisionApprove}, approver("PA"), t0.Add(time.Hour))
	run(t, s, lc.DecideProposal{Version: 1, Decision: lc.DecisionRequestChanges, Comment: "please add the English text"}, approver("US"), t0.Add(time.Hour))

	// The US coordinator adds English; the Spanish stays, and the new
	// version needs both approvals again.
	s, evs := run(t, s, english(s), coord("US"), t0.Add(2*time.Hour))
	wantTypes(t, evs, lc.EventAmended)
	if !s.Title.Equal(lc.Text{"es": "Capacitación aduanera", "en": "Customs training"}) || s.Version != 2 {
		t.Fatalf("after the English amendment: v%d %v", s.Version, s.Title)
	}
	if !s.Milestones[0].Indicator.Unit.Equal(lc.Text{"es": "personas", "en": "people"}) || !s.Objectives[0].Equal(lc.Text{"es": "formar a 40 funcionarios", "en": "train 40 officers"}) {
		t.Fatalf("merged texts: %v, %v", s.Milestones[0].Indicator.Unit, s.Objectives)
	}
	if got := lc.PendingParties(s); !slices.Equal(got, []lc.PartyCode{"PA", "US"}) {
		t.Fatalf("pending after amendment: %v", got)
	}
	// Resubmitting the same texts changes nothing.
	if evs, err := lc.Decide(s, english(s), coord("US"), t0.Add(3*time.Hour)); err != nil || len(evs) != 0 {
		t.Fatalf("identical texts: %v, %v", types(evs), err)
	}
	s = activeAt(t, s, t0.Add(4*time.Hour))
	if s.Milestones[1].Title.In("en") != "Handbook published" || s.Milestones[1].Title.In("es") != "Manual publicado" {
		t.Fatalf("active milestone texts: %v", s.Milestones[1].Title)
	}
}

func TestACorrectedTextResetsApprovals(t *testing.T) {
	s := proposed(t, spanishProposal())
	s, _ = run(t, s, english(s), coord("US"), t0.Add(time.Hour))
	s, _ = run(t, s, lc.DecideProposal{Version: 2, Decision: lc.DecisionApprove}, approver("US"), t0.Add(2*time.Hour))
	// Panama's coordinator corrects the English title: a new version,
	// which the US must approve again.
	fix := lc.Amend{BaseVersion: 2, Title: lc.Text{"en": "Customs officer training"}, Summary: s.Summary, Objectives: s.Objectives, Milestones: specs(s)}
	s, evs := run(t, s, fix, coord("PA"), t0.Add(3*time.Hour))
	wantTypes(t, evs, lc.EventAmended)
	if s.Approvals[1].Decision != lc.DecisionPending || s.Title.In("es") != "Capacitación aduanera" || s.Title.In("en") != "Customs officer training" {
		t.Fatalf("after correcting the English title: %+v %v", s.Approvals, s.Title)
	}
	// An empty text removes its language, and the US cannot approve
	// until it is back.
	drop := lc.Amend{BaseVersion: 3, Title: lc.Text{"en": ""}, Summary: s.Summary, Objectives: s.Objectives, Milestones: specs(s)}
	s, _ = run(t, s, drop, coord("PA"), t0.Add(4*time.Hour))
	if s.Title.Has("en") || s.Version != 4 {
		t.Fatalf("the English title was not removed: v%d %v", s.Version, s.Title)
	}
	refuse(t, s, lc.DecideProposal{Version: 4, Decision: lc.DecisionApprove}, approver("US"), t0.Add(5*time.Hour), lc.KindInvalidTransition, "")
}

func TestActivationNeedsEveryAuthenticLanguage(t *testing.T) {
	// A dialogue whose texts are authentic in French too, which neither
	// party reads: both parties may approve their own languages, but the
	// last approval is refused until the French exists.
	p := spanishProposal()
	p.Languages = []string{"es", "en", "fr"}
	s := proposed(t, p)
	s, _ = run(t, s, english(s), coord("US"), t0.Add(time.Hour))
	s, _ = run(t, s, lc.DecideProposal{Version: 2, Decision: lc.DecisionApprove}, approver("PA"), t0.Add(2*time.Hour))
	e := refuse(t, s, lc.DecideProposal{Version: 2, Decision: lc.DecisionApprove}, approver("US"), t0.Add(2*time.Hour), lc.KindInvalidTransition, "")
	if e.Language != "fr" || len(e.Missing) != 6 {
		t.Fatalf("refusal %+v; want it to name fr and all six texts", e)
	}
	french := lc.Amend{BaseVersion: 2, Title: lc.Text{"fr": "Formation douanière"}, Summary: lc.Text{"fr": "Former les douaniers"},
		Objectives: []lc.Text{{"fr": "former 40 agents"}}, Milestones: specs(s)}
	french.Milestones[0].Title = lc.Text{"fr": "Atelier à Colón"}
	french.Milestones[0].Indicator = &lc.Indicator{Target: 40, Unit: lc.Text{"fr": "personnes"}}
	french.Milestones[1].Title = lc.Text{"fr": "Manuel publié"}
	s, _ = run(t, s, french, coord("PA"), t0.Add(3*time.Hour))
	activeAt(t, s, t0.Add(4*time.Hour))
}

func TestLanguageInputIsChecked(t *testing.T) {
	s := proposed(t, spanishProposal())
	amend := func(f func(a *lc.Amend)) lc.Amend {
		a := lc.Amend{BaseVersion: 1, Title: s.Title, Summary: s.Summary, Objectives: s.Objectives, Milestones: specs(s)}
		f(&a)
		return a
	}
	for _, c := range []struct {
		name  string
		cmd   lc.Command
		field string
	}{
		{"a language of no party", amend(func(a *lc.Amend) { a.Title = lc.Text{"de": "Zollschulung"} }), "title.de"},
		{"a milestone title in another", amend(func(a *lc.Amend) { a.Milestones[1].Title = lc.Text{"pt": "Manual"} }), "milestones[1].title.pt"},
		{"unstorable text in one language", amend(func(a *lc.Amend) { a.Summary = lc.Text{"en": "a\x00b"} }), "summary.en"},
		{"plain and keyed in the same language", amend(func(a *lc.Amend) { a.Title = lc.Text{"": "x", "en": "y"} }), "title"},
		{"the title removed in every language", amend(func(a *lc.Amend) { a.Title = lc.Text{"es": ""} }), "title"},
	} {
		t.Run(c.name, func(t *testing.T) { refuse(t, s, c.cmd, coord("US"), t0.Add(time.Hour), lc.KindInvalidInput, c.field) })
	}
	for _, c := range []struct {
		name  string
		f     func(p *lc.Propose)
		field string
	}{
		{"a bad language tag", func(p *lc.Propose) { p.Languages = []string{"es", "EN!"} }, "languages[1]"},
		{"a language listed twice", func(p *lc.Propose) { p.Languages = []string{"es", "es"} }, "languages[1]"},
		{"a party's language left out", func(p *lc.Propose) { p.Languages = []string{"es"} }, "languages"},
		{"a party without a language", func(p *lc.Propose) { p.DialogueParties = dialogueParties }, "parties[0]"},
		{"a text in no language of the dialogue", func(p *lc.Propose) { p.Title = lc.Text{"fr": "Formation"} }, "title.fr"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := spanishProposal()
			c.f(&p)
			refuse(t, lc.State{}, p, coord("PA"), t0, lc.KindInvalidInput, c.field)
		})
	}
}

func TestActivitiesWithoutLanguages(t *testing.T) {
	// An activity proposed under older rules takes plain strings only,
	// even when its parties now have languages.
	p := spanishProposal()
	p.Rules = 2
	s := proposed(t, p)
	if len(s.Languages) != 0 || s.Parties[0].Language != "" || s.Title.In("") != "Capacitación aduanera" {
		t.Fatalf("a rules-2 proposal: %v %+v %v", s.Languages, s.Parties, s.Title)
	}
	refuse(t, s, lc.Amend{BaseVersion: 1, Title: lc.Text{"en": "Customs training"}, Milestones: specs(s)}, coord("US"), t0.Add(time.Hour), lc.KindInvalidInput, "title")
	s = activeAt(t, s, t0.Add(time.Hour))

	// Its run moves it to languages: the plain texts become Panama's
	// Spanish, and from then on the rules of languages apply.
	assign := lc.AssignLanguages{Parties: bilingualParties, Languages: []string{"en", "es"}}
	system := lc.Principal{ID: lc.SystemActor}
	// Nobody else may: a coordinator who tried would re-key the texts.
	refuse(t, s, assign, coord("US"), t0.Add(2*time.Hour), lc.KindForbidden, "")
	moved, evs := run(t, s, assign, system, t0.Add(2*time.Hour))
	wantTypes(t, evs, lc.EventLanguagesAssigned)
	if !moved.Title.Equal(lc.Text{"es": "Capacitación aduanera"}) || !moved.Milestones[0].Indicator.Unit.Equal(lc.Text{"es": "personas"}) ||
		!moved.Objectives[0].Equal(lc.Text{"es": "formar a 40 funcionarios"}) || moved.Parties[1].Language != "en" || moved.Parties[1].TimeZone != "America/New_York" {
		t.Fatalf("moved: %+v", moved)
	}
	if moved.Version != s.Version || moved.Status != lc.StatusActive || moved.ContentHash == s.ContentHash {
		t.Fatalf("moved v%d %s hash %s; want the same version and status, a new hash", moved.Version, moved.Status, moved.ContentHash)
	}
	if !s.Title.Equal(lc.Plain("Capacitación aduanera")) {
		t.Fatal("moving changed the state it started from")
	}
	// Already moved: nothing to do. A party without a language: refused.
	if evs, err := lc.Decide(moved, assign, system, t0.Add(3*time.Hour)); err != nil || len(evs) != 0 {
		t.Fatalf("moved twice: %v, %v", types(evs), err)
	}
	refuse(t, s, lc.AssignLanguages{Parties: bilingualParties[:1], Languages: []string{"es"}}, system, t0, lc.KindInvalidInput, "parties")
	refuse(t, s, lc.AssignLanguages{Parties: bilingualParties, Languages: []string{"es"}}, system, t0, lc.KindInvalidInput, "languages")

	// A proposal still being decided on: the Spanish text resubmitted is
	// the same content, and the English can be added.
	q := proposed(t, p)
	q, _ = run(t, q, assign, system, t0.Add(time.Hour))
	same := lc.Amend{BaseVersion: 1, Title: lc.Plain("Capacitación aduanera"), Summary: q.Summary, Objectives: q.Objectives, Milestones: specs(q)}
	if evs, err := lc.Decide(q, same, coord("PA"), t0.Add(time.Hour)); err != nil || len(evs) != 0 {
		t.Fatalf("the same Spanish text after the move: %v, %v", types(evs), err)
	}
	refuse(t, q, lc.DecideProposal{Version: 1, Decision: lc.DecisionApprove}, approver("US"), t0.Add(time.Hour), lc.KindInvalidTransition, "")
	q, _ = run(t, q, english(q), coord("US"), t0.Add(time.Hour))
	activeAt(t, q, t0.Add(2*time.Hour))
}
