package workflows

import (
	"errors"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"pacto/internal/lifecycle"
)

func consentTo(version int) lifecycle.DecidePublication {
	return lifecycle.DecidePublication{Version: version, Decision: lifecycle.PublicationConsent}
}

// Consent to publish is an Update like a decision: recorded with its
// audit event, bound to its version, cleared by an amendment, and
// withdrawn the same way.
func TestPublicationConsentFollowsTheVersion(t *testing.T) {
	h := newHarness(t, t0, &recorder{})
	p := proposal("act-publish")
	amended := lifecycle.Amend{BaseVersion: 1, Title: bilingual("Joint customs training 2027", "Capacitación aduanera conjunta 2027"),
		Summary: p.Summary, Objectives: p.Objectives, Milestones: p.Milestones}
	first := send(h, time.Hour, UpdatePublication, paApprover, consentTo(1))
	var consented lifecycle.State
	h.at(90*time.Minute, func() { consented = h.query() })
	amend := send(h, 2*time.Hour, UpdateAmend, usCoord, amended)
	var afterAmend lifecycle.State
	h.at(150*time.Minute, func() { afterAmend = h.query() })
	stale := send(h, 3*time.Hour, UpdatePublication, usApprover, consentTo(1))
	coordinator := send(h, 3*time.Hour, UpdatePublication, usCoord, consentTo(2))
	steps := []*outcome{
		send(h, 4*time.Hour, UpdateDecide, paApprover, approve(2)),
		send(h, 5*time.Hour, UpdateDecide, usApprover, approve(2)),
		send(h, 6*time.Hour, UpdatePublication, paApprover, consentTo(2)),
		send(h, 7*time.Hour, UpdatePublication, usApprover, consentTo(2)),
	}
	var published lifecycle.State
	h.at(7*time.Hour+time.Minute, func() { published = h.query() })
	withdrawn := send(h, 8*time.Hour, UpdatePublication, usApprover, lifecycle.DecidePublication{Version: 2, Decision: lifecycle.PublicationWithdraw})
	send(h, 9*time.Hour, UpdateCancel, paApprover, lifecycle.Cancel{Reason: "merged"})
	final := h.run(Proposal(paCoord, p))

	wantAccepted(t, append(steps, first, amend, withdrawn)...)
	if c, ok := consented.ConsentOf("PA"); !ok || c.Version != 1 || c.By != paApprover.ID {
		t.Fatalf("after PA consented: %+v %v", consented.Publication, ok)
	}
	if afterAmend.Version != 2 || afterAmend.Publication != nil {
		t.Fatalf("after the amendment: version %d consents %v; want version 2 with none", afterAmend.Version, afterAmend.Publication)
	}
	wantRejected(t, stale, lifecycle.KindStaleVersion)
	wantRejected(t, coordinator, lifecycle.KindForbidden)
	if !lifecycle.Published(published) || published.Status != lifecycle.StatusActive {
		t.Fatalf("after both consented to version 2: published %v, %s", lifecycle.Published(published), published.Status)
	}
	if lifecycle.Published(withdrawn.state) || !slices.Equal(lifecycle.PublicationPending(withdrawn.state), []lifecycle.PartyCode{"US"}) {
		t.Fatalf("after the US withdrew: pending %v", lifecycle.PublicationPending(withdrawn.state))
	}
	if final.Status != lifecycle.StatusCancelled {
		t.Fatalf("final %s", final.Status)
	}
	var got []lifecycle.EventType
	for _, e := range h.rec.events() {
		if e.Type == lifecycle.EventPublicationConsented || e.Type == lifecycle.EventPublicationWithdrawn {
			got = append(got, e.Type)
		}
	}
	want := []lifecycle.EventType{lifecycle.EventPublicationConsented, lifecycle.EventPublicationConsented, lifecycle.EventPublicationConsented, lifecycle.EventPublicationWithdrawn}
	if !slices.Equal(got, want) {
		t.Fatalf("recorded %v, want %v", got, want)
	}
}

// A run records nothing after its activity ends: a publication decision
// that reaches it then is refused as ended, for the API to record in the
// read model instead.
func TestPublicationOnAnEndedActivityIsRefusedAsEnded(t *testing.T) {
	h := newHarness(t, t0, &recorder{})
	send(h, time.Hour, UpdateCancel, paApprover, lifecycle.Cancel{Reason: "merged"})
	late := send(h, time.Hour, UpdatePublication, usApprover, consentTo(1))
	final := h.run(start("act-publish-ended"))
	if final.Status != lifecycle.StatusCancelled || final.Publication != nil {
		t.Fatalf("final %s with consents %v", final.Status, final.Publication)
	}
	err := late.rejected
	if late.accepted {
		err = late.err
	}
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != ErrEnded {
		t.Fatalf("the consent after the cancellation: accepted %v, %v; want refused as %s", late.accepted, err, ErrEnded)
	}
}
