package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"pacto/internal/codec"
	"pacto/internal/pgtest"
	"pacto/internal/store"
)

const uiOrigin = "https://temporal-ui.example.gov"

// codecSite is the API serving the codec endpoint over a real database,
// with an admin and a coordinator, each with a token and a console
// session.
type codecSite struct {
	t        *testing.T
	base     string
	codec    *codec.Codec
	tokens   map[string]string
	sessions map[string]string
}

func newCodecSite(t *testing.T) *codecSite {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	k, err := codec.NewKey("k1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := codec.New([]codec.Key{k})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateParty(ctx, store.Party{Code: "PA", Name: "Panamá", TimeZone: "America/Panama", Language: "es"}); err != nil {
		t.Fatal(err)
	}
	site := &codecSite{t: t, codec: c, tokens: map[string]string{}, sessions: map[string]string{}}
	times := store.SessionTimes{Idle: time.Hour, Absolute: time.Hour}
	for _, p := range []store.Principal{
		{ID: "admin", Roles: []string{"admin"}, Name: "Admin", Language: "en"},
		{ID: "pa-coordinator", Party: "PA", Roles: []string{"coordinator"}, Name: "PA coordinator", Language: "es"},
	} {
		if _, err := st.CreatePrincipal(ctx, p); err != nil {
			t.Fatal(err)
		}
		if _, site.tokens[p.ID], err = st.CreateToken(ctx, p.ID, "test"); err != nil {
			t.Fatal(err)
		}
		if site.sessions[p.ID], err = st.CreateSession(ctx, p.ID, "dev", time.Now(), times); err != nil {
			t.Fatal(err)
		}
	}
	srv := New(st, nil, Options{Logger: quietLogger()})
	srv.ServeCodec(CodecEndpoint{Codec: c, Origins: []string{uiOrigin}, Session: func(r *http.Request) (store.Principal, error) {
		// As the console finds its sessions.
		ck, err := r.Cookie("pacto_session")
		if err != nil {
			return store.Principal{}, store.ErrNoSession
		}
		return st.SessionPrincipal(r.Context(), ck.Value, time.Now(), times)
	}})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	site.base = hs.URL
	return site
}

// codecCall is one request to the endpoint: as a bearer token's
// principal, a session's, or neither; from a page of origin, or none.
type codecCall struct {
	method, path      string
	token, session    string
	origin            string
	contentType, body string
	headers           []string
}

func (s *codecSite) do(c codecCall) (*http.Response, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(c.method, s.base+c.path, strings.NewReader(c.body))
	if err != nil {
		s.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.tokens[c.token])
	}
	if c.session != "" {
		req.AddCookie(&http.Cookie{Name: "pacto_session", Value: s.sessions[c.session]})
	}
	if c.origin != "" {
		req.Header.Set("Origin", c.origin)
	}
	ct := c.contentType
	if ct == "" && c.method == http.MethodPost {
		ct = "application/json"
	}
	if ct != "-" && ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("X-Namespace", "default")
	for i := 0; i+1 < len(c.headers); i += 2 {
		req.Header.Set(c.headers[i], c.headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// payloadsJSON is the body the Web UI sends.
func payloadsJSON(t *testing.T, ps ...*commonpb.Payload) string {
	t.Helper()
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: ps})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readPayloads(t *testing.T, b []byte) []*commonpb.Payload {
	t.Helper()
	var ps commonpb.Payloads
	if err := protojson.Unmarshal(b, &ps); err != nil {
		t.Fatalf("answer %s: %v", b, err)
	}
	return ps.Payloads
}

func problemOf(t *testing.T, resp *http.Response, b []byte) Problem {
	t.Helper()
	var p Problem
	if resp.Header.Get("Content-Type") != "application/problem+json" || json.Unmarshal(b, &p) != nil {
		t.Fatalf("status %d, %s: %s is not a problem", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	return p
}

const codecTitle = "Capacitación aduanera conjunta"

func TestCodecEndpointDecodesForAdminsOnly(t *testing.T) {
	s := newCodecSite(t)
	plain, err := converter.GetDefaultDataConverter().ToPayload(map[string]string{"title": codecTitle})
	if err != nil {
		t.Fatal(err)
	}
	// What a worker wrote into the history.
	sealed, err := s.codec.Encode([]*commonpb.Payload{plain})
	if err != nil {
		t.Fatal(err)
	}
	body := payloadsJSON(t, sealed...)

	for _, c := range []struct {
		name   string
		call   codecCall
		status int
		says   string
	}{
		{"no token", codecCall{}, 401, "Authorization: Bearer"},
		{"a bad token", codecCall{headers: []string{"Authorization", "Bearer pacto_000000000000_nope"}}, 401, "invalid"},
		{"a coordinator's token", codecCall{token: "pa-coordinator"}, 403, "only an admin"},
		// A session is the Web UI's way in, and only from its origin.
		{"an admin's session without an origin", codecCall{session: "admin"}, 401, "Authorization: Bearer"},
		{"a coordinator's session from the UI", codecCall{session: "pa-coordinator", origin: uiOrigin}, 403, "only an admin"},
		{"no session from the UI", codecCall{origin: uiOrigin}, 401, "sign in to Pacto's console as an admin"},
		{"an admin's token from another page", codecCall{token: "admin", origin: "https://evil.example"}, 403, "does not serve pages of https://evil.example"},
		{"an admin's session from another page", codecCall{session: "admin", origin: "https://evil.example"}, 403, "does not serve pages"},
		{"a plain-text body", codecCall{token: "admin", contentType: "text/plain"}, 415, "application/json"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.call.method, c.call.path, c.call.body = http.MethodPost, "/codec/decode", body
			resp, b := s.do(c.call)
			p := problemOf(t, resp, b)
			if resp.StatusCode != c.status || !strings.Contains(p.Detail, c.says) {
				t.Fatalf("status %d %q; want %d saying %q", resp.StatusCode, p.Detail, c.status, c.says)
			}
			if bytes.Contains(b, []byte("Capacitaci")) {
				t.Fatalf("a refusal shows the plaintext: %s", b)
			}
		})
	}

	// An admin's token (the CLI: --codec-auth), and an admin's console
	// session from the UI's page, read the payload.
	for _, call := range []codecCall{{token: "admin"}, {session: "admin", origin: uiOrigin}} {
		call.method, call.path, call.body = http.MethodPost, "/codec/decode", body
		resp, b := s.do(call)
		if resp.StatusCode != 200 {
			t.Fatalf("decode as %+v: %d %s", call, resp.StatusCode, b)
		}
		got := readPayloads(t, b)
		var v map[string]string
		if len(got) != 1 || converter.GetDefaultDataConverter().FromPayload(got[0], &v) != nil || v["title"] != codecTitle {
			t.Fatalf("decoded %s", b)
		}
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("decoded payloads may be cached: Cache-Control %q", resp.Header.Get("Cache-Control"))
		}
		if call.origin != "" && (resp.Header.Get("Access-Control-Allow-Origin") != uiOrigin || resp.Header.Get("Access-Control-Allow-Credentials") != "true") {
			t.Errorf("the UI's page may not read the answer: %v", resp.Header)
		}
	}
}

func TestCodecEndpointEncodesAndDecodesRoundTrip(t *testing.T) {
	s := newCodecSite(t)
	plain, err := converter.GetDefaultDataConverter().ToPayloads(codecTitle, map[string]int{"version": 2})
	if err != nil {
		t.Fatal(err)
	}
	resp, b := s.do(codecCall{method: "POST", path: "/codec/encode", token: "admin", body: payloadsJSON(t, plain.Payloads...)})
	if resp.StatusCode != 200 {
		t.Fatalf("encode: %d %s", resp.StatusCode, b)
	}
	sealed := readPayloads(t, b)
	if len(sealed) != 2 || bytes.Contains(b, []byte("Capacitaci")) {
		t.Fatalf("encoded: %s", b)
	}
	for _, p := range sealed {
		if string(p.Metadata["encoding"]) != codec.EncodingEncrypted || string(p.Metadata[codec.MetadataKeyID]) != "k1" {
			t.Fatalf("encoded payload metadata %v", p.Metadata)
		}
	}
	// What the endpoint sealed, the workers' codec opens, and the endpoint
	// too.
	if _, err := s.codec.Decode(sealed); err != nil {
		t.Fatal(err)
	}
	resp, b = s.do(codecCall{method: "POST", path: "/codec/decode", token: "admin", body: payloadsJSON(t, sealed...)})
	if resp.StatusCode != 200 {
		t.Fatalf("decode: %d %s", resp.StatusCode, b)
	}
	var title string
	var version map[string]int
	if err := converter.GetDefaultDataConverter().FromPayloads(&commonpb.Payloads{Payloads: readPayloads(t, b)}, &title, &version); err != nil ||
		title != codecTitle || version["version"] != 2 {
		t.Fatalf("round trip gave %q %v, %v", title, version, err)
	}

	// A payload under a key the ring lacks is named; malformed bodies are
	// refused.
	other, _ := codec.NewKey("retired-2025")
	oc, _ := codec.New([]codec.Key{other})
	foreign, _ := oc.Encode(plain.Payloads[:1])
	for _, c := range []struct {
		body   string
		status int
		says   string
	}{
		{payloadsJSON(t, foreign...), 422, `key "retired-2025", which is not in the key ring`},
		{`{"payloads": [`, 400, "payloads"},
		{`{"payloads": [{"data": "not base64!"}]}`, 400, "payloads"},
	} {
		resp, b := s.do(codecCall{method: "POST", path: "/codec/decode", token: "admin", body: c.body})
		if p := problemOf(t, resp, b); resp.StatusCode != c.status || !strings.Contains(p.Detail, c.says) {
			t.Errorf("decode %s: %d %q; want %d saying %q", c.body, resp.StatusCode, p.Detail, c.status, c.says)
		}
	}
	// An empty list is a list.
	resp, b = s.do(codecCall{method: "POST", path: "/codec/decode", token: "admin", body: `{"payloads": []}`})
	if resp.StatusCode != 200 || len(readPayloads(t, b)) != 0 {
		t.Fatalf("empty decode: %d %s", resp.StatusCode, b)
	}
}

func TestCodecEndpointCORSOnlyForTheUIOrigin(t *testing.T) {
	s := newCodecSite(t)
	preflight := func(origin string) *http.Response {
		resp, _ := s.do(codecCall{method: http.MethodOptions, path: "/codec/decode", origin: origin, headers: []string{
			"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type,x-namespace,authorization"}})
		return resp
	}
	ok := preflight(uiOrigin)
	h := ok.Header
	if ok.StatusCode != 204 || h.Get("Access-Control-Allow-Origin") != uiOrigin || h.Get("Access-Control-Allow-Credentials") != "true" ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") {
		t.Fatalf("preflight from the UI: %d %v", ok.StatusCode, h)
	}
	for _, want := range []string{"Authorization", "Content-Type", "X-Namespace"} {
		if !strings.Contains(h.Get("Access-Control-Allow-Headers"), want) {
			t.Errorf("preflight allows headers %q; want %s among them", h.Get("Access-Control-Allow-Headers"), want)
		}
	}
	if !strings.Contains(h.Get("Vary"), "Origin") {
		t.Errorf("the answer depends on Origin and does not say so: Vary %q", h.Get("Vary"))
	}
	for _, origin := range []string{"https://evil.example", "http://temporal-ui.example.gov", uiOrigin + ":8443", "null"} {
		resp := preflight(origin)
		if resp.StatusCode != 403 || resp.Header.Get("Access-Control-Allow-Origin") != "" || resp.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("preflight from %s: %d %v; want 403 without CORS headers", origin, resp.StatusCode, resp.Header)
		}
	}
	// Only POST is offered.
	resp, _ := s.do(codecCall{method: http.MethodOptions, path: "/codec/encode", origin: uiOrigin, headers: []string{"Access-Control-Request-Method", "DELETE"}})
	if resp.StatusCode != 405 || resp.Header.Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("preflight for DELETE: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestCodecEndpointIsOffWithoutACodec(t *testing.T) {
	st, err := store.Open(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	hs := httptest.NewServer(New(st, nil, Options{Logger: quietLogger()}).Handler())
	t.Cleanup(hs.Close)
	resp, err := http.Post(hs.URL+"/codec/decode", "application/json", strings.NewReader(`{"payloads": []}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("/codec/decode without a codec: %d", resp.StatusCode)
	}
}

func TestParseOrigins(t *testing.T) {
	got, err := ParseOrigins(" https://UI.example.gov ,http://127.0.0.1:8233/, https://ui.example.gov:443")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"https://ui.example.gov", "http://127.0.0.1:8233", "https://ui.example.gov"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("got %v, want %v", got, want)
	}
	for _, bad := range []string{"ui.example.gov", "ftp://ui.example.gov", "https://ui.example.gov/path", "https://u:p@ui.example.gov", "https://"} {
		if _, err := ParseOrigins(bad); err == nil || !strings.Contains(err.Error(), "scheme://host") {
			t.Errorf("ParseOrigins(%q): %v", bad, err)
		}
	}
	if o, err := ParseOrigins(""); err != nil || len(o) != 0 {
		t.Fatalf("empty: %v %v", o, err)
	}
}
