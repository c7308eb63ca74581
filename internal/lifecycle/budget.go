package lifecycle

import "encoding/json"

// Byte budgets, under rules 2, for what the workflow carries in Temporal.
// Temporal refuses payloads over 2 MB and warns from 512 KiB. The state
// travels whole in the query answer and the continue-as-new input; the
// Record input carries it with the events of one command, which for an
// amendment repeat its content. So the state may take a little under half
// of 512 KiB, leaving room for what the clock adds without asking (a few
// notices per milestone), all measured as JSON in the encoding Temporal's
// converter uses (which writes <, > and & as six-byte escapes).
const (
	// StateBudget bounds the encoded state after a command.
	StateBudget = 224 << 10
	// EventBudget bounds the encoded events of one command other than a
	// proposal or amendment, whose content the state budget bounds.
	EventBudget = 64 << 10
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
// its byte budgets. Approvers' decisions on a proposal and suspending,
// resuming or cancelling (in Pacto or in Temporal), and what Pacto notes of
// the workflow itself, are never refused for size: the state keeps only
// summaries of their comments, and a proposal's content leaves room for
// them (contentReserve), as for what the clock adds without asking.
func (d *decider) checkBudget(cmd Command) error {
	if d.s.Rules < 2 || len(d.events) == 0 {
		return nil
	}
	switch cmd.(type) {
	case Tick, DecideProposal, DecidePublication, Suspend, Resume, Cancel, AssignLanguages, CancelInTemporal, NoteWorkflowLost, Restart:
		return nil
	}
	limit := StateBudget
	if t := d.events[0].Type; t == EventProposed || t == EventAmended {
		limit -= contentReserve(d.s)
	}
	if n := EncodedSize(d.s); n > limit {
		return invalid("", "this change would make the activity's record %d KiB, over its limit of %d KiB: use shorter texts, notes or links", kib(n), limit>>10)
	}
	if t := d.events[0].Type; t == EventProposed || t == EventAmended {
		return nil
	}
	if n := EncodedSize(d.events); n > EventBudget {
		return invalid("", "this change is %d KiB, over the limit of %d KiB for one change: use a shorter note or fewer links", kib(n), EventBudget>>10)
	}
	return nil
}

// contentReserve is the room a proposal's content leaves in the state for
// what comes without a size check: each party's decision (a summarised
// comment) and, per milestone, its due time at activation and the clock's
// notices.
func contentReserve(s State) int {
	return 16<<10 + len(s.Parties)*2<<10 + len(s.Milestones)*256
}

func kib(n int) int { return (n + 1023) >> 10 }
