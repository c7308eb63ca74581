package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"pacto/internal/lifecycle"
	"pacto/internal/store"
	"pacto/workflows"
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
		// Raw NUL and control bytes are not JSON; escaped ones are.
		"{\"dialogue\":\"hld-pa-us\",\"title\":\"a\x00b\"}", "{\"title\":\"\x1b\"}",
		`{"dialogue":"hld-pa-us","parties":["PA","US"],"title":"\ud800","milestones":[{"title":"\udfff","owner":"PA","due":"P6M"}]}`,
		// Texts keyed by language: both, one, an unknown one, an empty
		// tag, a non-string, an empty object.
		`{"dialogue":"hld-pa-us","parties":["PA","US"],"title":{"es":"T","en":"T"},"summary":{"en":"S"},"milestones":[{"title":{"es":"M"},"owner":"PA","due":"P6M","indicator":{"target":1,"unit":{"en":"u","es":"u"}}}]}`,
		`{"dialogue":"hld-pa-us","parties":["PA","US"],"title":{"fr":"T"},"milestones":[{"title":{"":"M"},"owner":"PA","due":"P6M"}]}`,
		`{"title":{"es":1}}`, `{"title":{}}`, `{"objectives":[{"es":""},"x",null]}`,
	} {
		f.Add([]byte(seed))
	}
	for _, seed := range oddProposals() {
		f.Add([]byte(seed))
	}
	frame := store.DialogueFrame{Parties: []lifecycle.Party{{Code: "PA", TimeZone: "America/Panama", Language: "es"}, {Code: "US", TimeZone: "America/New_York", Language: "en"}},
		Languages: []string{"en", "es"}}
	actor := lifecycle.Principal{ID: "pa-coordinator", Party: "PA", Roles: []lifecycle.Role{lifecycle.RoleCoordinator}}
	now := time.Date(2027, 1, 4, 15, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/v1/activities", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		var req ProposeRequest
		err := decode(httptest.NewRecorder(), r, &req)
		if err == nil {
			var cmd lifecycle.Propose
			if cmd, err = proposeCommand(req, frame); err == nil {
				cmd.ActivityID, cmd.Rules = "act_fuzz", workflows.InputVersion
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

// oddProposals are well-formed proposals with one field set to text no
// form would produce but any client may send: NUL bytes, invalid UTF-8
// (which the JSON decoder turns into U+FFFD), C0 and C1 controls, a bidi
// override, non-ASCII letters and ids, LIKE wildcards and very long
// strings. The API and the core may take or refuse each; a refusal must
// still be a client error.
func oddProposals() []string {
	odd := []string{
		"\x00", "a\x00b", "\xff", "\x1b[2J", "\a", "\t\r\n", "\u0085", "\u202e", "ñ", "act_ñ", "%", "_", "%_\\",
		strings.Repeat("x", 100_000), strings.Repeat("ñ", 10_000),
	}
	fields := []func(p, m map[string]any, v string){
		func(p, _ map[string]any, v string) { p["title"] = v },
		func(p, _ map[string]any, v string) { p["summary"] = v },
		func(p, _ map[string]any, v string) { p["objectives"] = []string{"train", v} },
		func(p, _ map[string]any, v string) { p["dialogue"] = v },
		func(p, _ map[string]any, v string) { p["parties"] = []string{"PA", v} },
		func(_, m map[string]any, v string) { m["id"] = v },
		func(_, m map[string]any, v string) { m["title"] = v },
		func(_, m map[string]any, v string) { m["owner"] = v },
		func(_, m map[string]any, v string) { m["due"] = v },
		func(_, m map[string]any, v string) { m["due"] = "P6M" + v },
		func(_, m map[string]any, v string) { m["horizon"] = v },
		func(_, m map[string]any, v string) { m["indicator"] = map[string]any{"target": 1, "unit": v} },
		func(p, _ map[string]any, v string) { p["policy"] = map[string]any{"due_soon_lead": "P1D" + v} },
	}
	// Raw invalid UTF-8 in a proposal that is otherwise valid.
	out := []string{`{"dialogue":"hld-pa-us","parties":["PA","US"],"title":"` + "\xff\xc3" + `","milestones":[{"id":"` + "m\xff" + `","title":"M","owner":"PA","due":"P6M"}]}`}
	for _, v := range odd {
		for _, set := range fields {
			m := map[string]any{"id": "m1", "title": "M", "owner": "PA", "due": "P6M"}
			p := map[string]any{"dialogue": "hld-pa-us", "parties": []string{"PA", "US"}, "title": "T", "milestones": []any{m}}
			set(p, m, v)
			b, err := json.Marshal(p)
			if err != nil {
				panic(err)
			}
			out = append(out, string(b))
		}
	}
	return out
}
