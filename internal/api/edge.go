package api

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
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
	deliveryIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,299}$`)
	pathIDs           = map[string]struct {
		pattern *regexp.Regexp
		what    string
	}{
		"id":  {idPattern, "activity"},
		"mid": {idPattern, "milestone"},
		"eid": {idPattern, "extension"},
		"tid": {idPattern, "token"},
		"wid": {idPattern, "webhook"},
		"did": {deliveryIDPattern, "delivery"},
	}
)

// badPathID names the first path parameter of the matched route that
// cannot be an id, as a 404.
func badPathID(r *http.Request) *apiError {
	rc := chi.RouteContext(r.Context())
	if rc == nil {
		return nil
	}
	for i, key := range rc.URLParams.Keys {
		if p, ok := pathIDs[key]; ok && !p.pattern.MatchString(rc.URLParams.Values[i]) {
			return fail(probNotFound, "no such "+p.what)
		}
	}
	return nil
}
