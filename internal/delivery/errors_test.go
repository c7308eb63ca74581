package delivery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"testing"
)

func TestPermanent(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"unknown", errors.New("something odd"), false},
		{"marked", permanent(errors.New("x")), true},
		{"marked and wrapped", fmt.Errorf("outer: %w", invalidf("bad")), true},
		{"in a join", errors.Join(errors.New("a"), permanent(errors.New("b"))), true},
		{"deadline beats marking", fmt.Errorf("%w: %w", context.DeadlineExceeded, permanent(errors.New("x"))), false},
		{"cancelled", fmt.Errorf("send: %w", context.Canceled), false},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, false},
		{"smtp 535", fmt.Errorf("SMTP AUTH failed: %w", &textproto.Error{Code: 535, Msg: "bad credentials"}), true},
		{"smtp 554 greeting", &textproto.Error{Code: 554, Msg: "go away"}, true},
		{"smtp 421", &textproto.Error{Code: 421, Msg: "busy"}, false},
		{"http 404", &StatusError{StatusCode: 404}, true},
		{"http 408", &StatusError{StatusCode: 408}, false},
		{"http 429", &StatusError{StatusCode: 429}, false},
		{"http 503", fmt.Errorf("post: %w", &StatusError{StatusCode: 503}), false},
	} {
		if got := Permanent(c.err); got != c.want {
			t.Errorf("%s: Permanent(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}
