package review

import (
	"slices"
	"testing"

	"pacto/internal/lifecycle"
)

// A party reads only the activities it takes part in, counted again.
func TestVisibleTo(t *testing.T) {
	r := Report{
		Activities: []ActivityReport{
			{ID: "a1", Status: lifecycle.StatusActive, Parties: []lifecycle.PartyCode{"PA", "US"},
				Milestones: []MilestoneReport{{Owner: "PA", Term: lifecycle.HorizonShort, State: StateOverdue}}},
			{ID: "a2", Status: lifecycle.StatusActive, Parties: []lifecycle.PartyCode{"MX", "US"},
				Milestones: []MilestoneReport{{Owner: "MX", Term: lifecycle.HorizonShort, State: StateOnTime}}},
		},
		Changes: Changes{Proposed: []string{"a1", "a2"}, Activated: []string{"a2"}},
	}
	r.count()
	pa := r.VisibleTo("PA")
	if len(pa.Activities) != 1 || pa.Activities[0].ID != "a1" || !slices.Equal(pa.Changes.Proposed, []string{"a1"}) || len(pa.Changes.Activated) != 0 {
		t.Fatalf("PA reads %+v", pa)
	}
	if pa.ByTerm[lifecycle.HorizonShort] != (Counts{Overdue: 1}) || len(pa.ByParty) != 1 {
		t.Fatalf("PA's counts %+v %+v", pa.ByTerm, pa.ByParty)
	}
	if us := r.VisibleTo("US"); len(us.Activities) != 2 || us.ByTerm[lifecycle.HorizonShort] != (Counts{Overdue: 1, OnTime: 1}) {
		t.Fatalf("US reads %+v", us)
	}
	if len(r.Activities) != 2 || r.ByParty["MX"] != (Counts{OnTime: 1}) {
		t.Fatal("VisibleTo changed the report it was given")
	}
}
