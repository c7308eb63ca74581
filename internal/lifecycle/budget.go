package lifecycle

import "encoding/json"

// Byte budgets, under rules 2, for what the workflow carries in Temporal.
// Temporal refuses payloads over 2 MB and warns from 512 KB. The state
// travels whole in the query answer and the continue-as-new input; the
// events of one command travel with it in the Record input. Both together
// stay under 512 KB, as JSON in the encoding Temporal's converter uses
// (which writes <, > and & as six-byte escapes).
const (
	// StateBudget bounds the encoded state.
	StateBudget = 384 << 10
	// EventBudget bounds the encoded events of one command other than a
	// proposal or amendment, whose content the state budget bounds.
	EventBudget = 96 << 10
)

// EncodedSize is the size of v as JSON in the encoding Temporal's default
// payload converter uses.
func EncodedSize(v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return 0
	}
	return len(b)
}

// checkBudget refuses a command whose events would carry the activity past
// its byte budgets. The clock is never refused: its notices are small,
// and the budgets leave room for them.
func (d *decider) checkBudget() error {
	if d.s.Rules < 2 || len(d.events) == 0 || d.events[0].Actor == ClockActor {
		return nil
	}
	if n := EncodedSize(d.s); n > StateBudget {
		return invalid("", "this change would make the activity's record %d KiB, over its limit of %d KiB: use shorter texts, notes or links", kib(n), StateBudget>>10)
	}
	if t := d.events[0].Type; t == EventProposed || t == EventAmended {
		return nil
	}
	if n := EncodedSize(d.events); n > EventBudget {
		return invalid("", "this change is %d KiB, over the limit of %d KiB for one change: use a shorter note or fewer links", kib(n), EventBudget>>10)
	}
	return nil
}

func kib(n int) int { return (n + 1023) >> 10 }
