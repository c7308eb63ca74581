package api

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"pacto/internal/lifecycle"
)

// FuzzDecodeProposal feeds arbitrary bodies through the API's decoding and
// validation of a proposal, up to the core's Decide: nothing may panic,
// and every refusal must be a client error (4xx) with a problem class, so
// bad input can never become a 500.
func FuzzDecodeProposal(f *testing.F) {
	for _, seed := range []string{
		`{"dialogue":"hld-pa-us","parties":["PA","US"],"title":"T","milestones":[{"title":"M","owner":"PA","due":"P6M"}]}`,
		`{"dialogue":"hld-pa-us","parties":["PA","US"],"title":"T","milestones":[{"title":"M","owner":"PA","due":"2027-03-31","indicator":{"target":1e308,"baseline":-1e308}}],"policy":{"approval_window":"PT1S","overdue_reminders":-1}}`,
		`{"title": `, `[]`, `null`, `{"parties":"PA"}`, `{"milestones":[{"due":"P99999999999Y"}]}`, `{"x":1}`, `{} {}`,
		"{\"title\":\"\xff\xfe\"}",
	} {
		f.Add([]byte(seed))
	}
	parties := []lifecycle.Party{{Code: "PA", TimeZone: "America/Panama"}, {Code: "US", TimeZone: "America/New_York"}}
	actor := lifecycle.Principal{ID: "pa-coordinator", Party: "PA", Roles: []lifecycle.Role{lifecycle.RoleCoordinator}}
	now := time.Date(2027, 1, 4, 15, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/v1/activities", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		var req ProposeRequest
		err := decode(httptest.NewRecorder(), r, &req)
		if err == nil {
			var cmd lifecycle.Propose
			if cmd, err = proposeCommand(req, parties); err == nil {
				cmd.ActivityID = "act_fuzz"
				if _, derr := lifecycle.Decide(lifecycle.State{}, cmd, actor, now); derr != nil {
					var ce *lifecycle.Error
					if !errors.As(derr, &ce) {
						t.Fatalf("core refused with an untyped error: %v", derr)
					}
					err = coreProblem(ce)
				}
			}
		}
		if err == nil {
			return
		}
		var ae *apiError
		if !errors.As(err, &ae) {
			t.Fatalf("refusal %v is not a problem", err)
		}
		if ae.class.status < 400 || ae.class.status >= 500 {
			t.Fatalf("bad input got status %d: %v", ae.class.status, err)
		}
	})
}
