package delivery

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail"
)

// Mailer sends one rendered message to one recipient.
//
// messageID is the caller's idempotency key for this delivery (for
// example the inbox row's key). It must be the same on every attempt: the
// mail's Message-ID header is derived from it (and from the sender's
// domain), so a receiver can recognise a repeat.
type Mailer interface {
	Send(ctx context.Context, from string, to Recipient, msg Message, messageID string) error
}

// TLSMode is how an SMTPMailer protects its connection.
type TLSMode int

const (
	// TLSMandatory upgrades with STARTTLS and fails if the server does not
	// offer it. It is the zero value so that a forgotten setting fails
	// closed rather than sending in clear text.
	TLSMandatory TLSMode = iota
	// TLSOpportunistic upgrades with STARTTLS when the server offers it
	// and otherwise sends in clear text (for a local relay or a
	// development catcher).
	TLSOpportunistic
	// TLSImplicit speaks TLS from the first byte ("SMTPS", port 465).
	TLSImplicit
)

func (m TLSMode) String() string {
	switch m {
	case TLSMandatory:
		return "starttls-mandatory"
	case TLSOpportunistic:
		return "starttls-opportunistic"
	case TLSImplicit:
		return "implicit"
	}
	return "TLSMode(" + strconv.Itoa(int(m)) + ")"
}

// AuthMechanism is the SASL mechanism an SMTPMailer logs in with.
type AuthMechanism string

// The supported mechanisms. Both send the password, so the mailer refuses
// them on a connection that is not encrypted (except to localhost).
const (
	AuthNone  AuthMechanism = ""
	AuthPlain AuthMechanism = "PLAIN"
	AuthLogin AuthMechanism = "LOGIN"
)

// SMTPConfig is where and how an SMTPMailer submits mail.
type SMTPConfig struct {
	Host string
	Port int // 0: 465 with TLSImplicit, 587 otherwise
	TLS  TLSMode
	// TLSConfig, when set, is used for the TLS handshake (for example with
	// a private CA in RootCAs). Its ServerName defaults to Host.
	TLSConfig *tls.Config
	// Auth is the login mechanism; with Username set and Auth empty, PLAIN.
	Auth     AuthMechanism
	Username string
	Password string
	// Timeout bounds one delivery attempt, from dialling to QUIT, and each
	// command within it. 0 means 30 seconds.
	Timeout time.Duration
	// HELO is the name this client gives in EHLO; empty: the host name.
	HELO string
}

// defaultSMTPTimeout is long enough for a slow relay and short enough that
// a hung one is given up well inside an activity's start-to-close timeout.
const defaultSMTPTimeout = 30 * time.Second

// SMTPMailer submits mail to an SMTP server, one connection per message.
type SMTPMailer struct {
	cfg SMTPConfig
	tls *tls.Config
}

// NewSMTPMailer checks cfg and returns a mailer for it.
func NewSMTPMailer(cfg SMTPConfig) (*SMTPMailer, error) {
	cfg.Host = strings.TrimSpace(cfg.Host)
	if cfg.Host == "" {
		return nil, fmt.Errorf("smtp mailer: %w: no host", ErrInvalidInput)
	}
	switch cfg.TLS {
	case TLSMandatory, TLSOpportunistic, TLSImplicit:
	default:
		return nil, fmt.Errorf("smtp mailer: %w: unknown TLS mode %d", ErrInvalidInput, int(cfg.TLS))
	}
	if cfg.Port == 0 {
		cfg.Port = 587
		if cfg.TLS == TLSImplicit {
			cfg.Port = 465
		}
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("smtp mailer: %w: port %d", ErrInvalidInput, cfg.Port)
	}
	if cfg.Auth == AuthNone && cfg.Username != "" {
		cfg.Auth = AuthPlain
	}
	switch cfg.Auth {
	case AuthNone:
	case AuthPlain, AuthLogin:
		if cfg.Username == "" {
			return nil, fmt.Errorf("smtp mailer: %w: %s needs a username", ErrInvalidInput, cfg.Auth)
		}
	default:
		return nil, fmt.Errorf("smtp mailer: %w: unsupported auth mechanism %q (PLAIN or LOGIN)", ErrInvalidInput, cfg.Auth)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("smtp mailer: %w: negative timeout", ErrInvalidInput)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultSMTPTimeout
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = cfg.Host
	}
	return &SMTPMailer{cfg: cfg, tls: tc}, nil
}

// Send delivers msg to to.Email over a new SMTP connection. See Mailer for
// messageID, and Permanent for how to read the error: a 5xx reply or a bad
// address is permanent; a refused connection, a 4xx reply or a timeout is
// not. ctx cancels the attempt at any point, not only while dialling.
func (s *SMTPMailer) Send(ctx context.Context, from string, to Recipient, msg Message, messageID string) error {
	m, err := buildMsg(from, to, msg, messageID)
	if err != nil {
		return err
	}
	addr := net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()

	policy := mail.TLSMandatory
	switch s.cfg.TLS {
	case TLSOpportunistic:
		policy = mail.TLSOpportunistic
	case TLSImplicit:
		policy = mail.NoTLS // the dialler below has already wrapped the connection
	}
	opts := []mail.Option{
		mail.WithPort(s.cfg.Port),
		mail.WithTimeout(s.cfg.Timeout),
		mail.WithTLSPolicy(policy),
		mail.WithTLSConfig(s.tls),
		mail.WithDialContextFunc(s.dialer(ctx)),
	}
	if s.cfg.HELO != "" {
		opts = append(opts, mail.WithHELO(s.cfg.HELO))
	}
	switch s.cfg.Auth {
	case AuthPlain:
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(s.cfg.Username), mail.WithPassword(s.cfg.Password))
	case AuthLogin:
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthLogin), mail.WithUsername(s.cfg.Username), mail.WithPassword(s.cfg.Password))
	}
	client, err := mail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		// NewSMTPMailer has checked the settings; what is left (reading
		// the host name for EHLO) depends on the machine, so may pass.
		return fmt.Errorf("send mail %s via %s: %w", messageID, addr, err)
	}
	err = client.DialAndSendWithContext(ctx, m)
	switch {
	case err == nil:
		return nil
	case m.IsDelivered():
		// The server accepted the message (250 after DATA) and only the
		// goodbye failed. Reporting an error would make the caller send a
		// second copy of a mail that is already on its way.
		return nil
	case ctx.Err() != nil:
		// Our deadline or the caller's cancellation closed the connection;
		// say so rather than leave only "use of closed connection".
		return fmt.Errorf("send mail %s via %s: %w: %w", messageID, addr, ctx.Err(), err)
	}
	return fmt.Errorf("send mail %s via %s: %w", messageID, addr, err)
}

// dialer connects for one Send. It wraps the connection in TLS for
// TLSImplicit and closes it when ctx ends, so that a cancelled or timed out
// attempt stops at once instead of waiting on a silent server.
func (s *SMTPMailer) dialer(ctx context.Context) mail.DialContextFunc {
	return func(dctx context.Context, network, address string) (net.Conn, error) {
		var d net.Dialer
		conn, err := d.DialContext(dctx, network, address)
		if err != nil {
			return nil, err
		}
		if s.cfg.TLS == TLSImplicit {
			tc := tls.Client(conn, s.tls)
			if err := tc.HandshakeContext(dctx); err != nil {
				_ = conn.Close()
				return nil, fmt.Errorf("tls handshake with %s: %w", address, err)
			}
			// go-mail sees a *tls.Conn and treats the session as
			// encrypted, which PLAIN and LOGIN require.
			conn = tc
		}
		context.AfterFunc(ctx, func() { _ = conn.Close() })
		return conn, nil
	}
}

// buildMsg makes the RFC 5322 message both mailers send: From, To, a
// UTF-8 Subject, a stable Message-ID, Content-Language, Auto-Submitted,
// and a multipart/alternative text and HTML body.
func buildMsg(from string, to Recipient, msg Message, messageID string) (*mail.Msg, error) {
	if messageID == "" {
		return nil, invalidf("mail to %s: empty message id", to.ID)
	}
	sender, err := netmail.ParseAddress(from)
	if err != nil {
		return nil, invalidf("mail %s: sender %q: %v", messageID, from, err)
	}
	rcpt, err := netmail.ParseAddress(strings.TrimSpace(to.Email))
	if err != nil || rcpt.Name != "" {
		// A display name inside Email would hide which address is used.
		return nil, invalidf("mail %s: recipient %s address %q is not a bare address", messageID, to.ID, to.Email)
	}
	subject := oneLine(msg.Subject)
	if subject == "" || strings.TrimSpace(msg.Text) == "" {
		return nil, invalidf("mail %s: message has no subject or text", messageID)
	}

	m := mail.NewMsg(mail.WithCharset(mail.CharsetUTF8), mail.WithEncoding(mail.EncodingQP), mail.WithNoDefaultUserAgent())
	m.FromMailAddress(sender)
	m.AddToMailAddress(&netmail.Address{Name: oneLine(to.Name), Address: rcpt.Address})
	m.Subject(subject)
	m.SetMessageIDWithValue(messageIDValue(messageID, sender.Address))
	m.SetDate()
	m.SetGenHeader(mail.HeaderContentLang, language(to.Language))
	// RFC 3834: an automatic message; well-behaved responders stay quiet.
	m.SetGenHeader(mail.Header("Auto-Submitted"), "auto-generated")
	m.SetBodyString(mail.TypeTextPlain, msg.Text)
	if msg.HTML != "" {
		m.AddAlternativeString(mail.TypeTextHTML, msg.HTML)
	}
	return m, nil
}

// messageIDValue is the Message-ID (without angle brackets) for key:
// "<token>@<sender's domain>", the same for the same key and sender on
// every attempt.
func messageIDValue(key, sender string) string {
	domain := "pacto.invalid" // RFC 2606: never a real domain
	if _, d, ok := strings.Cut(sender, "@"); ok && isDomain(d) {
		domain = strings.ToLower(d)
	}
	return safeToken(key) + "@" + domain
}

// isDomain reports whether d is a plain ASCII dot-atom domain, the only
// kind that may follow "@" in a Message-ID unquoted.
func isDomain(d string) bool {
	if d == "" || len(d) > 253 || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") || strings.Contains(d, "..") {
		return false
	}
	for _, c := range d {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// safeToken turns an idempotency key into something that is both a valid
// Message-ID left part and a safe file name. A key that already is (letters,
// digits, ".", "_", "-", starting with a letter or digit, no "..") is kept
// as it is, so the names stay readable; any other key keeps a readable
// prefix with the offending bytes replaced and gains a hash of the whole
// key, so two different keys never map to the same token.
func safeToken(key string) string {
	const maxPlain = 128
	ok := len(key) <= maxPlain && !strings.Contains(key, "..") && !strings.HasSuffix(key, ".")
	for i := 0; ok && i < len(key); i++ {
		c := key[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		ok = alnum || (i > 0 && (c == '.' || c == '_' || c == '-'))
	}
	if ok && key != "" {
		return key
	}
	prefix := []byte(key)
	if len(prefix) > 64 {
		prefix = prefix[:64]
	}
	for i, c := range prefix {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			prefix[i] = '_'
		}
	}
	sum := sha256.Sum256([]byte(key))
	return string(prefix) + "-" + hex.EncodeToString(sum[:8])
}

// EMLMailer writes each message as <Dir>/<messageID>.eml instead of
// sending it, for the developer mode: a newcomer opens the files in any
// mail program. Sending the same messageID again leaves the first file as
// it is, as a receiving server would de-duplicate.
type EMLMailer struct {
	Dir string
}

// NewEMLMailer returns a mailer writing into dir, created if missing.
func NewEMLMailer(dir string) (*EMLMailer, error) {
	if dir == "" {
		return nil, fmt.Errorf("eml mailer: %w: no directory", ErrInvalidInput)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("eml mailer: create %s: %w", dir, err)
	}
	return &EMLMailer{Dir: dir}, nil
}

// Path is the file Send writes for messageID. A key that is not already a
// safe file name is rewritten (see Send), so use Path to find the file.
func (e *EMLMailer) Path(messageID string) string {
	return filepath.Join(e.Dir, safeToken(messageID)+".eml")
}

// Send writes the message, exactly as SMTPMailer would submit it, to
// Path(messageID). The file appears whole or not at all: it is written
// under a temporary name and then hard-linked into place, which fails
// rather than overwrites if another attempt got there first.
func (e *EMLMailer) Send(ctx context.Context, from string, to Recipient, msg Message, messageID string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("write mail %s: %w", messageID, err)
	}
	m, err := buildMsg(from, to, msg, messageID)
	if err != nil {
		return err
	}
	final := e.Path(messageID)
	if _, err := os.Lstat(final); err == nil {
		return nil // written by an earlier attempt
	}
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		return fmt.Errorf("write mail %s: encode: %w", messageID, err)
	}
	if err := os.MkdirAll(e.Dir, 0o750); err != nil {
		return fmt.Errorf("write mail %s: create %s: %w", messageID, e.Dir, err)
	}
	tmp, err := os.CreateTemp(e.Dir, ".tmp-*.eml")
	if err != nil {
		return fmt.Errorf("write mail %s: %w", messageID, err)
	}
	defer os.Remove(tmp.Name()) // the link below keeps the content alive
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write mail %s: %w", messageID, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write mail %s: %w", messageID, err)
	}
	if err := os.Link(tmp.Name(), final); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("write mail %s: %w", messageID, err)
	}
	return nil
}
