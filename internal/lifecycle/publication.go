package lifecycle

import (
	"slices"
	"time"
)

// PublicationDecision is an approver's answer on publishing an activity as
// open data.
type PublicationDecision string

// The publication decisions: consent to publishing the current version,
// or withdrawing a consent given to it.
const (
	PublicationConsent  PublicationDecision = "consent"
	PublicationWithdraw PublicationDecision = "withdraw"
)

// DecidePublication is an approver's consent, for their own party, to
// publishing version Version of the activity as open data (the IATI
// export), or the withdrawal of that consent. The rule is the approval's:
// a consent counts only for the version it was given on, an amendment
// that makes a new version clears every consent, and the activity is
// published only while every party consents to its current version.
// Consent may be given in any status, so that a pipeline, a running and
// an ended activity can each be published.
type DecidePublication struct {
	Version  int                 `json:"version"`
	Party    PartyCode           `json:"party,omitempty"` // optional; must be the actor's own party
	Decision PublicationDecision `json:"decision"`
}

// CommandName implements Command.
func (DecidePublication) CommandName() string { return "decide_publication" }

// Consent is one party's consent to publishing one version of an activity.
type Consent struct {
	Party   PartyCode `json:"party"`
	Version int       `json:"version"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// ConsentOf returns party p's consent to publishing the current version,
// if it has given one.
func (s *State) ConsentOf(p PartyCode) (Consent, bool) {
	for _, c := range s.Publication {
		if c.Party == p && c.Version == s.Version {
			return c, true
		}
	}
	return Consent{}, false
}

// Published reports whether the activity may appear in open data: every
// one of its parties consents to publishing its current version.
func Published(s State) bool {
	if s.Status == "" || len(s.Parties) == 0 {
		return false
	}
	return len(PublicationPending(s)) == 0
}

// PublicationPending lists, in the activity's party order, the parties
// that do not consent to publishing its current version.
func PublicationPending(s State) []PartyCode {
	var out []PartyCode
	for _, p := range s.Parties {
		if _, ok := s.ConsentOf(p.Code); !ok {
			out = append(out, p.Code)
		}
	}
	return out
}

func (d *decider) decidePublication(c DecidePublication) error {
	if err := d.requireExisting(); err != nil {
		return err
	}
	if err := d.requireRole(RoleApprover, "decide on publishing an activity"); err != nil {
		return err
	}
	if err := d.requireOwnParty(c.Party); err != nil {
		return err
	}
	if c.Version != d.s.Version {
		return stale("the publication decision was made on version %d but the current version is %d", c.Version, d.s.Version)
	}
	_, consents := d.s.ConsentOf(d.actor.Party)
	e := Event{Party: d.actor.Party, Version: d.s.Version}
	switch c.Decision {
	case PublicationConsent:
		if consents {
			return badTransition("%s has already consented to publishing version %d", d.actor.Party, d.s.Version)
		}
		e.Type = EventPublicationConsented
	case PublicationWithdraw:
		if !consents {
			return badTransition("%s has not consented to publishing version %d", d.actor.Party, d.s.Version)
		}
		e.Type = EventPublicationWithdrawn
	default:
		return invalid("decision", "decision must be consent or withdraw, not %q", c.Decision)
	}
	d.emit(e)
	return nil
}

// setConsent records a party's consent, replacing any it gave before.
func (s *State) setConsent(c Consent) {
	s.Publication = slices.DeleteFunc(slices.Clone(s.Publication), func(o Consent) bool { return o.Party == c.Party })
	s.Publication = append(s.Publication, c)
}
