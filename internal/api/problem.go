package api

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5/middleware"

	"pacto/internal/lifecycle"
)

// Problem is an RFC 9457 problem details object. Type is a stable URI
// reference naming the class of error; clients switch on it, not on Detail.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Instance  string `json:"instance,omitempty"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	// Language and Missing say, when a version cannot be approved for
	// want of texts in a language, which language and which texts.
	Language string   `json:"language,omitempty"`
	Missing  []string `json:"missing,omitempty"`
}

// problemClass is one stable class of error.
type problemClass struct {
	slug   string
	title  string
	status int
}

// The classes of error the API returns; /docs lists them.
var (
	probMalformed       = problemClass{"malformed-request", "The request could not be read", http.StatusBadRequest}
	probUnauthorized    = problemClass{"unauthenticated", "A valid bearer token is required", http.StatusUnauthorized}
	probForbidden       = problemClass{"forbidden", "Not allowed for this principal", http.StatusForbidden}
	probNotFound        = problemClass{"not-found", "No such resource", http.StatusNotFound}
	probMethod          = problemClass{"method-not-allowed", "Method not allowed on this resource", http.StatusMethodNotAllowed}
	probStale           = problemClass{"stale-version", "The request was made against an older version", http.StatusConflict}
	probTransition      = problemClass{"invalid-transition", "Not possible in the activity's current state", http.StatusConflict}
	probConflict        = problemClass{"conflict", "Conflicts with an existing resource", http.StatusConflict}
	probTooLarge        = problemClass{"payload-too-large", "The request body is too large", http.StatusRequestEntityTooLarge}
	probMediaType       = problemClass{"unsupported-media-type", "The request body must be JSON", http.StatusUnsupportedMediaType}
	probPrecondition    = problemClass{"precondition-required", "The version being changed must be given", http.StatusPreconditionRequired}
	probInvalid         = problemClass{"invalid-input", "A field of the request is invalid", http.StatusUnprocessableEntity}
	probURITooLong      = problemClass{"uri-too-long", "The request URI is too long", http.StatusRequestURITooLong}
	probHeadersTooLarge = problemClass{"header-fields-too-large", "The request header fields are too large", http.StatusRequestHeaderFieldsTooLarge}
	probUnavailable     = problemClass{"unavailable", "A service Pacto depends on is unavailable", http.StatusServiceUnavailable}
	probInternal        = problemClass{"internal", "Internal error", http.StatusInternalServerError}
	allProblemClasses   = []problemClass{probMalformed, probUnauthorized, probForbidden, probNotFound, probMethod,
		probStale, probTransition, probConflict, probTooLarge, probMediaType, probPrecondition, probInvalid,
		probURITooLong, probHeadersTooLarge, probUnavailable, probInternal}
)

// retryAfterSeconds is the Retry-After of every 503.
const retryAfterSeconds = "5"

// problemTypeBase prefixes every problem type; /docs#problems explains each.
const problemTypeBase = "/docs#problem-"

// apiError is an error that already knows its problem class.
type apiError struct {
	class  problemClass
	detail string
	field  string
	// retryAfter, in seconds, is sent as Retry-After when set.
	retryAfter int
	language   string
	missing    []string
	// cause, when set, is a condition callers test for with errors.Is.
	cause error
}

func (e *apiError) Error() string { return e.detail }

func (e *apiError) Unwrap() error { return e.cause }

func fail(c problemClass, detail string) *apiError { return &apiError{class: c, detail: detail} }

func failField(c problemClass, field, detail string) *apiError {
	return &apiError{class: c, detail: detail, field: field}
}

// coreProblem maps the core's error kinds to problem classes.
func coreProblem(e *lifecycle.Error) *apiError {
	c := probInvalid
	switch e.Kind {
	case lifecycle.KindForbidden:
		c = probForbidden
	case lifecycle.KindNotFound:
		c = probNotFound
	case lifecycle.KindStaleVersion:
		c = probStale
	case lifecycle.KindInvalidTransition:
		c = probTransition
	}
	return &apiError{class: c, detail: e.Message, field: e.Field, language: e.Language, missing: e.Missing}
}

func writeProblem(w http.ResponseWriter, r *http.Request, e *apiError) {
	p := Problem{
		Type:      problemTypeBase + e.class.slug,
		Title:     e.class.title,
		Status:    e.class.status,
		Detail:    e.detail,
		Instance:  clip(r.URL.EscapedPath()),
		Field:     e.field,
		RequestID: middleware.GetReqID(r.Context()),
		Language:  e.language,
		Missing:   e.missing,
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	switch {
	case e.retryAfter > 0:
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	case p.Status == http.StatusServiceUnavailable:
		// What is missing is usually back within seconds (a restart, a
		// failover); say when a retry is worth it (RFC 9110).
		w.Header().Set("Retry-After", retryAfterSeconds)
	}
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
