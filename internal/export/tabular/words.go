package tabular

import (
	"strings"
	"unicode"
)

// words are the export's headers and cell words in each language, with
// the terms the console, mails and reports use (hito, plazo, fecha límite,
// línea de base, meta, valor alcanzado...).
var words = map[string]map[string]string{
	"es": {
		"sheet": "Actividades",
		"file":  "actividades",

		"col.activity":        "ID de la actividad",
		"col.dialogue":        "Diálogo",
		"col.parties":         "Partes",
		"col.proposer_party":  "Parte proponente",
		"col.status":          "Estado",
		"col.title":           "Título",
		"col.version":         "Versión",
		"col.pending":         "A la espera de",
		"col.proposed_at":     "Fecha de la propuesta",
		"col.activated_at":    "Fecha de activación",
		"col.closed_at":       "Fecha de cierre",
		"col.milestone":       "ID del hito",
		"col.milestone_title": "Título del hito",
		"col.owner":           "Parte responsable",
		"col.term":            "Plazo",
		"col.due":             "Fecha límite",
		"col.state":           "Situación del hito",
		"col.completed_at":    "Fecha de cumplimiento",
		"col.unit":            "Unidad",
		"col.baseline":        "Línea de base",
		"col.target":          "Meta",
		"col.actual":          "Valor alcanzado",

		"status.proposed":  "Propuesta",
		"status.active":    "Activa",
		"status.suspended": "Suspendida",
		"status.declined":  "Rechazada",
		"status.expired":   "Vencida",
		"status.cancelled": "Cancelada",
		"status.completed": "Finalizada",

		"state.not_started": "Sin iniciar",
		"state.open":        "Abierto",
		"state.due_soon":    "Por vencer",
		"state.overdue":     "Vencido",
		"state.completed":   "Completado",

		"term.short":  "Corto plazo",
		"term.medium": "Mediano plazo",
		"term.long":   "Largo plazo",
	},
	"en": {
		"sheet": "Activities",
		"file":  "activities",

		"col.activity":        "Activity ID",
		"col.dialogue":        "Dialogue",
		"col.parties":         "Parties",
		"col.proposer_party":  "Proposing party",
		"col.status":          "Status",
		"col.title":           "Title",
		"col.version":         "Version",
		"col.pending":         "Waiting for",
		"col.proposed_at":     "Proposed",
		"col.activated_at":    "Activated",
		"col.closed_at":       "Closed",
		"col.milestone":       "Milestone ID",
		"col.milestone_title": "Milestone title",
		"col.owner":           "Owner party",
		"col.term":            "Term",
		"col.due":             "Due date",
		"col.state":           "Milestone state",
		"col.completed_at":    "Completed",
		"col.unit":            "Unit",
		"col.baseline":        "Baseline",
		"col.target":          "Target",
		"col.actual":          "Actual",

		"status.proposed":  "Proposed",
		"status.active":    "Active",
		"status.suspended": "Suspended",
		"status.declined":  "Declined",
		"status.expired":   "Expired",
		"status.cancelled": "Cancelled",
		"status.completed": "Completed",

		"state.not_started": "Not started",
		"state.open":        "Open",
		"state.due_soon":    "Due soon",
		"state.overdue":     "Overdue",
		"state.completed":   "Completed",

		"term.short":  "Short term",
		"term.medium": "Medium term",
		"term.long":   "Long term",
	},
}

// word is a word in lang (es or en); a missing key shows as itself, and a
// test keeps both languages complete.
func word(lang, key string) string {
	if w, ok := words[lang][key]; ok {
		return w
	}
	return key
}

// FileName names an export's file for o: "actividades" or "activities",
// the dialogue when the export is of one, and the day in o's zone, e.g.
// actividades-hld-pa-us-2026-11-30.csv. Characters a file name should not
// hold become hyphens.
func FileName(o Options, dialogue, ext string) string {
	parts := []string{word(o.words(), "file")}
	if dialogue != "" {
		parts = append(parts, dialogue)
	}
	parts = append(parts, o.Now.In(o.zone()).Format("2006-01-02"))
	name := strings.Map(func(r rune) rune {
		if r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.') {
			return r
		}
		return '-'
	}, strings.Join(parts, "-"))
	return name + "." + ext
}
