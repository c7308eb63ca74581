package delivery

import (
	"context"
	"errors"
	"fmt"
	"net/textproto"

	"github.com/wneessen/go-mail"
)

// ErrUnsupportedEvent is returned by Render for an event type nobody is
// notified about, so there is no template for it.
var ErrUnsupportedEvent = errors.New("no template for this event type")

// ErrInvalidInput marks input that can never be delivered as given: a
// malformed address, an empty idempotency key, a bad webhook URL or secret.
var ErrInvalidInput = errors.New("invalid delivery input")

// permanentError marks an error that retrying cannot cure.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// permanent wraps err so that Permanent reports true for it.
func permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// invalidf builds a permanent ErrInvalidInput error.
func invalidf(format string, args ...any) error {
	return permanent(fmt.Errorf("%w: %s", ErrInvalidInput, fmt.Sprintf(format, args...)))
}

// Permanent reports whether retrying the delivery that returned err cannot
// succeed, so the caller should give up (for Temporal: return a
// non-retryable application error).
//
// Permanent: an SMTP reply in the 5xx range (rejected recipient, failed
// authentication, refused message), a malformed sender or recipient
// address, a template or input error, and a webhook receiver's 3xx or 4xx
// answer other than 408 and 429.
//
// Everything else is temporary, including errors this function does not
// recognise: a refused or reset connection, a timeout or cancelled context,
// an SMTP reply in the 4xx range, a webhook's 5xx, 408 or 429. Erring on
// the side of a retry costs a duplicate attempt (which the idempotency keys
// make harmless); erring the other way loses the message.
func Permanent(err error) bool {
	if err == nil {
		return false
	}
	// A deadline or cancellation says nothing about the message itself.
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if pe := (*permanentError)(nil); errors.As(err, &pe) {
		return true
	}
	if se := (*StatusError)(nil); errors.As(err, &se) {
		return se.Permanent()
	}
	if se := (*mail.SendError)(nil); errors.As(err, &se) {
		switch code := se.ErrorCode(); {
		case code >= 500 && code <= 599:
			return true
		case code >= 400 && code <= 499:
			return false
		}
		// No server reply: go-mail refused the message itself when it could
		// not read the sender or recipients, which no retry will change.
		switch se.Reason {
		case mail.ErrGetSender, mail.ErrGetRcpts, mail.ErrNoUnencoded:
			return true
		}
		return false
	}
	// Replies during the dialogue before MAIL FROM (greeting, EHLO,
	// STARTTLS, AUTH) come back as plain textproto errors.
	if te := (*textproto.Error)(nil); errors.As(err, &te) {
		return te.Code >= 500 && te.Code <= 599
	}
	return false
}
