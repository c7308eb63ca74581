package api

import (
	"fmt"
	"net/http"
	"pacto/internal/lifecycle"
	"slices"
	"testing"
)

// endpoint is one operation on an activity, with the roles the API lets
// through to the core.
type endpoint struct {
	method, path string // path after /v1/activities/{id}
	body         any
	roles        []string // nil: any principal who can see the activity
}

// authorizationMatrix runs every role of every party, and an admin,
// against every operation on an activity of the PA–US dialogue, and checks
// that no forbidden request succeeds and that, to those outside the
// activity, it is indistinguishable from one that does not exist.
func (s *stack) authorizationMatrix(t *testing.T) {
	a := s.activate()
	title := "Renamed"
	endpoints := []endpoint{
		{"GET", "", nil, nil},
		{"GET", "/audit", nil, nil},
		{"GET", "/audit/verify", nil, nil},
		{"PATCH", "", AmendRequest{Version: ptr(1), Title: lifecycle.Plain(title)}, []string{"coordinator"}},
		{"POST", "/decisions", DecisionRequest{Version: 1, Decision: "approve"}, []string{"approver"}},
		{"POST", "/milestones/m1/progress", ProgressRequest{Note: "progress"}, []string{"coordinator"}},
		{"POST", "/milestones/m1/extensions", ExtensionRequest{NewDue: "2099-12-31", Reason: "later"}, []string{"coordinator"}},
		{"POST", "/milestones/m1/extensions/x1/decisions", ExtensionDecisionRequest{Decision: "approve"}, []string{"approver"}},
		{"POST", "/suspend", ReasonRequest{Reason: "pause"}, []string{"approver"}},
		{"POST", "/resume", ReasonRequest{Reason: "go on"}, []string{"approver"}},
		{"GET", "/publication", nil, nil},
		{"POST", "/publication", PublicationRequest{Version: 1, Decision: "consent"}, []string{"approver"}},
		{"POST", "/milestones/m1/complete", ProgressRequest{Note: "done"}, []string{"coordinator"}},
		{"POST", "/cancel", ReasonRequest{Reason: "stop"}, []string{"approver"}},
	}
	type principal struct {
		id, party, role string
	}
	var principals []principal
	for _, p := range []string{"PA", "US", "MX"} {
		for _, role := range seedRoles {
			principals = append(principals, principal{id: fmt.Sprintf("%s-%s", map[string]string{"PA": "pa", "US": "us", "MX": "mx"}[p], role), party: p, role: role})
		}
	}
	principals = append(principals, principal{id: "admin", role: "admin"})

	checked, succeeded := 0, 0
	for _, ep := range endpoints {
		for _, p := range principals {
			visible := p.party == "PA" || p.party == "US" || p.role == "admin"
			allowed := ep.roles == nil
			for _, r := range ep.roles {
				allowed = allowed || r == p.role
			}
			r := s.call(p.id, ep.method, "/v1/activities/"+a.ID+ep.path, ep.body)
			ghost := s.call(p.id, ep.method, "/v1/activities/act_doesnotexist"+ep.path, ep.body)
			checked++
			what := fmt.Sprintf("%s %s as %s", ep.method, ep.path, p.id)
			switch {
			case !visible:
				// Outsiders learn nothing: the answer is the one for a
				// made-up id, and never a success.
				if r.status < 300 || r.status != ghost.status || r.problem(t).Type != ghost.problem(t).Type {
					t.Errorf("%s: got %d, for a missing activity %d", what, r.status, ghost.status)
				}
			case !allowed:
				if r.status != http.StatusForbidden {
					t.Errorf("%s: got %d, want 403 (role %s may not)", what, r.status, p.role)
				}
			case r.status == http.StatusForbidden || r.status == http.StatusNotFound:
				// The role may act, but the core may still refuse (the
				// wrong party's milestone, the proposer's own proposal):
				// then it must say so as a problem, not as a success.
				r.problem(t)
			case r.status < 300:
				succeeded++
			}
			if r.status >= 500 {
				t.Errorf("%s: server error %d: %s", what, r.status, r.body)
			}
		}
	}
	// The admin endpoints are for admins only.
	for _, path := range []string{"/v1/admin/parties", "/v1/admin/dialogues", "/v1/admin/principals", "/v1/admin/tokens"} {
		for _, p := range principals {
			r := s.call(p.id, "GET", path, nil)
			checked++
			if (p.role == "admin") != (r.status == http.StatusOK) || (p.role != "admin" && r.status != http.StatusForbidden) {
				t.Errorf("GET %s as %s: %d", path, p.id, r.status)
			}
		}
	}
	// Lists never show the activity to outsiders.
	for _, p := range principals {
		ids := s.listIDs(t, p.id, "?limit=200")
		checked++
		visible := p.party == "PA" || p.party == "US" || p.role == "admin"
		if slices.Contains(ids, a.ID) != visible {
			t.Errorf("list as %s shows the activity: %v, want %v", p.id, slices.Contains(ids, a.ID), visible)
		}
	}
	t.Logf("authorization matrix: %d checks (%d principals × %d activity operations, admin routes and lists), %d allowed requests succeeded",
		checked, len(principals), len(endpoints), succeeded)
	if succeeded == 0 {
		t.Fatal("no allowed request succeeded; the matrix proves nothing")
	}
}
