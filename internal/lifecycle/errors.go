package lifecycle

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies why the core refused a command, so callers (the HTTP API,
// Update validators) can map it to a status code without parsing messages.
type Kind string

// The kinds of error the core returns.
const (
	// KindForbidden: the actor lacks the role or party for this command.
	KindForbidden Kind = "forbidden"
	// KindNotFound: the command names a milestone or extension that does not exist.
	KindNotFound Kind = "not_found"
	// KindStaleVersion: the command was made against an older version.
	KindStaleVersion Kind = "stale_version"
	// KindInvalidTransition: the command is not allowed in the current status.
	KindInvalidTransition Kind = "invalid_transition"
	// KindInvalidInput: a field of the command is malformed or out of range.
	KindInvalidInput Kind = "invalid_input"
)

// Error is the typed error every refusal of the core carries.
type Error struct {
	Kind    Kind   `json:"kind"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
	// Language and Missing name, when a version lacks texts in a language,
	// that language and the fields without it ("title", "milestones[0].title").
	Language string   `json:"language,omitempty"`
	Missing  []string `json:"missing,omitempty"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Kind, e.Field, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.Message)
}

// KindOf returns the Kind of a core error anywhere in err's chain, or "" if
// err did not come from the core.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}

func forbidden(format string, args ...any) *Error {
	return &Error{Kind: KindForbidden, Message: fmt.Sprintf(format, args...)}
}

func notFound(field, format string, args ...any) *Error {
	return &Error{Kind: KindNotFound, Field: field, Message: fmt.Sprintf(format, args...)}
}

func stale(format string, args ...any) *Error {
	return &Error{Kind: KindStaleVersion, Field: "version", Message: fmt.Sprintf(format, args...)}
}

func badTransition(format string, args ...any) *Error {
	return &Error{Kind: KindInvalidTransition, Message: fmt.Sprintf(format, args...)}
}

func invalid(field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalidInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

func missingTexts(lang string, fields []string, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...) + fmt.Sprintf(": missing in %s: %s; a coordinator adds them by amending the proposal", lang, strings.Join(fields, ", "))
	return &Error{Kind: KindInvalidTransition, Message: msg, Language: lang, Missing: fields}
}
