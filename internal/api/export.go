package api

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"pacto/internal/export/tabular"
	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// The media types of the spreadsheet exports.
const (
	csvMediaType  = "text/csv; charset=utf-8; header=present"
	xlsxMediaType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

func (s *Server) exportCSV(w http.ResponseWriter, r *http.Request) error {
	return s.Export(w, r, principalOf(r), "csv")
}

func (s *Server) exportXLSX(w http.ResponseWriter, r *http.Request) error {
	return s.Export(w, r, principalOf(r), "xlsx")
}

// Export answers r with the activities principal p may see, filtered by
// r's query as GET /v1/activities filters them (every match: limit and
// cursor are not read), as a download in format, csv or xlsx: one row per
// milestone, in p's language, times in p's party's zone (UTC for a
// principal of no party). A CSV also reads delimiter (, or ;) and bom
// (true or false) from the query.
//
// An error returned means nothing has been written, and the caller
// answers it. Once the body has begun, a failure can no longer be told in
// a status: the response is aborted, so the client sees a broken transfer
// rather than a short file it could take for the whole.
func (s *Server) Export(w http.ResponseWriter, r *http.Request, p store.Principal, format string) error {
	ctx := r.Context()
	// Go no longer splits a query at ';' and drops any pair holding one,
	// so "delimiter=;" would silently become the default comma.
	if strings.Contains(r.URL.RawQuery, ";") {
		return failField(probMalformed, "delimiter", "the query holds a ';': separate parameters with '&', and write a ';' value as %3B (delimiter=%3B)")
	}
	q := r.URL.Query()
	q.Del("limit")
	q.Del("cursor")
	f, none, err := ListFilter(p, q, s.now())
	if err != nil {
		return err
	}
	o := tabular.Options{Lang: p.Language, Now: s.now()}
	var mediaType string
	switch format {
	case "csv":
		mediaType = csvMediaType
		if o.Comma, o.BOM, err = csvParams(q); err != nil {
			return err
		}
	case "xlsx":
		mediaType = xlsxMediaType
	default:
		return fail(probNotFound, "no export as "+format)
	}
	if o.Zone, err = s.zoneOf(ctx, p); err != nil {
		return err
	}
	src := tabular.Nothing()
	if !none {
		src = tabular.NewSource(s.store, f)
	}
	// The file may take longer to send than the server's write timeout.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.exportTimeout))
	h := w.Header()
	h.Set("Content-Type", mediaType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": tabular.FileName(o, f.Dialogue, format)}))
	h.Set("Cache-Control", "no-store")
	out := &startedWriter{ResponseWriter: w}
	if format == "csv" {
		err = tabular.WriteCSV(ctx, out, src, o)
	} else {
		err = tabular.WriteXLSX(ctx, out, src, o)
	}
	if err == nil || !out.started {
		if err != nil {
			// Nothing was sent: the caller answers with its own.
			for _, k := range []string{"Content-Type", "Content-Disposition", "Cache-Control"} {
				h.Del(k)
			}
		}
		return err
	}
	s.log.ErrorContext(ctx, "export failed after its body began; the response is aborted", "err", err, "format", format,
		"request_id", middleware.GetReqID(ctx))
	// net/http's own way to abort a response: the connection (or HTTP/2
	// stream) is reset, and nothing further is logged for it.
	panic(http.ErrAbortHandler)
}

// delimiters are the values of a CSV export's delimiter and the separators
// they name: besides "," and ";", the names "comma" and "semicolon" spare
// a client escaping the ';'.
var delimiters = map[string]rune{",": ',', "comma": ',', ";": ';', "semicolon": ';'}

// csvParams reads a CSV export's delimiter and byte-order mark from q.
func csvParams(q url.Values) (comma rune, bom bool, err error) {
	comma = ','
	if d := q.Get("delimiter"); d != "" {
		var ok bool
		if comma, ok = delimiters[d]; !ok {
			return 0, false, failField(probMalformed, "delimiter", "delimiter must be ',' or ';' (or comma, semicolon)")
		}
	}
	switch q.Get("bom") {
	case "", "false":
	case "true":
		bom = true
	default:
		return 0, false, failField(probMalformed, "bom", "bom must be true or false")
	}
	return comma, bom, nil
}

// zoneOf is the zone of p's party, or UTC for a principal of no party.
func (s *Server) zoneOf(ctx context.Context, p store.Principal) (*time.Location, error) {
	if p.Party == "" {
		return time.UTC, nil
	}
	parties, err := s.store.Parties(ctx)
	if err != nil {
		return nil, err
	}
	for _, party := range parties {
		if party.Code == p.Party {
			loc, err := lifecycle.LoadZone(party.TimeZone)
			if err != nil {
				return nil, fmt.Errorf("zone of party %s: %w", party.Code, err)
			}
			return loc, nil
		}
	}
	return time.UTC, nil
}

// startedWriter notes whether anything has been written through it.
type startedWriter struct {
	http.ResponseWriter
	started bool
}

func (w *startedWriter) Write(b []byte) (int, error) {
	w.started = w.started || len(b) > 0
	return w.ResponseWriter.Write(b)
}
