package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.temporal.io/api/serviceerror"

	"pacto/internal/app"
)

// A namespace without Pacto's search attributes (setup not run, or run
// seconds ago) is a dependency not ready: 503 with Retry-After, not 500.
// Another InvalidArgument stays an internal error.
func TestUnmappedSearchAttributeIsUnavailable(t *testing.T) {
	unmapped := fmt.Errorf("start activity x: %w",
		serviceerror.NewInvalidArgument("Namespace pacto has no mapping defined for search attribute PactoPendingParties"))
	if !unavailable(unmapped) {
		t.Fatal("an unmapped search attribute is not classed unavailable")
	}
	if p := Describe(unmapped); p.Status != http.StatusServiceUnavailable || p.Type != problemTypeBase+probUnavailable.slug {
		t.Fatalf("Describe: %+v", p)
	}
	other := fmt.Errorf("start activity x: %w", serviceerror.NewInvalidArgument("WorkflowId is not set on request"))
	if unavailable(other) || Describe(other).Status != http.StatusInternalServerError {
		t.Fatalf("another InvalidArgument is %+v", Describe(other))
	}

	s := &Server{log: quietLogger()}
	rec := httptest.NewRecorder()
	s.handle(func(http.ResponseWriter, *http.Request) error { return unmapped })(rec, httptest.NewRequest("POST", "/v1/activities", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || rec.Header().Get("Content-Type") != "application/problem+json" {
		t.Fatalf("handled: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
}

// Against a real server whose namespace lacks the attributes, a proposal
// is answered 503 with Retry-After.
func TestProposalOnANamespaceWithoutAttributes(t *testing.T) {
	s := newStackOn(t, app.Delivery{}, stackOptions{noAttributes: true})
	r := s.call("pa-coordinator", "POST", "/v1/activities", proposal())
	want(t, r, http.StatusServiceUnavailable, probUnavailable.slug)
	if r.header.Get("Retry-After") == "" {
		t.Fatalf("no Retry-After: %v", r.header)
	}
}
