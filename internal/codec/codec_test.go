package codec

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

const title = "Capacitación aduanera conjunta en Colón"

func key(t *testing.T, id string) Key {
	t.Helper()
	k, err := NewKey(id)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func ring(t *testing.T, keys ...Key) *Codec {
	t.Helper()
	c, err := New(keys)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// plain is a payload as the SDK's default converter writes it.
func plain(t *testing.T, v any) *commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func encode(t *testing.T, c *Codec, ps ...*commonpb.Payload) []*commonpb.Payload {
	t.Helper()
	out, err := c.Encode(ps)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRoundTripHidesThePayload(t *testing.T) {
	c := ring(t, key(t, "k1"))
	in := []*commonpb.Payload{plain(t, map[string]string{"title": title}), plain(t, nil), plain(t, []byte{0, 1, 2})}
	enc := encode(t, c, in...)
	if len(enc) != len(in) {
		t.Fatalf("%d payloads encoded from %d", len(enc), len(in))
	}
	for i, p := range enc {
		if got := string(p.Metadata[converter.MetadataEncoding]); got != EncodingEncrypted {
			t.Errorf("payload %d has encoding %q", i, got)
		}
		if got := string(p.Metadata[MetadataKeyID]); got != "k1" {
			t.Errorf("payload %d names key %q", i, got)
		}
		if len(p.Metadata) != 2 {
			t.Errorf("payload %d has metadata %v; the original's is sealed inside", i, p.Metadata)
		}
		if bytes.Contains(p.Data, []byte("Capacitaci")) || bytes.Contains(p.Data, []byte("json/plain")) {
			t.Errorf("payload %d shows its plaintext: %q", i, p.Data)
		}
	}
	// The same payload twice is sealed under different nonces.
	again := encode(t, c, in[0])
	if bytes.Equal(again[0].Data, enc[0].Data) {
		t.Fatal("the same payload encoded twice gives the same bytes")
	}
	dec, err := c.Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if !proto.Equal(dec[i], in[i]) {
			t.Errorf("payload %d decodes to %v, want %v", i, dec[i], in[i])
		}
	}
}

func TestDecodePassesPlainPayloadsThrough(t *testing.T) {
	// Histories written before the codec was turned on stay readable.
	c := ring(t, key(t, "k1"))
	p := plain(t, title)
	dec, err := c.Decode([]*commonpb.Payload{p})
	if err != nil || !proto.Equal(dec[0], p) {
		t.Fatalf("a plain payload decodes to %v, %v", dec, err)
	}
}

func TestRotation(t *testing.T) {
	a, b := key(t, "2026-01"), key(t, "2026-07")
	before := ring(t, a)
	old := encode(t, before, plain(t, title))

	// B is added, newest last: it encrypts; A still decrypts.
	after := ring(t, a, b)
	if after.EncryptingKey() != "2026-07" {
		t.Fatalf("encrypting key %s, want the newest", after.EncryptingKey())
	}
	dec, err := after.Decode(old)
	if err != nil {
		t.Fatalf("a payload under the older key: %v", err)
	}
	var got string
	if err := converter.GetDefaultDataConverter().FromPayload(dec[0], &got); err != nil || got != title {
		t.Fatalf("decoded %q, %v", got, err)
	}
	fresh := encode(t, after, plain(t, title))
	if id := string(fresh[0].Metadata[MetadataKeyID]); id != "2026-07" {
		t.Fatalf("a new payload is sealed under %s, want 2026-07", id)
	}
	// Once A is retired, what B sealed still opens and what A sealed
	// names the missing key.
	retired := ring(t, b)
	if _, err := retired.Decode(fresh); err != nil {
		t.Fatal(err)
	}
	_, err = retired.Decode(old)
	var unknown *UnknownKeyError
	if !errors.As(err, &unknown) || unknown.ID != "2026-01" || !strings.Contains(err.Error(), `"2026-01"`) {
		t.Fatalf("a payload under a retired key: %v; want an error naming 2026-01", err)
	}
}

func TestUnknownKeyIsNamed(t *testing.T) {
	enc := encode(t, ring(t, key(t, "elsewhere")), plain(t, title))
	_, err := ring(t, key(t, "here")).Decode(enc)
	if err == nil || !strings.Contains(err.Error(), `key "elsewhere"`) || !strings.Contains(err.Error(), "not in the key ring") {
		t.Fatalf("decode under an unknown key: %v", err)
	}
}

func TestTamperingIsDetected(t *testing.T) {
	k1, k2 := key(t, "k1"), key(t, "k2")
	c := ring(t, k1, k2)
	fresh := func() *commonpb.Payload { return encode(t, c, plain(t, title))[0] }
	for _, tc := range []struct {
		name  string
		alter func(p *commonpb.Payload)
		says  string
	}{
		{"a flipped bit of ciphertext", func(p *commonpb.Payload) { p.Data[len(p.Data)-20] ^= 1 }, "fails authentication"},
		{"a flipped bit of the nonce", func(p *commonpb.Payload) { p.Data[0] ^= 0x80 }, "fails authentication"},
		{"a flipped bit of the tag", func(p *commonpb.Payload) { p.Data[len(p.Data)-1] ^= 1 }, "fails authentication"},
		{"the other key's id", func(p *commonpb.Payload) { p.Metadata[MetadataKeyID] = []byte("k1") }, "fails authentication"},
		{"truncated", func(p *commonpb.Payload) { p.Data = p.Data[:10] }, "truncated"},
		{"no key id", func(p *commonpb.Payload) { delete(p.Metadata, MetadataKeyID) }, "names no key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := fresh()
			tc.alter(p)
			_, err := c.Decode([]*commonpb.Payload{p})
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("decode: %v; want an error saying %q", err, tc.says)
			}
		})
	}
}

func TestNewRefusesBadRings(t *testing.T) {
	good := key(t, "ok")
	for _, tc := range []struct {
		keys []Key
		says string
	}{
		{nil, "no key"},
		{[]Key{good, {ID: "ok", Secret: good.Secret}}, "appears twice"},
		{[]Key{{ID: "short", Secret: make([]byte, 16)}}, "is 16 bytes; AES-256 needs 32"},
		{[]Key{{ID: "has space", Secret: make([]byte, 32)}}, "key id"},
	} {
		if _, err := New(tc.keys); err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("New(%v): %v; want %q", tc.keys, err, tc.says)
		}
	}
}

func TestParseKeys(t *testing.T) {
	a, b := key(t, "2026-01"), key(t, "2026-07")
	for _, text := range []string{
		FormatKey(a) + "," + FormatKey(b),
		" " + FormatKey(a) + " ,\n" + FormatKey(b) + "\n",
		"# rotated in July\n" + FormatKey(a) + "\n\n" + FormatKey(b) + "\n",
		// Unpadded base64 too.
		strings.TrimRight(FormatKey(a), "=") + "," + FormatKey(b),
	} {
		keys, err := ParseKeys(text)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if len(keys) != 2 || keys[0].ID != a.ID || !bytes.Equal(keys[0].Secret, a.Secret) || keys[1].ID != b.ID || !bytes.Equal(keys[1].Secret, b.Secret) {
			t.Fatalf("%q parsed as %v", text, keys)
		}
	}
	secret := strings.TrimPrefix(FormatKey(a), "2026-01:")
	for _, tc := range []struct{ text, says string }{
		{"", "no key"},
		{"# only a comment\n", "no key"},
		{secret, "key 1: write it as id:base64"},
		{"k:not base64!", `key "k": its secret is not base64`},
		{secret + ":2026-01", "key 1: its id looks like a secret"},
		{FormatKey(a) + ",bad id:" + secret, "key 2: its id must be"},
	} {
		_, err := ParseKeys(tc.text)
		if err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("ParseKeys(%q): %v; want %q", tc.text, err, tc.says)
		}
		// No message repeats a secret.
		if err != nil && strings.Contains(err.Error(), secret[:20]) {
			t.Errorf("ParseKeys(%q) shows the secret: %v", tc.text, err)
		}
	}
	if s := fmt.Sprint(a) + fmt.Sprintf("%v %+v %#v", a, a, a); strings.Contains(s, secret[:20]) || !strings.Contains(s, "2026-01") {
		t.Errorf("a printed key shows %q", s)
	}
}

func TestFromEnv(t *testing.T) {
	a, b := key(t, "a"), key(t, "b")
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := FromEnv(env(nil))
	if c != nil || err != nil {
		t.Fatalf("no variables: %v, %v; want no codec", c, err)
	}
	c, err = FromEnv(env(map[string]string{EnvKeys: FormatKey(a) + "," + FormatKey(b)}))
	if err != nil || c.EncryptingKey() != "b" || len(c.KeyIDs()) != 2 {
		t.Fatalf("%s: %v, %v", EnvKeys, c, err)
	}
	file := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(file, []byte(FormatKey(b)+"\n"+FormatKey(a)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = FromEnv(env(map[string]string{EnvKeysFile: file}))
	if err != nil || c.EncryptingKey() != "a" {
		t.Fatalf("%s: %v, %v", EnvKeysFile, c, err)
	}
	if _, err := FromEnv(env(map[string]string{EnvKeys: FormatKey(a), EnvKeysFile: file})); err == nil || !strings.Contains(err.Error(), "not both") {
		t.Fatalf("both set: %v", err)
	}
	if _, err := FromEnv(env(map[string]string{EnvKeysFile: file + ".missing"})); err == nil || !strings.Contains(err.Error(), "read key file") {
		t.Fatalf("a missing file: %v", err)
	}
	if _, err := FromEnv(env(map[string]string{EnvKeys: "a:c2hvcnQ="})); err == nil || !strings.Contains(err.Error(), EnvKeys) {
		t.Fatalf("a short key: %v", err)
	}
}

func TestLoadOrCreateMakesTheKeyOnceAndKeepsIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "codec-keys")
	c1, created, err := LoadOrCreate(path)
	if err != nil || !created {
		t.Fatalf("first load: created %v, %v", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	before, _ := os.ReadFile(path)
	enc := encode(t, c1, plain(t, title))

	c2, created, err := LoadOrCreate(path)
	if err != nil || created {
		t.Fatalf("second load: created %v, %v", created, err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("the key file changed on the second load")
	}
	if c2.EncryptingKey() != c1.EncryptingKey() || !strings.HasPrefix(c2.EncryptingKey(), "dev-") {
		t.Fatalf("key %s then %s", c1.EncryptingKey(), c2.EncryptingKey())
	}
	if _, err := c2.Decode(enc); err != nil {
		t.Fatalf("the reloaded key does not open what the first sealed: %v", err)
	}
	// A file that is not a key ring is refused, not replaced.
	if err := os.WriteFile(path, []byte("garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreate(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("a corrupt key file: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "garbage\n" {
		t.Fatal("a corrupt key file was rewritten")
	}
}

// Through the SDK's converters: values and failures are sealed; a
// failure's message travels inside an encrypted payload.
func TestConvertersSealValuesAndFailures(t *testing.T) {
	c := ring(t, key(t, "k1"))
	dc := DataConverter(c)
	p, err := dc.ToPayload(map[string]string{"title": title})
	if err != nil {
		t.Fatal(err)
	}
	if string(p.Metadata[converter.MetadataEncoding]) != EncodingEncrypted {
		t.Fatalf("the data converter wrote %v", p.Metadata)
	}
	var back map[string]string
	if err := dc.FromPayload(p, &back); err != nil || back["title"] != title {
		t.Fatalf("read back %v, %v", back, err)
	}

	fc := FailureConverter(dc)
	f := fc.ErrorToFailure(temporal.NewApplicationError("the title "+title+" is missing in English", "invalid", map[string]string{"title": title}))
	raw, err := proto.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("Capacitaci")) || bytes.Contains(raw, []byte("missing in English")) {
		t.Fatalf("the failure shows its text: %q", raw)
	}
	before := proto.Clone(f)
	err = fc.FailureToError(f)
	// Reading a failure leaves it as it was: a worker sends some it has
	// read on to the server.
	if !proto.Equal(f, before) || f.GetMessage() != "Encoded failure" {
		t.Fatalf("reading the failure changed it: message %q", f.GetMessage())
	}
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || !strings.Contains(ae.Message(), title) || ae.Type() != "invalid" {
		t.Fatalf("the failure reads back as %v", err)
	}
	var details map[string]string
	if err := ae.Details(&details); err != nil || details["title"] != title {
		t.Fatalf("details %v, %v", details, err)
	}
}

// Processes starting together on one directory end up with one key, and
// no file is left beside it.
func TestLoadOrCreateRaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, DevKeysFile)
	const n = 8
	ids := make(chan string, n)
	made := make(chan bool, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			c, created, err := LoadOrCreate(path)
			if err != nil {
				t.Error(err)
				return
			}
			ids <- c.EncryptingKey()
			made <- created
		})
	}
	wg.Wait()
	close(ids)
	close(made)
	first, creators := "", 0
	for id := range ids {
		if first == "" {
			first = id
		}
		if id != first {
			t.Fatalf("keys %s and %s from one directory", first, id)
		}
	}
	for c := range made {
		if c {
			creators++
		}
	}
	if creators != 1 {
		t.Fatalf("%d processes say they made the key", creators)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("the directory holds %d entries: %v", len(entries), entries)
	}
}
