package workflows

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"pacto/internal/lifecycle"
)

// system is the actor Pacto sends assign_languages as.
var system = lifecycle.Principal{ID: lifecycle.SystemActor}

// plainIn is p with every material text a plain string: its text in lang.
// A plain string in a command is in the language of the actor's party.
func plainIn(p lifecycle.Propose, lang string) lifecycle.Propose {
	plain := func(t lifecycle.Text) lifecycle.Text { return lifecycle.Plain(t[lang]) }
	p.Title, p.Summary = plain(p.Title), plain(p.Summary)
	objectives := make([]lifecycle.Text, len(p.Objectives))
	for i, o := range p.Objectives {
		objectives[i] = plain(o)
	}
	p.Objectives = objectives
	p.Milestones = slices.Clone(p.Milestones)
	for i := range p.Milestones {
		m := &p.Milestones[i]
		m.Title = plain(m.Title)
		if m.Indicator != nil {
			in := *m.Indicator
			in.Unit = plain(in.Unit)
			m.Indicator = &in
		}
	}
	return p
}

// spanishProposal is what PA's coordinator proposes in Spanish only: the
// texts of proposal(id) as plain strings, which are PA's language.
func spanishProposal(id string) lifecycle.Propose { return plainIn(proposal(id), "es") }

// beforeLanguages is spanishProposal as an activity was proposed before
// texts had languages: its dialogue's parties read no language, and it is
// decided under rules 2.
func beforeLanguages(id string) lifecycle.Propose {
	p := spanishProposal(id)
	p.DialogueParties = slices.Clone(p.DialogueParties)
	for i := range p.DialogueParties {
		p.DialogueParties[i].Language = ""
	}
	p.Rules = 2
	return p
}

// englishAmendment is what the US coordinator sends to add the English
// texts to the given version of spanishProposal's content: plain strings,
// which are the US's language, and the same milestones.
func englishAmendment(version int) lifecycle.Amend {
	e := plainIn(proposal(""), "en")
	return lifecycle.Amend{BaseVersion: version, Title: e.Title, Summary: e.Summary, Objectives: e.Objectives, Milestones: e.Milestones}
}

// assignLanguages is the command that moves an activity of the harness's
// dialogue to its languages.
func assignLanguages() lifecycle.AssignLanguages {
	return lifecycle.AssignLanguages{Parties: dialogueParties, Languages: []string{"en", "es"}}
}

// wantBothTexts fails unless every material text of s is the bilingual
// text of proposal(), keyed by language.
func wantBothTexts(t *testing.T, what string, s lifecycle.State) {
	t.Helper()
	want := proposal("")
	ok := s.Title.Equal(want.Title) && s.Summary.Equal(want.Summary) &&
		len(s.Objectives) == 1 && s.Objectives[0].Equal(want.Objectives[0]) &&
		len(s.Milestones) == 1 && s.Milestones[0].Title.Equal(want.Milestones[0].Title) &&
		s.Milestones[0].Indicator != nil && s.Milestones[0].Indicator.Unit.Equal(want.Milestones[0].Indicator.Unit)
	if !ok {
		t.Fatalf("%s: texts %v / %v / %v / %v; want each in English and Spanish", what, s.Title, s.Summary, s.Objectives, s.Milestones)
	}
}

// wantMissingEnglish fails unless o was refused by its validator with the
// core's invalid_transition naming English and the texts without it.
func wantMissingEnglish(t *testing.T, o *outcome, fields ...string) {
	t.Helper()
	wantRejected(t, o, lifecycle.KindInvalidTransition)
	ce, ok := CoreError(o.rejected)
	if !ok {
		return // reported by wantRejected
	}
	if ce.Language != "en" {
		t.Errorf("update %s refused naming language %q (%s); want en", o.name, ce.Language, ce.Message)
	}
	for _, f := range fields {
		if !slices.Contains(ce.Missing, f) {
			t.Errorf("update %s refused with missing %v; want %s among them", o.name, ce.Missing, f)
		}
	}
}

// approvals lists the recorded approvals as "party v<version>".
func approvals(rec *recorder) []string {
	var out []string
	for _, e := range eventsOf(rec, lifecycle.EventApproved) {
		out = append(out, fmt.Sprintf("%s v%d", e.Party, e.Version))
	}
	return out
}

// PA's coordinator proposes in Spanish only. The US approver cannot
// approve what the US cannot read: the Update is refused naming English
// and leaves no trace, while PA's approver may approve. The US coordinator
// adds the English as plain strings, their language; the amendment keeps
// the Spanish, both approve the new version and the activity runs with
// every text in both languages.
func TestSpanishProposalWaitsForTheEnglishText(t *testing.T) {
	h := newHarness(t, t0, &recorder{})
	var proposed lifecycle.State
	h.at(time.Minute, func() { proposed = h.query() })
	usEarly := send(h, time.Hour, UpdateDecide, usApprover, approve(1))
	paFirst := send(h, 2*time.Hour, UpdateDecide, paApprover, approve(1))
	amend := send(h, 3*time.Hour, UpdateAmend, usCoord, englishAmendment(1))
	paSecond := send(h, 4*time.Hour, UpdateDecide, paApprover, approve(2))
	usSecond := send(h, 5*time.Hour, UpdateDecide, usApprover, approve(2))
	done := send(h, 10*day, UpdateCompleteMilestone, paCoord, lifecycle.CompleteMilestone{MilestoneID: "m1", Note: "Primera cohorte lista"})
	final := h.run(Proposal(paCoord, spanishProposal("act-languages")))

	if proposed.Rules != InputVersion || !slices.Equal(proposed.Languages, []string{"en", "es"}) {
		t.Fatalf("proposed under rules %d with languages %v; want rules %d, en and es", proposed.Rules, proposed.Languages, InputVersion)
	}
	if lang, _ := proposed.LanguageOf("US"); lang != "en" {
		t.Fatalf("the US reads %q, want en", lang)
	}
	es := spanishProposal("")
	if !proposed.Title.Equal(lifecycle.Text{"es": es.Title[""]}) || !proposed.Milestones[0].Indicator.Unit.Equal(lifecycle.Text{"es": "funcionarios"}) {
		t.Fatalf("proposed texts %v, %v; want the plain strings keyed es, PA's language", proposed.Title, proposed.Milestones[0].Indicator.Unit)
	}
	wantMissing := []string{"title", "summary", "objectives[0]", "milestones[0].title", "milestones[0].indicator.unit"}
	if got := proposed.MissingTexts("en"); !slices.Equal(got, wantMissing) {
		t.Fatalf("missing in English %v, want %v", got, wantMissing)
	}

	wantMissingEnglish(t, usEarly, wantMissing...)
	wantAccepted(t, paFirst, amend, paSecond, usSecond, done)
	if a := amend.state; a.Version != 2 || !slices.Equal(lifecycle.PendingParties(a), []lifecycle.PartyCode{"PA", "US"}) {
		t.Fatalf("after the English amendment: version %d pending %v; want version 2 awaiting both", a.Version, lifecycle.PendingParties(a))
	}
	wantBothTexts(t, "after the English amendment", amend.state)
	if usSecond.state.Status != lifecycle.StatusActive {
		t.Fatalf("after both approved version 2: %s", usSecond.state.Status)
	}
	wantBothTexts(t, "once active", usSecond.state)
	if final.Status != lifecycle.StatusCompleted {
		t.Fatalf("final %s", final.Status)
	}
	wantBothTexts(t, "final", final)

	// The refused approval left no event; PA's first approval was reset
	// by the amendment.
	if got, want := approvals(h.rec), []string{"PA v1", "PA v2", "US v2"}; !slices.Equal(got, want) {
		t.Fatalf("recorded approvals %v, want %v", got, want)
	}
	amended := eventsOf(h.rec, lifecycle.EventAmended)
	if len(amended) != 1 || amended[0].Actor != usCoord.ID || !amended[0].Content.Title.Equal(proposal("").Title) {
		t.Fatalf("amended events %+v; want one by the US coordinator with both titles", amended)
	}
}

// A proposal drafted over many amendments continues as new while still
// proposed, in Spanish only. The continue-as-new input carries the
// activity's languages, its parties' languages and its texts keyed by
// language, and the continued run applies the rules of languages: the US
// approver is refused there until the English is added.
func TestContinueAsNewCarriesLanguagesAndKeyedTexts(t *testing.T) {
	es := spanishProposal("act-languages-continue")
	drafts := MaxStepsPerRun + 10

	type step struct {
		at    time.Duration
		run   func(h *harness, d time.Duration) *outcome
		check func(o *outcome)
		done  bool
		in    int // the run it resolved in
	}
	var steps []*step
	accepted := func(o *outcome) { wantAccepted(t, o) }
	for k := 1; k <= drafts; k++ {
		a := lifecycle.Amend{BaseVersion: k, Title: es.Title, Objectives: es.Objectives, Milestones: es.Milestones,
			Summary: lifecycle.Plain(fmt.Sprintf("%s (borrador %d)", es.Summary[""], k))}
		steps = append(steps, &step{at: time.Duration(k) * time.Minute, check: accepted, run: func(h *harness, d time.Duration) *outcome {
			return send(h, d, UpdateAmend, paCoord, a)
		}})
	}
	last := drafts + 1 // the version the drafts end at
	after := time.Duration(drafts)*time.Minute + time.Hour
	usEarly := &step{at: after, check: func(o *outcome) { wantMissingEnglish(t, o, "title", "summary") },
		run: func(h *harness, d time.Duration) *outcome { return send(h, d, UpdateDecide, usApprover, approve(last)) }}
	var english *outcome
	steps = append(steps, usEarly,
		&step{at: after + time.Hour, check: func(o *outcome) { wantAccepted(t, o); english = o },
			run: func(h *harness, d time.Duration) *outcome {
				return send(h, d, UpdateAmend, usCoord, englishAmendment(last))
			}},
		&step{at: after + 2*time.Hour, check: accepted,
			run: func(h *harness, d time.Duration) *outcome {
				return send(h, d, UpdateDecide, paApprover, approve(last+1))
			}},
		&step{at: after + 3*time.Hour, check: accepted,
			run: func(h *harness, d time.Duration) *outcome {
				return send(h, d, UpdateDecide, usApprover, approve(last+1))
			}},
		&step{at: after + 10*day, check: accepted, run: func(h *harness, d time.Duration) *outcome {
			return send(h, d, UpdateCompleteMilestone, paCoord, lifecycle.CompleteMilestone{MilestoneID: "m1"})
		}},
	)

	rec := &recorder{}
	in := Proposal(paCoord, es)
	now := t0
	runs := 0
	var carried *Input
	var final lifecycle.State
	for {
		runs++
		if runs > 5 {
			t.Fatal("more than 5 runs")
		}
		h := newHarness(t, now, rec)
		type sent struct {
			s *step
			o *outcome
		}
		var pending []sent
		for _, s := range steps {
			if !s.done {
				pending = append(pending, sent{s, s.run(h, t0.Add(s.at).Sub(now))})
			}
		}
		state, next := h.execute(in)
		for _, p := range pending {
			if p.o.done {
				p.s.check(p.o)
				p.s.done, p.s.in = true, runs
			}
		}
		if next == nil {
			final = state
			break
		}
		if carried == nil {
			carried = next
		}
		in, now = *next, h.env.Now()
	}

	for i, s := range steps {
		if !s.done {
			t.Fatalf("step %d never ran", i)
		}
	}
	if runs < 2 || carried == nil {
		t.Fatalf("%d run(s); %d drafts must continue as new", runs, drafts)
	}
	if usEarly.in < 2 {
		t.Fatalf("the US approval was refused in run %d; the test needs it in a continued run", usEarly.in)
	}

	// What the first run handed over: languages and keyed texts.
	s := carried.State
	if carried.Version != InputVersion || s == nil || s.Rules != InputVersion || s.Status != lifecycle.StatusProposed {
		t.Fatalf("continue-as-new input version %d, state %+v; want version %d, a proposed activity", carried.Version, s, InputVersion)
	}
	if !slices.Equal(s.Languages, []string{"en", "es"}) {
		t.Fatalf("carried languages %v, want en and es", s.Languages)
	}
	for _, p := range s.Parties {
		if want := map[lifecycle.PartyCode]string{"PA": "es", "US": "en"}[p.Code]; p.Language != want {
			t.Fatalf("carried party %s reads %q, want %q", p.Code, p.Language, want)
		}
	}
	draft := lifecycle.Text{"es": fmt.Sprintf("%s (borrador %d)", es.Summary[""], s.Version-1)}
	if !s.Title.Equal(lifecycle.Text{"es": es.Title[""]}) || !s.Summary.Equal(draft) || !s.Milestones[0].Title.Equal(lifecycle.Text{"es": es.Milestones[0].Title[""]}) {
		t.Fatalf("carried texts %v / %v / %v; want them keyed es, the summary at draft %d", s.Title, s.Summary, s.Milestones[0].Title, s.Version-1)
	}

	// The continued run took the English and activated with both.
	if english.state.Version != last+1 {
		t.Fatalf("the English amendment made version %d, want %d", english.state.Version, last+1)
	}
	if final.Status != lifecycle.StatusCompleted || !slices.Equal(final.Languages, []string{"en", "es"}) {
		t.Fatalf("final %s with languages %v", final.Status, final.Languages)
	}
	lastDraft := fmt.Sprintf("%s (borrador %d)", es.Summary[""], drafts)
	if want := bilingual(proposal("").Summary["en"], lastDraft); !final.Summary.Equal(want) {
		t.Fatalf("final summary %v, want %v", final.Summary, want)
	}
	if !final.Title.Equal(proposal("").Title) || !final.Milestones[0].Indicator.Unit.Equal(proposal("").Milestones[0].Indicator.Unit) {
		t.Fatalf("final texts %v, %v; want English and Spanish", final.Title, final.Milestones[0].Indicator.Unit)
	}
	checkRecords(t, rec, final)
}

// Runs of every older version take assign_languages: an activity proposed
// before languages, whose texts are plain strings, moves to its
// dialogue's languages with the plain texts as its proposer's Spanish, and
// from then on is decided under the rules of languages.
func TestAssignLanguagesMovesRunsOfOlderVersions(t *testing.T) {
	for version := range InputVersion {
		t.Run(fmt.Sprintf("version %d", version), func(t *testing.T) {
			h := newHarness(t, t0, &recorder{})
			keyed := englishAmendment(1)
			keyed.Title = lifecycle.Text{"en": keyed.Title[""]}
			tooEarly := send(h, 30*time.Minute, UpdateAmend, usCoord, keyed)
			paFirst := send(h, time.Hour, UpdateDecide, paApprover, approve(1))
			var before lifecycle.State
			h.at(90*time.Minute, func() { before = h.query() })
			assign := send(h, 2*time.Hour, UpdateAssignLanguages, system, assignLanguages())
			var moved lifecycle.State
			h.at(2*time.Hour+time.Minute, func() { moved = h.query() })
			again := send(h, 150*time.Minute, UpdateAssignLanguages, system, assignLanguages())
			usEarly := send(h, 3*time.Hour, UpdateDecide, usApprover, approve(1))
			amend := send(h, 4*time.Hour, UpdateAmend, usCoord, englishAmendment(1))
			paSecond := send(h, 5*time.Hour, UpdateDecide, paApprover, approve(2))
			usSecond := send(h, 6*time.Hour, UpdateDecide, usApprover, approve(2))
			cancel := send(h, 7*time.Hour, UpdateCancel, usApprover, lifecycle.Cancel{Reason: "end of test"})
			p := beforeLanguages("act-assign")
			final := h.run(Input{Actor: paCoord, Propose: &p, Version: version})

			// Before the move: plain texts only, and no languages.
			wantRejected(t, tooEarly, lifecycle.KindInvalidInput)
			if len(before.Languages) != 0 || before.Parties[0].Language != "" || !before.Title.Equal(p.Title) {
				t.Fatalf("before the move: languages %v parties %+v title %v; want none and the plain title", before.Languages, before.Parties, before.Title)
			}
			wantAccepted(t, paFirst, assign, again, amend, paSecond, usSecond, cancel)
			if !slices.Equal(moved.Languages, []string{"en", "es"}) || !moved.Title.Equal(lifecycle.Text{"es": p.Title[""]}) ||
				!moved.Objectives[0].Equal(lifecycle.Text{"es": p.Objectives[0][""]}) || !moved.Milestones[0].Indicator.Unit.Equal(lifecycle.Text{"es": "funcionarios"}) {
				t.Fatalf("moved: languages %v title %v objectives %v unit %v; want the plain texts keyed es", moved.Languages, moved.Title, moved.Objectives, moved.Milestones[0].Indicator.Unit)
			}
			if lang, _ := moved.LanguageOf("US"); lang != "en" || moved.Parties[1].TimeZone != "America/New_York" {
				t.Fatalf("moved parties %+v; want the US reading en in its own zone", moved.Parties)
			}
			if moved.Version != 1 || !slices.Equal(lifecycle.PendingParties(moved), []lifecycle.PartyCode{"US"}) || moved.ContentHash == before.ContentHash {
				t.Fatalf("moved: version %d pending %v; want version 1 with PA's approval standing and a new content hash", moved.Version, lifecycle.PendingParties(moved))
			}
			if again.state.Seq != moved.Seq {
				t.Fatalf("a second assign_languages moved seq %d to %d; want no change", moved.Seq, again.state.Seq)
			}
			wantMissingEnglish(t, usEarly, "title", "milestones[0].indicator.unit")
			if usSecond.state.Status != lifecycle.StatusActive {
				t.Fatalf("after both approved the English version: %s", usSecond.state.Status)
			}
			wantBothTexts(t, "once active", usSecond.state)
			rules := 0 // runs before version 2 decide under the first rules
			if version >= 2 {
				rules = version
			}
			if final.Status != lifecycle.StatusCancelled || final.Rules != rules {
				t.Fatalf("final %s under rules %d, want cancelled under rules %d", final.Status, final.Rules, rules)
			}
			wantBothTexts(t, "final", final)
			if n := len(eventsOf(h.rec, lifecycle.EventLanguagesAssigned)); n != 1 {
				t.Fatalf("%d languages_assigned events recorded, want 1", n)
			}
			if got, want := approvals(h.rec), []string{"PA v1", "PA v2", "US v2"}; !slices.Equal(got, want) {
				t.Fatalf("recorded approvals %v, want %v", got, want)
			}
		})
	}
}
