package lifecycle_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"testing"

	lc "pacto/internal/lifecycle"
)

func consent(version int) lc.DecidePublication {
	return lc.DecidePublication{Version: version, Decision: lc.PublicationConsent}
}

func withdraw(version int) lc.DecidePublication {
	return lc.DecidePublication{Version: version, Decision: lc.PublicationWithdraw}
}

// consentAll has every party's approver consent to publishing s's
// current version.
func consentAll(t *testing.T, s lc.State) lc.State {
	t.Helper()
	for _, p := range s.Parties {
		s, _ = run(t, s, consent(s.Version), approver(p.Code), t0.Add(day))
	}
	return s
}

func TestPublishedOnlyOnceEveryPartyConsents(t *testing.T) {
	s := proposed(t, proposal("PA", "US", "MX"))
	if lc.Published(s) {
		t.Fatal("published before anyone consented")
	}
	s, evs := run(t, s, consent(1), approver("PA"), t0.Add(day))
	wantTypes(t, evs, lc.EventPublicationConsented)
	if e := evs[0]; e.Party != "PA" || e.Version != 1 || e.Actor != "appr-PA" {
		t.Fatalf("event %+v; want PA's approver's consent to version 1", e)
	}
	s, _ = run(t, s, consent(1), approver("US"), t0.Add(day))
	if lc.Published(s) || !slices.Equal(lc.PublicationPending(s), []lc.PartyCode{"MX"}) {
		t.Fatalf("published %v pending %v with two consents of three; want MX pending", lc.Published(s), lc.PublicationPending(s))
	}
	s, _ = run(t, s, consent(1), approver("MX"), t0.Add(day))
	if !lc.Published(s) || len(lc.PublicationPending(s)) != 0 {
		t.Fatalf("not published once every party consented (pending %v)", lc.PublicationPending(s))
	}
	c, ok := s.ConsentOf("US")
	if !ok || c.By != "appr-US" || c.Version != 1 || !c.At.Equal(t0.Add(day)) {
		t.Fatalf("US consent %+v %v", c, ok)
	}
}

func TestWithdrawingConsentUnpublishes(t *testing.T) {
	s := consentAll(t, activeAt(t, proposed(t, proposal()), t0))
	if !lc.Published(s) {
		t.Fatal("not published")
	}
	s, evs := run(t, s, withdraw(s.Version), approver("US"), t0.Add(2*day))
	wantTypes(t, evs, lc.EventPublicationWithdrawn)
	if lc.Published(s) || !slices.Equal(lc.PublicationPending(s), []lc.PartyCode{"US"}) {
		t.Fatalf("published %v pending %v after US withdrew", lc.Published(s), lc.PublicationPending(s))
	}
	refuse(t, s, withdraw(s.Version), approver("US"), t0.Add(2*day), lc.KindInvalidTransition, "")
	s, _ = run(t, s, consent(s.Version), approver("US"), t0.Add(3*day))
	if !lc.Published(s) {
		t.Fatal("not published after US consented again")
	}
}

func TestAmendmentClearsEveryConsent(t *testing.T) {
	s := consentAll(t, proposed(t, proposal()))
	if !lc.Published(s) {
		t.Fatal("a proposal every party consents to is not published")
	}
	// Identical content is no new version: the consents stand.
	same, evs := run(t, s, lc.Amend{BaseVersion: 1, Title: s.Title, Summary: s.Summary, Objectives: s.Objectives, Milestones: specs(s)}, coord("US"), t0.Add(day))
	if len(evs) != 0 || !lc.Published(same) {
		t.Fatalf("resubmitting identical content: events %v, published %v", types(evs), lc.Published(same))
	}
	amended, _ := run(t, s, lc.Amend{BaseVersion: 1, Title: lc.Plain("Joint training 2027"), Summary: s.Summary, Objectives: s.Objectives, Milestones: specs(s)}, coord("US"), t0.Add(day))
	if amended.Version != 2 || lc.Published(amended) || amended.Publication != nil {
		t.Fatalf("after an amendment: version %d published %v consents %v; want version 2 with none", amended.Version, lc.Published(amended), amended.Publication)
	}
	// A consent is bound to its version: one given on version 1 is stale.
	refuse(t, amended, consent(1), approver("PA"), t0.Add(day), lc.KindStaleVersion, "version")
	refuse(t, amended, withdraw(1), approver("PA"), t0.Add(day), lc.KindStaleVersion, "version")
	if !lc.Published(consentAll(t, amended)) {
		t.Fatal("version 2 not published once every party consented to it")
	}
}

func TestPublicationDecisionsAreForApproversOfTheirOwnParty(t *testing.T) {
	s := proposed(t, proposal())
	refuse(t, s, consent(1), coord("PA"), t0, lc.KindForbidden, "")
	refuse(t, s, consent(1), observer("US"), t0, lc.KindForbidden, "")
	refuse(t, s, consent(1), approver("ES"), t0, lc.KindForbidden, "") // not a party of the activity
	refuse(t, s, lc.DecidePublication{Version: 1, Party: "PA", Decision: lc.PublicationConsent}, approver("US"), t0, lc.KindForbidden, "")
	refuse(t, s, lc.DecidePublication{Version: 1, Decision: "publish"}, approver("US"), t0, lc.KindInvalidInput, "decision")
	refuse(t, lc.State{}, consent(1), approver("US"), t0, lc.KindInvalidTransition, "")
	s, _ = run(t, s, lc.DecidePublication{Version: 1, Party: "US", Decision: lc.PublicationConsent}, approver("US"), t0)
	refuse(t, s, consent(1), approver("US"), t0, lc.KindInvalidTransition, "")
	// Any approver of the party may withdraw its consent.
	other := lc.Principal{ID: "appr-US-2", Party: "US", Roles: []lc.Role{lc.RoleApprover}}
	if s, _ = run(t, s, withdraw(1), other, t0); len(s.Publication) != 0 {
		t.Fatalf("consents %v after the withdrawal", s.Publication)
	}
}

// Publication is decided in every status: a pipeline, a running and an
// ended activity may each be published, and ended ones withdrawn.
func TestConsentInEveryStatus(t *testing.T) {
	active := func() lc.State { return activeAt(t, proposed(t, proposal()), t0) }
	states := map[lc.Status]lc.State{lc.StatusProposed: proposed(t, proposal()), lc.StatusActive: active()}
	s, _ := run(t, active(), lc.Suspend{Reason: "elections"}, approver("US"), t0.Add(day))
	states[lc.StatusSuspended] = s
	s, _ = run(t, active(), lc.Cancel{Reason: "merged"}, approver("US"), t0.Add(day))
	states[lc.StatusCancelled] = s
	s, _ = run(t, proposed(t, proposal()), lc.DecideProposal{Version: 1, Decision: lc.DecisionDecline, Comment: "no funds"}, approver("US"), t0)
	states[lc.StatusDeclined] = s
	s, _ = run(t, proposed(t, proposal()), lc.Tick{}, clock, t0.Add(61*day))
	states[lc.StatusExpired] = s
	s = active()
	for _, p := range s.Parties {
		s, _ = run(t, s, lc.CompleteMilestone{MilestoneID: milestoneOwnedBy(t, s, p.Code)}, coord(p.Code), t0.Add(day))
	}
	states[lc.StatusCompleted] = s
	for status, s := range states {
		if s.Status != status {
			t.Fatalf("built %s, want %s", s.Status, status)
		}
		s = consentAll(t, s)
		if !lc.Published(s) || s.Status != status {
			t.Errorf("%s: published %v, status %s after every consent", status, lc.Published(s), s.Status)
		}
		if s, _ = run(t, s, withdraw(s.Version), approver("PA"), t0.Add(2*day)); lc.Published(s) {
			t.Errorf("%s: still published after PA withdrew", status)
		}
	}
}

func milestoneOwnedBy(t *testing.T, s lc.State, p lc.PartyCode) string {
	t.Helper()
	for _, m := range s.Milestones {
		if m.Owner == p {
			return m.ID
		}
	}
	t.Fatalf("no milestone of %s", p)
	return ""
}

// The classification is material content: changing it is a new version,
// which every party approves again.
func TestSectorAndCountriesAreMaterial(t *testing.T) {
	p := proposal()
	p.Sector, p.RecipientCountries = " 15190 ", []string{"PA"}
	s := proposed(t, p)
	if s.Sector != "15190" || !slices.Equal(s.RecipientCountries, []string{"PA"}) {
		t.Fatalf("sector %q countries %v", s.Sector, s.RecipientCountries)
	}
	s, _ = run(t, s, lc.DecideProposal{Version: 1, Decision: lc.DecisionApprove}, approver("US"), t0)
	amend := lc.Amend{BaseVersion: 1, Title: s.Title, Summary: s.Summary, Objectives: s.Objectives, Milestones: specs(s), Sector: "15190", RecipientCountries: []string{"PA"}}
	if _, evs := run(t, s, amend, coord("US"), t0); len(evs) != 0 {
		t.Fatalf("the same classification made %v", types(evs))
	}
	amend.RecipientCountries = []string{"PA", "CR"}
	s2, _ := run(t, s, amend, coord("US"), t0)
	if s2.Version != 2 || !slices.Equal(lc.PendingParties(s2), []lc.PartyCode{"PA", "US"}) || !slices.Equal(s2.RecipientCountries, []string{"PA", "CR"}) {
		t.Fatalf("another country: version %d pending %v countries %v", s2.Version, lc.PendingParties(s2), s2.RecipientCountries)
	}
	amend.RecipientCountries, amend.Sector = nil, ""
	if s3, _ := run(t, s2, lc.Amend{BaseVersion: 2, Title: s.Title, Summary: s.Summary, Objectives: s.Objectives, Milestones: specs(s)}, coord("US"), t0); s3.Version != 3 || s3.Sector != "" || s3.RecipientCountries != nil {
		t.Fatalf("without a classification: version %d sector %q countries %v", s3.Version, s3.Sector, s3.RecipientCountries)
	}
	for _, c := range []struct {
		sector    string
		countries []string
		field     string
	}{
		{"1519", nil, "sector"},
		{"15190a", nil, "sector"},
		{"", []string{"pa"}, "recipient_countries[0]"},
		{"", []string{"PA", "PAN"}, "recipient_countries[1]"},
		{"", []string{"PA", "PA"}, "recipient_countries[1]"},
	} {
		p := proposal()
		p.Sector, p.RecipientCountries = c.sector, c.countries
		refuse(t, lc.State{}, p, coord("PA"), t0, lc.KindInvalidInput, c.field)
	}
}

// Content without a classification hashes as it did before there was
// one (its material fields as JSON, nothing more), so the versions of
// activities recorded then stand.
func TestUnclassifiedContentHashIsUnchanged(t *testing.T) {
	s := proposed(t, proposal())
	enc, err := json.Marshal(struct {
		Title      lc.Text            `json:"title"`
		Summary    lc.Text            `json:"summary"`
		Objectives []lc.Text          `json:"objectives"`
		Milestones []lc.MilestoneSpec `json:"milestones"`
	}{s.Title, s.Summary, s.Objectives, specs(s)})
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(enc); hex.EncodeToString(sum[:]) != s.ContentHash {
		t.Fatalf("content hash %s; want the hash of the material fields alone", s.ContentHash)
	}
	p := proposal()
	p.Sector = "15190"
	if proposed(t, p).ContentHash == s.ContentHash {
		t.Fatal("a sector does not change the content hash")
	}
}
