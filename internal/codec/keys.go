package codec

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The environment variables that hold the key ring. Both list keys as
// id:base64 (32 bytes once decoded), oldest first: the last one encrypts.
const (
	// EnvKeys holds the ring itself, comma-separated.
	EnvKeys = "PACTO_CODEC_KEYS"
	// EnvKeysFile names a file holding the ring, one key per line; blank
	// lines and lines starting with '#' are ignored.
	EnvKeysFile = "PACTO_CODEC_KEYS_FILE"
)

// ParseKeys reads a ring written as entries of id:base64, separated by
// commas or newlines, oldest first. Blank entries and lines starting with
// '#' are ignored. Errors name the entry by its id or position, never by
// its secret.
func ParseKeys(text string) ([]Key, error) {
	var keys []Key
	n := 0
	for line := range strings.SplitSeq(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for entry := range strings.SplitSeq(line, ",") {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			n++
			id, secret, ok := strings.Cut(entry, ":")
			id = strings.TrimSpace(id)
			if !ok || id == "" {
				return nil, fmt.Errorf("key %d: write it as id:base64", n)
			}
			// The id is quoted in messages from here on: make sure it is
			// an id and not a secret written first by mistake.
			if b, err := decodeSecret(id); err == nil && len(b) == KeySize {
				return nil, fmt.Errorf("key %d: its id looks like a secret; write id:base64", n)
			}
			if !keyIDPattern.MatchString(id) {
				return nil, fmt.Errorf("key %d: its id must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", n)
			}
			b, err := decodeSecret(strings.TrimSpace(secret))
			if err != nil {
				return nil, fmt.Errorf("key %q: its secret is not base64", id)
			}
			keys = append(keys, Key{ID: id, Secret: b})
		}
	}
	if len(keys) == 0 {
		return nil, errors.New("no key: write each as id:base64")
	}
	return keys, nil
}

// decodeSecret accepts standard base64 with or without padding, as
// `openssl rand -base64 32` and most tools write it.
func decodeSecret(s string) ([]byte, error) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// FormatKey writes k as a ring entry, id:base64.
func FormatKey(k Key) string {
	return k.ID + ":" + base64.StdEncoding.EncodeToString(k.Secret)
}

// FromEnv builds the codec from EnvKeys or EnvKeysFile, looked up with
// getenv (os.Getenv in a process). It returns nil and no error when
// neither is set: payloads are then stored in plain text.
func FromEnv(getenv func(string) string) (*Codec, error) {
	inline, file := strings.TrimSpace(getenv(EnvKeys)), strings.TrimSpace(getenv(EnvKeysFile))
	switch {
	case inline != "" && file != "":
		return nil, fmt.Errorf("payload codec: set %s or %s, not both", EnvKeys, EnvKeysFile)
	case inline != "":
		c, err := fromText(inline)
		if err != nil {
			return nil, fmt.Errorf("payload codec: %s: %w", EnvKeys, err)
		}
		return c, nil
	case file != "":
		return FromFile(file)
	}
	return nil, nil
}

// FromFile builds the codec from a key file, one id:base64 per line,
// oldest first.
func FromFile(path string) (*Codec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("payload codec: read key file: %w", err)
	}
	c, err := fromText(string(b))
	if err != nil {
		return nil, fmt.Errorf("payload codec: key file %s: %w", path, err)
	}
	return c, nil
}

func fromText(text string) (*Codec, error) {
	keys, err := ParseKeys(text)
	if err != nil {
		return nil, err
	}
	return New(keys)
}

// DevKeysFile is the name of the key file LoadOrCreate keeps in a
// development data directory.
const DevKeysFile = "codec-keys"

// LoadOrCreate builds the codec from the key file at path, first writing
// one there (mode 0600) with a fresh random key if there is none. It
// reports whether it created the file. For `pacto dev` and the benchmark:
// the file lives beside the Temporal data it unlocks, and losing it makes
// that data unreadable.
func LoadOrCreate(path string) (c *Codec, created bool, err error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		k, err := NewKey("dev-" + randomHex(4))
		if err != nil {
			return nil, false, err
		}
		created, err = writeNew(path, "# Pacto's development payload key: Temporal's data under this directory\n# is encrypted with it. Keep it as long as that data.\n"+FormatKey(k)+"\n")
		if err != nil {
			return nil, false, err
		}
	} else if err != nil {
		return nil, false, fmt.Errorf("payload codec: key file: %w", err)
	}
	c, err = FromFile(path)
	if err != nil {
		return nil, false, err
	}
	return c, created, nil
}

// writeNew writes content to a new file at path, mode 0600, and reports
// whether it did: a file another process wrote first is left as it is.
// The file appears whole or not at all (written aside, then linked), so a
// process killed half way leaves no empty key file behind.
func writeNew(path, content string) (bool, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*") // mode 0600
	if err != nil {
		return false, fmt.Errorf("payload codec: create key file: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.WriteString(content)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, fmt.Errorf("payload codec: write key file: %w", err)
	}
	if err := os.Link(f.Name(), path); errors.Is(err, fs.ErrExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("payload codec: create key file: %w", err)
	}
	return true, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand panics rather than return an error)
	return hex.EncodeToString(b)
}
