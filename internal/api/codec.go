package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"pacto/internal/store"
)

// CodecEndpoint serves the payload codec to the Temporal Web UI and CLI,
// by the remote codec protocol: POST /codec/encode and /codec/decode take
// and answer {"payloads": [...]}. Decoded payloads are the activities'
// texts, so only admins may use it.
type CodecEndpoint struct {
	// Codec is the processes' payload codec.
	Codec converter.PayloadCodec
	// Origins are the Web UI origins (scheme://host[:port]) whose pages
	// may call the endpoint from a browser (CORS, with credentials); a
	// request from any other page is refused.
	Origins []string
	// Session, when set, finds the principal of a console session from
	// the request's cookie. It is consulted only for a request from one of
	// Origins that carries no Authorization header: that is how the Web
	// UI, which knows no Pacto token, calls the endpoint for the person
	// signed in to the console.
	Session func(*http.Request) (store.Principal, error)
}

// ServeCodec serves e under /codec; call it before Handler. Without it
// there is no /codec.
func (s *Server) ServeCodec(e CodecEndpoint) { s.codec = &e }

// maxCodecBody bounds a codec request. A history's payloads are each at
// most 2 MiB on a default Temporal server, and base64 in JSON; the UI
// sends those of one event at a time.
const maxCodecBody = 16 << 20

// codecRequestHeaders are those the UI and the CLI send.
const codecRequestHeaders = "Authorization, Content-Type, X-Namespace"

func (s *Server) codecRoutes(r chi.Router) {
	r.Use(s.codecOrigin)
	r.Options("/encode", s.codecPreflight)
	r.Options("/decode", s.codecPreflight)
	r.Group(func(r chi.Router) {
		r.Use(s.codecAuthenticate, s.codecAdmin)
		r.Post("/encode", s.handle(s.codecApply(func(ps []*commonpb.Payload) ([]*commonpb.Payload, error) { return s.codec.Codec.Encode(ps) })))
		r.Post("/decode", s.handle(s.codecApply(func(ps []*commonpb.Payload) ([]*commonpb.Payload, error) { return s.codec.Codec.Decode(ps) })))
	})
}

// codecOrigin refuses a request from a browser page of an origin not
// configured, and lets pages of configured origins read the answers,
// with credentials (the console's cookie).
func (s *Server) codecOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		if origin == "" {
			// Not from a browser page (the CLI, a script): the token decides.
			next.ServeHTTP(w, r)
			return
		}
		if !slices.Contains(s.codec.Origins, origin) {
			writeProblem(w, r, fail(probForbidden, "the codec endpoint does not serve pages of "+clip(origin)+"; set PACTO_CODEC_CORS_ORIGIN to the Temporal Web UI's origin"))
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Access-Control-Allow-Credentials", "true")
		next.ServeHTTP(w, r)
	})
}

// codecPreflight answers a CORS preflight from a configured origin (the
// others were refused by codecOrigin).
func (s *Server) codecPreflight(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Origin") == "" || r.Header.Get("Access-Control-Request-Method") == "" {
		w.Header().Set("Allow", "OPTIONS, POST")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.Header.Get("Access-Control-Request-Method") != http.MethodPost {
		writeProblem(w, r, fail(probMethod, "the codec endpoint takes POST only"))
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "POST")
	h.Set("Access-Control-Allow-Headers", codecRequestHeaders)
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// codecAuthenticate takes the bearer token, as the API does, or, for the
// Web UI's pages (from a configured origin, with no Authorization), the
// console session whose cookie the browser sends.
func (s *Server) codecAuthenticate(next http.Handler) http.Handler {
	bearer := s.authenticate(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" || r.Header.Get("Origin") == "" || s.codec.Session == nil {
			bearer.ServeHTTP(w, r)
			return
		}
		p, err := s.codec.Session(r)
		switch {
		case errors.Is(err, store.ErrNoSession):
			writeProblem(w, r, fail(probUnauthorized, "sign in to Pacto's console as an admin in this browser, or send the header Authorization: Bearer <token>"))
			return
		case err != nil:
			s.handle(func(http.ResponseWriter, *http.Request) error { return err })(w, r)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// codecAdmin lets only admins through: a decoded payload is government
// data of every party, which no other role sees whole.
func (s *Server) codecAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hasRole(principalOf(r), "admin") {
			writeProblem(w, r, fail(probForbidden, "only an admin may use the codec endpoint: decoded payloads hold every party's texts"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// codecApply reads {"payloads": [...]}, applies f, and answers the same
// shape. The namespace the UI names in X-Namespace is not consulted: the
// processes have one key ring, for their namespace.
func (s *Server) codecApply(f func([]*commonpb.Payload) ([]*commonpb.Payload, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if ct := r.Header.Get("Content-Type"); ct != "" {
			// A browser form or a plain-text fetch, which needs no CORS
			// preflight, is no codec client.
			if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
				return fail(probMediaType, "send the payloads as application/json")
			}
		}
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCodecBody))
		if err != nil {
			if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
				return fail(probTooLarge, fmt.Sprintf("the body exceeds %d bytes", tooLarge.Limit))
			}
			return fail(probMalformed, "the body could not be read: "+err.Error())
		}
		var in commonpb.Payloads
		if err := protojson.Unmarshal(b, &in); err != nil {
			return fail(probMalformed, `send {"payloads": [...]}, each payload with base64 metadata values and data: `+err.Error())
		}
		out, err := f(in.GetPayloads())
		if err != nil {
			return fail(probInvalid, err.Error())
		}
		res, err := protojson.Marshal(&commonpb.Payloads{Payloads: out})
		if err != nil {
			return fmt.Errorf("marshal payloads: %w", err)
		}
		w.Header().Set("Content-Type", "application/json")
		// Decoded payloads are government data: no cache keeps them.
		w.Header().Set("Cache-Control", "no-store")
		_, err = w.Write(res)
		return err
	}
}

// ParseOrigins reads a comma-separated list of Web UI origins, each
// scheme://host[:port], and returns them as browsers send them in Origin.
func ParseOrigins(list string) ([]string, error) {
	var out []string
	for o := range strings.SplitSeq(list, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("origin %q: write it as scheme://host[:port], as the browser shows the Web UI's address", o)
		}
		scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
		// Browsers leave the scheme's default port out of Origin.
		if port := u.Port(); (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
			host = strings.TrimSuffix(host, ":"+port)
		}
		out = append(out, scheme+"://"+host)
	}
	return out, nil
}
