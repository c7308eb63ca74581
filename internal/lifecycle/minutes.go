package lifecycle

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Minutes are what a dialogue meeting agreed, as a coordinator records
// them after the meeting and the approvers of every party co-sign them.
// The rule is the proposal's: a signature is bound to the version it
// signs, any change makes a new version and resets every signature, and
// once every party has signed the minutes never change again.
type Minutes struct {
	Version   int        `json:"version"`
	Decisions []Text     `json:"decisions"`
	FollowUps []FollowUp `json:"follow_ups"`
	// NewActivities are activities agreed in principle; once the minutes
	// are adopted each becomes a proposal that runs the usual approval.
	NewActivities []AgreedActivity `json:"new_activities"`
	RecordedBy    string           `json:"recorded_by"`
	RecordedParty PartyCode        `json:"recorded_party"`
	RecordedAt    time.Time        `json:"recorded_at"`
	Signatures    []Signature      `json:"signatures"`
	// AdoptedAt is when the last party signed: from then on the minutes
	// are immutable.
	AdoptedAt time.Time `json:"adopted_at,omitzero"`
}

// FollowUp is an action the meeting agreed: who owns it and by when.
type FollowUp struct {
	Text  Text      `json:"text"`
	Owner PartyCode `json:"owner"`
	Due   string    `json:"due"` // a date, YYYY-MM-DD
}

// AgreedActivity is an activity the meeting agreed in principle. Proposal
// is the proposal as the API takes it (without the dialogue), checked
// when the minutes are recorded and made when they are adopted; Activity
// is the id it was proposed under.
type AgreedActivity struct {
	Title    Text            `json:"title"`
	Proposal json.RawMessage `json:"proposal"`
	Activity string          `json:"activity,omitempty"`
}

// Signature is one party's approval of one version of the minutes.
type Signature struct {
	Party   PartyCode `json:"party"`
	By      string    `json:"by"`
	Version int       `json:"version"`
	At      time.Time `json:"at"`
}

// MinutesContent is what a coordinator records as the minutes.
type MinutesContent struct {
	Decisions     []Text           `json:"decisions"`
	FollowUps     []FollowUp       `json:"follow_ups"`
	NewActivities []AgreedActivity `json:"new_activities"`
}

// Bounds of the minutes, so that they stay within a workflow's payload.
const (
	MaxMinutesItems     = 50
	MaxMinutesTextBytes = 2000
	maxProposalBytes    = 32 << 10
)

// Adopted reports whether every party has signed: the minutes are final.
func (m Minutes) Adopted() bool { return !m.AdoptedAt.IsZero() }

// RecordMinutes records content as the next version of the minutes m
// (the zero Minutes when none were recorded), by coordinator by of one of
// parties, at at; a text given without a language is in lang, the
// coordinator's party's. It resets every signature.
func RecordMinutes(m Minutes, parties []PartyCode, by Principal, lang string, content MinutesContent, at time.Time) (Minutes, error) {
	if m.Adopted() {
		return m, badTransition("the minutes were signed by every party on %s and can no longer change", m.AdoptedAt.UTC().Format(time.RFC3339))
	}
	if !by.Has(RoleCoordinator) {
		return m, forbidden("only a coordinator may record the minutes")
	}
	if !slices.Contains(parties, by.Party) {
		return m, forbidden("party %q is not a party of the dialogue", by.Party)
	}
	content, err := minutesKeyed(content, lang)
	if err != nil {
		return m, err
	}
	if err := checkMinutes(content, parties); err != nil {
		return m, err
	}
	next := Minutes{
		Version: m.Version + 1, Decisions: content.Decisions, FollowUps: content.FollowUps,
		NewActivities: content.NewActivities, RecordedBy: by.ID, RecordedParty: by.Party, RecordedAt: at,
		Signatures: []Signature{},
	}
	return next, nil
}

// SignMinutes records approver by's signature, for their party, of
// version of the minutes m, at at. Once every one of parties has signed
// the current version the minutes are adopted.
func SignMinutes(m Minutes, parties []PartyCode, by Principal, version int, at time.Time) (Minutes, error) {
	switch {
	case m.Version == 0:
		return m, badTransition("no minutes have been recorded yet")
	case m.Adopted():
		return m, badTransition("the minutes were signed by every party already")
	case !by.Has(RoleApprover):
		return m, forbidden("only an approver may sign the minutes for their party")
	case !slices.Contains(parties, by.Party):
		return m, forbidden("party %q is not a party of the dialogue", by.Party)
	case version != m.Version:
		return m, stale("version %d of the minutes is not the current one, %d; read them again before signing", version, m.Version)
	case slices.ContainsFunc(m.Signatures, func(s Signature) bool { return s.Party == by.Party }):
		return m, badTransition("party %s has signed version %d already", by.Party, m.Version)
	}
	m.Signatures = append(slices.Clone(m.Signatures), Signature{Party: by.Party, By: by.ID, Version: version, At: at})
	if slices.IndexFunc(parties, func(p PartyCode) bool {
		return !slices.ContainsFunc(m.Signatures, func(s Signature) bool { return s.Party == p })
	}) < 0 {
		m.AdoptedAt = at
	}
	return m, nil
}

// UnsignedParties lists the parties that have not signed the current
// version of m.
func (m Minutes) UnsignedParties(parties []PartyCode) []PartyCode {
	var out []PartyCode
	for _, p := range parties {
		if !slices.ContainsFunc(m.Signatures, func(s Signature) bool { return s.Party == p }) {
			out = append(out, p)
		}
	}
	return out
}

func checkMinutes(c MinutesContent, parties []PartyCode) error {
	if len(c.Decisions)+len(c.FollowUps)+len(c.NewActivities) == 0 {
		return invalid("decisions", "the minutes need at least one decision, follow-up or new activity")
	}
	for name, n := range map[string]int{"decisions": len(c.Decisions), "follow_ups": len(c.FollowUps), "new_activities": len(c.NewActivities)} {
		if n > MaxMinutesItems {
			return invalid(name, "at most %d %s", MaxMinutesItems, strings.ReplaceAll(name, "_", " "))
		}
	}
	for i, d := range c.Decisions {
		if err := checkMinutesText(fmt.Sprintf("decisions[%d]", i), d); err != nil {
			return err
		}
	}
	for i, f := range c.FollowUps {
		field := fmt.Sprintf("follow_ups[%d]", i)
		if err := checkMinutesText(field+".text", f.Text); err != nil {
			return err
		}
		if !slices.Contains(parties, f.Owner) {
			return invalid(field+".owner", "owner %q is not a party of the dialogue", f.Owner)
		}
		if _, err := time.Parse(time.DateOnly, f.Due); err != nil {
			return invalid(field+".due", "due must be a date such as 2027-06-30")
		}
	}
	for i, a := range c.NewActivities {
		field := fmt.Sprintf("new_activities[%d]", i)
		if err := checkMinutesText(field+".title", a.Title); err != nil {
			return err
		}
		if len(a.Proposal) == 0 || len(a.Proposal) > maxProposalBytes || !json.Valid(a.Proposal) {
			return invalid(field+".proposal", "the proposal must be a JSON object of at most %d bytes", maxProposalBytes)
		}
	}
	return nil
}

func checkMinutesText(field string, t Text) error {
	if t.Empty() {
		return invalid(field, "a text is required")
	}
	for lang, v := range t {
		if len(v) > MaxMinutesTextBytes {
			return invalid(field, "%s: at most %d bytes", lang, MaxMinutesTextBytes)
		}
	}
	return nil
}

// minutesKeyed is c with its plain texts keyed by lang, in copies.
func minutesKeyed(c MinutesContent, lang string) (MinutesContent, error) {
	key := func(field string, t Text) (Text, error) {
		if lang == "" {
			return t.clone(), nil
		}
		k, ok := t.keyed(lang)
		if !ok {
			return nil, invalid(field, "a text is given both without a language and in %s", lang)
		}
		return k.clone(), nil
	}
	out := MinutesContent{Decisions: make([]Text, len(c.Decisions)), FollowUps: slices.Clone(c.FollowUps), NewActivities: slices.Clone(c.NewActivities)}
	var err error
	for i, d := range c.Decisions {
		if out.Decisions[i], err = key(fmt.Sprintf("decisions[%d]", i), d); err != nil {
			return c, err
		}
	}
	for i, f := range c.FollowUps {
		if out.FollowUps[i].Text, err = key(fmt.Sprintf("follow_ups[%d].text", i), f.Text); err != nil {
			return c, err
		}
	}
	for i, a := range c.NewActivities {
		if out.NewActivities[i].Title, err = key(fmt.Sprintf("new_activities[%d].title", i), a.Title); err != nil {
			return c, err
		}
	}
	return out, nil
}
