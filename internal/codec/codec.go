// Package codec encrypts the payloads Pacto hands to Temporal, so that the
// titles, notes and names in workflow histories are stored as ciphertext:
// AES-256-GCM under a key ring whose newest key encrypts and whose every
// key decrypts, so keys can rotate without rewriting history.
//
// Each encrypted payload carries in its metadata the encoding
// (EncodingEncrypted) and the id of the key that sealed it (MetadataKeyID);
// the sealed data is the original payload, metadata included, as protobuf.
// Payloads without that encoding pass through Decode unchanged, so
// histories written before the codec was turned on stay readable.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"regexp"

	commonpb "go.temporal.io/api/common/v1"
	failurepb "go.temporal.io/api/failure/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

// Metadata of an encrypted payload.
const (
	// EncodingEncrypted is the metadata encoding of a payload this codec
	// sealed.
	EncodingEncrypted = "binary/encrypted"
	// MetadataKeyID names the key that sealed a payload.
	MetadataKeyID = "encryption-key-id"
)

// KeySize is the length of an AES-256 key in bytes.
const KeySize = 32

// keyIDPattern bounds a key id to what is safe in metadata, logs and files.
var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Key is one key of a ring: an id that payloads name, and 32 secret bytes.
type Key struct {
	ID     string
	Secret []byte
}

// String shows the key's id only, so that a key printed or logged by
// mistake does not reveal its secret.
func (k Key) String() string { return "key " + k.ID }

// GoString is String, for %#v.
func (k Key) GoString() string { return k.String() }

// Codec is a converter.PayloadCodec sealing payloads with the newest key
// of its ring and opening them with any. It is safe for concurrent use.
type Codec struct {
	aeads   map[string]cipher.AEAD
	ids     []string // oldest first
	current string
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New returns a codec over keys, oldest first: the last one encrypts.
func New(keys []Key) (*Codec, error) {
	if len(keys) == 0 {
		return nil, errors.New("no key")
	}
	c := &Codec{aeads: make(map[string]cipher.AEAD, len(keys))}
	for _, k := range keys {
		if !keyIDPattern.MatchString(k.ID) {
			return nil, fmt.Errorf("key id %q: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", k.ID)
		}
		if _, dup := c.aeads[k.ID]; dup {
			return nil, fmt.Errorf("key id %q appears twice", k.ID)
		}
		if len(k.Secret) != KeySize {
			return nil, fmt.Errorf("key %q is %d bytes; AES-256 needs %d", k.ID, len(k.Secret), KeySize)
		}
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k.ID, err)
		}
		c.aeads[k.ID] = aead
		c.ids = append(c.ids, k.ID)
	}
	c.current = c.ids[len(c.ids)-1]
	return c, nil
}

// NewKey returns a key with id and fresh random secret bytes.
func NewKey(id string) (Key, error) {
	secret := make([]byte, KeySize)
	if _, err := rand.Read(secret); err != nil {
		return Key{}, fmt.Errorf("read random key: %w", err)
	}
	return Key{ID: id, Secret: secret}, nil
}

// EncryptingKey is the id of the key new payloads are sealed with.
func (c *Codec) EncryptingKey() string { return c.current }

// KeyIDs are the ring's key ids, oldest first.
func (c *Codec) KeyIDs() []string { return append([]string(nil), c.ids...) }

// additionalData binds a sealed payload to the key id in its metadata and
// to this format.
func additionalData(keyID string) []byte { return []byte("pacto-codec-v1:" + keyID) }

// Encode seals each payload with the encrypting key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead := c.aeads[c.current]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("payload codec: marshal payload: %w", err)
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("payload codec: read nonce: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(EncodingEncrypted),
				MetadataKeyID:              []byte(c.current),
			},
			Data: aead.Seal(nonce, nonce, plain, additionalData(c.current)),
		}
	}
	return out, nil
}

// UnknownKeyError is Decode's error for a payload sealed under a key the
// ring does not hold.
type UnknownKeyError struct {
	ID string
}

func (e *UnknownKeyError) Error() string {
	return fmt.Sprintf("payload codec: the payload is encrypted under key %q, which is not in the key ring; add that key (PACTO_CODEC_KEYS or PACTO_CODEC_KEYS_FILE) to read it", e.ID)
}

// Decode opens each payload this codec sealed, under the key its metadata
// names; any other payload is returned as it is.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != EncodingEncrypted {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		if id == "" {
			return nil, errors.New("payload codec: an encrypted payload names no key (metadata " + MetadataKeyID + ")")
		}
		aead, ok := c.aeads[id]
		if !ok {
			return nil, &UnknownKeyError{ID: id}
		}
		data := p.GetData()
		if len(data) < aead.NonceSize()+aead.Overhead() {
			return nil, fmt.Errorf("payload codec: the payload encrypted under key %q is truncated (%d bytes)", id, len(data))
		}
		plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], additionalData(id))
		if err != nil {
			return nil, fmt.Errorf("payload codec: the payload encrypted under key %q fails authentication: it was altered, or the key with that id is not the one that sealed it", id)
		}
		var orig commonpb.Payload
		if err := proto.Unmarshal(plain, &orig); err != nil {
			return nil, fmt.Errorf("payload codec: unmarshal payload decrypted under key %q: %w", id, err)
		}
		out[i] = &orig
	}
	return out, nil
}

// DataConverter is the SDK's default data converter with c applied to
// every payload: what a client and its workers use.
func DataConverter(c converter.PayloadCodec) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// FailureConverter moves a failure's message and stack trace into a
// payload encoded by dc, so that what a failure says (a refusal can quote
// an activity's title) is encrypted too.
func FailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return copyingFailureConverter{temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: dc, EncodeCommonAttributes: true})}
}

// copyingFailureConverter reads each failure from a copy. The SDK's
// default converter decodes the message and stack trace into the failure
// it is given, and a worker reads a failed local activity's result from
// the very failure it then sends to the server in the activity's marker:
// the history would hold the message in plain text beside its encrypted
// copy.
type copyingFailureConverter struct {
	converter.FailureConverter
}

func (c copyingFailureConverter) FailureToError(f *failurepb.Failure) error {
	if f == nil {
		return nil
	}
	return c.FailureConverter.FailureToError(proto.Clone(f).(*failurepb.Failure))
}
