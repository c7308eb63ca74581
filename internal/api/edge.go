package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// What the API accepts of a request before any handler looks at it. They
// are well below net/http's own cap (set where the http.Server is made),
// so that an oversized request is refused here, as problem JSON.
const (
	// MaxURIBytes bounds the request target: path and query string.
	MaxURIBytes = 8 << 10
	// MaxHeaderBytes bounds the header fields, counted as sent
	// ("Name: value\r\n" each).
	MaxHeaderBytes = 64 << 10
)

// limits refuses a request whose target or header fields are too large.
func limits(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := len(r.RequestURI); n > MaxURIBytes {
			writeProblem(w, r, fail(probURITooLong, fmt.Sprintf("the request URI is %d bytes long; the limit is %d", n, MaxURIBytes)))
			return
		}
		// net/http keeps Host apart from the other fields.
		n := len("Host: \r\n") + len(r.Host)
		for name, values := range r.Header {
			for _, v := range values {
				n += len(name) + len(": \r\n") + len(v)
			}
		}
		if n > MaxHeaderBytes {
			writeProblem(w, r, fail(probHeadersTooLarge, fmt.Sprintf("the header fields are %d bytes; the limit is %d", n, MaxHeaderBytes)))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// headAsGet routes HEAD as GET: a HEAD is the GET without its body (RFC
// 9110), and net/http drops the body the GET handler writes. No route
// registers HEAD itself. (chi's GetHead looks for a HEAD route first and
// takes the mount of a sub-router such as /activities/{id} for one.)
func headAsGet(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rc := chi.RouteContext(r.Context()); rc != nil && r.Method == http.MethodHead {
			rc.RouteMethod = http.MethodGet
		}
		next.ServeHTTP(w, r)
	})
}

// maxEchoedPath bounds how much of a request's path a problem or a log
// line repeats: a path refused for its length is not worth echoing whole.
const maxEchoedPath = 1024

func clip(path string) string {
	if len(path) <= maxEchoedPath {
		return path
	}
	return strings.ToValidUTF8(path[:maxEchoedPath], "") + "..."
}

// maxRequestID bounds an X-Request-Id the client chooses.
const maxRequestID = 128

// requestID gives every request an id, answered in X-Request-Id and
// written in every log line and problem about it: the client's own, if it
// sent a usable one (visible ASCII, at most maxRequestID bytes, so it is
// safe in logs and headers), or a new random one.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(middleware.RequestIDHeader)
		if !usableRequestID(id) {
			b := make([]byte, 10)
			_, _ = rand.Read(b) // crypto/rand does not fail on supported platforms
			id = hex.EncodeToString(b)
		}
		w.Header().Set(middleware.RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), middleware.RequestIDKey, id)))
	})
}

func usableRequestID(id string) bool {
	if id == "" || len(id) > maxRequestID {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '!' || id[i] > '~' {
			return false
		}
	}
	return true
}

// apiCSP is the Content-Security-Policy of everything but /docs: the API
// serves data, never a page, so nothing may load and nobody may frame it.
const apiCSP = "default-src 'none'; frame-ancestors 'none'"

// securityHeaders tells browsers not to sniff content types and not to run
// or frame anything from an API response.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", apiCSP)
		next.ServeHTTP(w, r)
	})
}

// knownMethods are the methods the metrics name; any other is counted as
// "OTHER", so a client cannot add label values at will.
var knownMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace}

func methodLabel(m string) string {
	for _, k := range knownMethods {
		if m == k {
			return m
		}
	}
	return "OTHER"
}

// textQuery refuses query parameters that are not text PostgreSQL can
// hold: invalid UTF-8 or a NUL, in a name or a value.
func textQuery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for name, values := range r.URL.Query() {
			bad := !isText(name)
			for _, v := range values {
				bad = bad || !isText(v)
			}
			if bad {
				field := strings.ToValidUTF8(strings.ReplaceAll(name, "\x00", "\uFFFD"), "\uFFFD")
				writeProblem(w, r, failField(probInvalid, field, fmt.Sprintf("query parameter %q must be UTF-8 text without NUL characters", field)))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func isText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// Identifiers in paths. An id that cannot exist is answered 404 before it
// reaches Temporal (whose request headers must be printable ASCII) or
// PostgreSQL (whose text cannot hold NUL or invalid UTF-8).
var (
	// idPattern is the form of activity, milestone, extension, token and
	// webhook ids (the core's and the database's checks).
	idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$`)
	// deliveryIDPattern allows for a webhook delivery's id, which joins a
	// webhook id, an activity id and a sequence number.
	deliveryIDPattern    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,299}$`)
	meetingNumberPattern = regexp.MustCompile(`^[1-9][0-9]{0,2}$`)
	pathIDs              = map[string]struct {
		pattern *regexp.Regexp
		what    string
	}{
		"id":       {idPattern, "activity"},
		"mid":      {idPattern, "milestone"},
		"eid":      {idPattern, "extension"},
		"tid":      {idPattern, "token"},
		"wid":      {idPattern, "webhook"},
		"did":      {deliveryIDPattern, "delivery"},
		"pid":      {principalIDPattern, "principal"},
		"code":     {partyCodePattern, "party"},
		"dialogue": {dialogueIDPattern, "dialogue"},
		"number":   {meetingNumberPattern, "meeting"},
	}
)

// badID is the 404 for a value of path parameter key that cannot be an
// id, for the methods the console calls without a route.
func badID(key, v string) *apiError {
	if p, ok := pathIDs[key]; ok && !p.pattern.MatchString(v) {
		return fail(probNotFound, "no such "+p.what)
	}
	return nil
}

// badPathID names the first path parameter of the matched route that
// cannot be an id, as a 404.
func badPathID(r *http.Request) *apiError {
	rc := chi.RouteContext(r.Context())
	if rc == nil {
		return nil
	}
	for i, key := range rc.URLParams.Keys {
		if ae := badID(key, rc.URLParams.Values[i]); ae != nil {
			return ae
		}
	}
	return nil
}
