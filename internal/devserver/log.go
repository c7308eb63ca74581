package devserver

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"

	tlog "go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// slogLogger routes the Temporal server's logs into a *slog.Logger, which
// Start filters at Options.LogLevel: the server logs a great deal at info
// level (every service start, every shard movement). The level is checked
// before any tag is converted, so a dropped record costs little.
type slogLogger struct {
	log  *slog.Logger
	gate *logGate
	// with holds the tags of With, converted only when a record is
	// emitted: the server calls With on hot paths and drops nearly all
	// records.
	with []tag.Tag
}

var (
	_ tlog.Logger     = (*slogLogger)(nil)
	_ tlog.WithLogger = (*slogLogger)(nil)
)

// logGate quiets one server's logs as it stops. While its services shut
// down one after another, those still running warn that the others are
// gone; that is expected, so only errors pass. Once stopped, the server
// says nothing more: Temporal does not close its internal gRPC client
// connections on stop, and their reconnect attempts to the dead ports
// would otherwise go on warning for as long as the process lives.
type logGate struct{ state atomic.Int32 }

const (
	gateOpen int32 = iota
	gateStopping
	gateClosed
)

func (g *logGate) allows(level slog.Level) bool {
	switch g.state.Load() {
	case gateOpen:
		return true
	case gateStopping:
		return level >= slog.LevelError
	default:
		return false
	}
}

func (g *logGate) set(state int32) { g.state.Store(state) }

// fatalError is what Fatal panics with. Temporal's own logger exits the
// process on Fatal, and the code calling it does not expect to continue.
// Panicking instead lets Start recover a fatal failure raised on its own
// goroutine (say, a port taken by someone else between our check and the
// server's bind) and return it as an error; raised on any other goroutine
// it still ends the process, with a stack trace to show where.
type fatalError struct{ msg string }

func (e fatalError) Error() string { return "temporal server: fatal: " + e.msg }

func (l *slogLogger) emit(level slog.Level, msg string, tags []tag.Tag) {
	level = demote(level, msg, tags)
	if !l.gate.allows(level) || !l.log.Enabled(context.Background(), level) {
		return
	}
	out := make([]slog.Attr, 0, len(l.with)+len(tags))
	out = appendAttrs(out, l.with)
	out = appendAttrs(out, tags)
	l.log.LogAttrs(context.Background(), level, msg, out...)
}

func appendAttrs(out []slog.Attr, tags []tag.Tag) []slog.Attr {
	for _, t := range tags {
		if t == nil {
			continue
		}
		v := t.Value()
		// Errors would otherwise be rendered as {} by JSON handlers.
		if err, ok := v.(error); ok {
			v = err.Error()
		}
		out = append(out, slog.Any(t.Key(), v))
	}
	return out
}

// benign lists records that describe a deliberate choice of this
// configuration, or a client going away, rather than a problem; they are
// logged at info level instead.
var benign = []struct {
	level  slog.Level
	prefix string
	// errorHas, if set, must be in the record's error tag.
	errorHas string
}{
	// Start leaves the HTTP API off (see serverConfig): Pacto and the UI
	// use gRPC, and nothing here uses Nexus.
	{slog.LevelWarn, "HTTP API port has not been set.", ""},
	// A worker that stops cancels its long polls. Depending on where the
	// cancellation overtakes the poll (frontend, matching, a task queue
	// lookup), the server reports it as a failure, under several messages.
	// The caller went away; nothing failed.
	{slog.LevelError, "", "context canceled"},
}

func demote(level slog.Level, msg string, tags []tag.Tag) slog.Level {
	for _, b := range benign {
		if level != b.level || !strings.HasPrefix(msg, b.prefix) {
			continue
		}
		if b.errorHas == "" || errorHas(tags, b.errorHas) {
			return slog.LevelInfo
		}
	}
	return level
}

func errorHas(tags []tag.Tag, s string) bool {
	for _, t := range tags {
		if t != nil && t.Key() == "error" && strings.Contains(fmt.Sprint(t.Value()), s) {
			return true
		}
	}
	return false
}

// Debug logs at debug level.
func (l *slogLogger) Debug(msg string, tags ...tag.Tag) { l.emit(slog.LevelDebug, msg, tags) }

// Info logs at info level.
func (l *slogLogger) Info(msg string, tags ...tag.Tag) { l.emit(slog.LevelInfo, msg, tags) }

// Warn logs at warn level.
func (l *slogLogger) Warn(msg string, tags ...tag.Tag) { l.emit(slog.LevelWarn, msg, tags) }

// Error logs at error level.
func (l *slogLogger) Error(msg string, tags ...tag.Tag) { l.emit(slog.LevelError, msg, tags) }

// DPanic logs at error level and continues, as Temporal's production
// logger does: it marks a bug worth reporting, not a reason to stop.
func (l *slogLogger) DPanic(msg string, tags ...tag.Tag) { l.emit(slog.LevelError, msg, tags) }

// Panic logs at error level and panics, as the caller expects it not to
// return.
func (l *slogLogger) Panic(msg string, tags ...tag.Tag) {
	l.emit(slog.LevelError, msg, tags)
	panic(fmt.Sprintf("temporal server: %s", msg))
}

// Fatal logs at error level and panics with a fatalError (see there).
func (l *slogLogger) Fatal(msg string, tags ...tag.Tag) {
	l.emit(slog.LevelError, msg, tags)
	panic(fatalError{msg: msg})
}

// With returns a logger that adds tags to every record it emits.
func (l *slogLogger) With(tags ...tag.Tag) tlog.Logger {
	return &slogLogger{log: l.log, gate: l.gate, with: append(l.with[:len(l.with):len(l.with)], tags...)}
}
