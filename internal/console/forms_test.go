package console

import "testing"

// A refusal names the form's row even when a blank row sits before it.
func TestFormFieldFollowsTheFormsRows(t *testing.T) {
	f := contentForm{
		Objectives: []map[string]string{{"es": "uno"}, {"es": ""}, {"es": "tres"}},
		Milestones: []milestoneRow{
			{Index: 0, Title: map[string]string{"es": "A"}},
			{Index: 1, Title: map[string]string{"es": ""}},
			{Index: 2, Title: map[string]string{"es": "C"}, DueIn: "3"},
		},
	}
	for field, want := range map[string]string{
		"milestones[1].title.en": "milestones[2].title.en",
		"milestones[0].due":      "milestones[0].due",
		"objectives[1]":          "objectives[2]",
		"objectives[7]":          "objectives[7]",
		"title.es":               "title.es",
	} {
		if got := f.formField(field); got != want {
			t.Errorf("formField(%q) = %q, want %q", field, got, want)
		}
	}
}
