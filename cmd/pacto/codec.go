package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"go.temporal.io/sdk/converter"

	"pacto/internal/api"
	"pacto/internal/codec"
)

// codecFlags configure the payload codec that encrypts what Pacto stores
// in Temporal. The keys themselves have no flag: a command line is
// visible to every user of the machine.
type codecFlags struct {
	keysFile   *string
	corsOrigin *string
}

// codecOriginEnv names the Web UI origins allowed to call /codec.
const codecOriginEnv = "PACTO_CODEC_CORS_ORIGIN"

// codec adds the codec's flags; withEndpoint adds the Web UI's origin,
// for the commands that serve the API.
func (f *flags) codec(withEndpoint bool) codecFlags {
	c := codecFlags{keysFile: f.str("codec-keys-file", codec.EnvKeysFile, "",
		"file of the keys that encrypt payloads in Temporal, one id:base64 per line, newest last (or put them in "+codec.EnvKeys+", comma-separated)")}
	if withEndpoint {
		c.corsOrigin = f.str("codec-cors-origin", codecOriginEnv, "",
			"origin of the Temporal Web UI whose pages may decode payloads through /codec, e.g. https://temporal.example.gov (comma-separated for several)")
	}
	return c
}

// load returns the codec of the configured keys, or nil when none is.
func (c codecFlags) load() (*codec.Codec, error) {
	return codec.FromEnv(func(name string) string {
		if name == codec.EnvKeysFile {
			return *c.keysFile
		}
		return os.Getenv(name)
	})
}

// origins are the configured Web UI origins.
func (c codecFlags) origins() ([]string, error) {
	if c.corsOrigin == nil {
		return nil, nil
	}
	o, err := api.ParseOrigins(*c.corsOrigin)
	if err != nil {
		return nil, fmt.Errorf("--codec-cors-origin: %v: %w", err, errUsage)
	}
	return o, nil
}

// devCodec is the configured codec, or else the data dir's own key, made
// on the first start and kept.
func (c codecFlags) devCodec(dir string) (cx *codec.Codec, where string, created bool, err error) {
	if cx, err = c.load(); err != nil || cx != nil {
		return cx, "the configured keys", false, err
	}
	path := filepath.Join(dir, codec.DevKeysFile)
	cx, created, err = codec.LoadOrCreate(path)
	return cx, path, created, err
}

// payloadCodec is cx as the SDK's interface: nil stays nil.
func payloadCodec(cx *codec.Codec) converter.PayloadCodec {
	if cx == nil {
		return nil
	}
	return cx
}

// logCodec says at start whether payloads are encrypted, and under which
// key (its id; never the key).
func logCodec(log *slog.Logger, cx *codec.Codec) {
	if cx == nil {
		log.Warn("no payload codec key: Temporal stores activities' titles, notes and names in plain text; set " +
			codec.EnvKeys + " or " + codec.EnvKeysFile)
		return
	}
	log.Info("payload codec on", "encrypting_key", cx.EncryptingKey(), "keys", strings.Join(cx.KeyIDs(), ","))
}
