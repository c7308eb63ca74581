package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"pacto/internal/lifecycle"
	"pacto/internal/store"
	"pacto/workflows"
)

// PublicationRequest is an approver's consent, for their own party, to
// publishing the activity's current version as open data, or its
// withdrawal.
type PublicationRequest struct {
	Version  int    `json:"version"`
	Decision string `json:"decision"`
	Party    string `json:"party,omitempty"`
}

// PublicationView is where an activity's publication stands: whether it
// is published (every party consents to its current version) and each
// party's consent.
type PublicationView struct {
	Activity  string        `json:"activity"`
	Version   int           `json:"version"`
	Status    string        `json:"status"`
	Published bool          `json:"published"`
	Parties   []ConsentView `json:"parties"`
}

// ConsentView is one party's consent to publishing the current version.
type ConsentView struct {
	Party   string     `json:"party"`
	Consent bool       `json:"consent"`
	By      string     `json:"by,omitempty"`
	At      *time.Time `json:"at,omitempty"`
}

func consentViews(s lifecycle.State) []ConsentView {
	out := make([]ConsentView, len(s.Parties))
	for i, p := range s.Parties {
		out[i] = ConsentView{Party: string(p.Code)}
		if c, ok := s.ConsentOf(p.Code); ok {
			out[i].Consent, out[i].By, out[i].At = true, c.By, timePtr(c.At)
		}
	}
	return out
}

func publicationView(s lifecycle.State) PublicationView {
	return PublicationView{Activity: s.ID, Version: s.Version, Status: string(s.Status), Published: lifecycle.Published(s), Parties: consentViews(s)}
}

// errEnded marks a command that reached an activity whose run records
// nothing more: it has ended, or is ending.
var errEnded = errors.New("the activity has ended")

// Publication is GET /v1/activities/{id}/publication.
func (s *Server) Publication(ctx context.Context, p store.Principal, id string) (PublicationView, error) {
	st, err := s.Activity(ctx, p, id)
	if err != nil {
		return PublicationView{}, err
	}
	return publicationView(st), nil
}

// DecidePublication is POST /v1/activities/{id}/publication: an
// approver's consent to publishing the current version for their party,
// or its withdrawal. While the activity runs the decision is an Update
// on its workflow, like every command; once it has ended, its run
// records nothing more, and the decision is recorded in the read model
// under the activity's lock (store.DecideEnded), decided by the same
// core. key is an idempotency key, or empty; on an ended activity it is
// not remembered.
func (s *Server) DecidePublication(ctx context.Context, p store.Principal, id string, req PublicationRequest, key string) (lifecycle.State, error) {
	if !hasRole(p, "approver") {
		return lifecycle.State{}, fail(probForbidden, "only an approver may decide on publishing an activity")
	}
	if req.Version < 1 {
		return lifecycle.State{}, failField(probInvalid, "version", "version is required: the version you decide on, from 1")
	}
	cmd := lifecycle.DecidePublication{Version: req.Version, Party: lifecycle.PartyCode(req.Party), Decision: lifecycle.PublicationDecision(req.Decision)}
	st, err := s.Activity(ctx, p, id)
	if err != nil {
		return lifecycle.State{}, err
	}
	if !st.Status.Terminal() {
		next, err := command(s, ctx, p, id, workflows.UpdatePublication, "approver", key, func(lifecycle.State) (lifecycle.DecidePublication, error) {
			return cmd, nil
		})
		if !errors.Is(err, errEnded) {
			return next, err
		}
		if err := s.awaitEnded(ctx, id); err != nil {
			return lifecycle.State{}, err
		}
	}
	now := s.now()
	next, err := s.store.DecideEnded(ctx, id, func(snap lifecycle.State) ([]lifecycle.Event, error) {
		return lifecycle.Decide(snap, cmd, p.Actor(), now)
	})
	var ce *lifecycle.Error
	switch {
	case errors.As(err, &ce):
		return lifecycle.State{}, coreProblem(ce)
	case errors.Is(err, store.ErrNotFound):
		return lifecycle.State{}, errNoActivity
	case errors.Is(err, store.ErrNotEnded):
		return lifecycle.State{}, fail(probUnavailable, "the activity is ending; try again shortly")
	}
	return next, err
}

// awaitEnded waits, for a bounded time, until the read model holds the
// activity as ended, as its run does already.
func (s *Server) awaitEnded(ctx context.Context, id string) error {
	deadline := time.Now().Add(s.recordWait)
	for {
		st, err := s.store.Activity(ctx, id)
		if err != nil {
			return err
		}
		if st.Status.Terminal() {
			return nil
		}
		if time.Now().After(deadline) {
			return fail(probUnavailable, "the activity is ending; try again shortly")
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for activity %s to end: %w", id, ctx.Err())
		case <-time.After(busyRetryEvery):
		}
	}
}

func (s *Server) getPublication(w http.ResponseWriter, r *http.Request) error {
	v, err := s.Publication(r.Context(), principalOf(r), chi.URLParam(r, "id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v)
}

func (s *Server) decidePublication(w http.ResponseWriter, r *http.Request) error {
	p := principalOf(r)
	if !hasRole(p, "approver") {
		return fail(probForbidden, "only an approver may decide on publishing an activity")
	}
	var req PublicationRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	st, err := s.DecidePublication(r.Context(), p, chi.URLParam(r, "id"), req, r.Header.Get("Idempotency-Key"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, publicationView(st))
}
