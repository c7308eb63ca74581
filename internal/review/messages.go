package review

import (
	"fmt"
	"strings"

	"pacto/internal/lifecycle"
)

// messages are the words of the rendered report in each language it is
// read in, with the terms of the project's glossary (hito, plazo, fecha
// límite, línea de base, meta, valor alcanzado...).
var messages = map[string]map[string]string{
	"es": {
		"title":             "Informe de avance",
		"meeting":           "Reunión",
		"meeting_at":        "Fecha de la reunión",
		"since":             "Cambios desde",
		"since_none":        "Primera reunión del diálogo",
		"as_of":             "Cifras al",
		"summary":           "Resumen",
		"by_party":          "Hitos por parte",
		"by_term":           "Hitos por plazo",
		"changes":           "Cambios desde la reunión anterior",
		"extensions":        "Prórrogas concedidas",
		"total":             "Total",
		"party":             "Parte",
		"term":              "Plazo",
		"activity":          "Actividad",
		"activity_title":    "Título de la actividad",
		"activity_status":   "Estado de la actividad",
		"milestone":         "Hito",
		"milestone_title":   "Título del hito",
		"owner":             "Parte responsable",
		"due":               "Fecha límite",
		"completed":         "Fecha de cumplimiento",
		"state":             "Situación",
		"indicator":         "Indicador",
		"baseline":          "Línea de base",
		"target":            "Meta",
		"actual":            "Valor alcanzado",
		"unit":              "Unidad",
		"dates_note":        "Las fechas límite y de cumplimiento están en la zona horaria de la parte responsable.",
		"no_milestones":     "Esta actividad no tiene hitos.",
		"no_activities":     "El diálogo no tiene actividades.",
		"chart_title":       "Situación de los hitos de %s",
		"chart_desc":        "%d hitos: %s.",
		"page":              "Página %d",
		"timeline_title":    "Hitos en el tiempo, por parte responsable",
		"timeline_desc":     "%d de %d hitos con fecha límite, cada uno en su fecha; la línea vertical marca la reunión.",
		"timeline_meeting":  "Reunión",
		"statements":        "Informes de las partes",
		"statement_missing": "Sin informe de la parte",
		"statement_by":      "%s, por %s, %s",
		"no_statements":     "No se pidieron informes de las partes para esta reunión.",
		"owner_statement":   "Informe de la parte responsable",

		"state.on_time":  "A tiempo",
		"state.late":     "Con retraso",
		"state.overdue":  "Vencido",
		"state.upcoming": "Por vencer",
		"state.pending":  "Pendiente",

		"term.short":  "Corto plazo",
		"term.medium": "Mediano plazo",
		"term.long":   "Largo plazo",

		"status.proposed":  "Propuesta",
		"status.active":    "Activa",
		"status.suspended": "Suspendida",
		"status.declined":  "Rechazada",
		"status.expired":   "Vencida",
		"status.cancelled": "Cancelada",
		"status.completed": "Finalizada",

		"change.proposed":  "Propuestas",
		"change.activated": "Activadas",
		"change.declined":  "Rechazadas",
		"change.cancelled": "Canceladas",
		"change.completed": "Finalizadas",
	},
	"en": {
		"title":             "Progress report",
		"meeting":           "Meeting",
		"meeting_at":        "Meeting date",
		"since":             "Changes since",
		"since_none":        "First meeting of the dialogue",
		"as_of":             "Figures as of",
		"summary":           "Summary",
		"by_party":          "Milestones by party",
		"by_term":           "Milestones by term",
		"changes":           "Changes since the previous meeting",
		"extensions":        "Extensions granted",
		"total":             "Total",
		"party":             "Party",
		"term":              "Term",
		"activity":          "Activity",
		"activity_title":    "Activity title",
		"activity_status":   "Activity status",
		"milestone":         "Milestone",
		"milestone_title":   "Milestone title",
		"owner":             "Owner party",
		"due":               "Due date",
		"completed":         "Completed date",
		"state":             "State",
		"indicator":         "Indicator",
		"baseline":          "Baseline",
		"target":            "Target",
		"actual":            "Actual",
		"unit":              "Unit",
		"dates_note":        "Due and completed dates are in the owner party's time zone.",
		"no_milestones":     "This activity has no milestones.",
		"no_activities":     "The dialogue has no activities.",
		"chart_title":       "State of the milestones of %s",
		"chart_desc":        "%d milestones: %s.",
		"page":              "Page %d",
		"timeline_title":    "Milestones over time, by owner party",
		"timeline_desc":     "%d of %d milestones with a due date, each at its date; the vertical line marks the meeting.",
		"timeline_meeting":  "Meeting",
		"statements":        "The parties' statements",
		"statement_missing": "No statement",
		"statement_by":      "%s, by %s, %s",
		"no_statements":     "No statements were asked for this meeting.",
		"owner_statement":   "Owner party's statement",

		"state.on_time":  "On time",
		"state.late":     "Late",
		"state.overdue":  "Overdue",
		"state.upcoming": "Upcoming",
		"state.pending":  "Pending",

		"term.short":  "Short term",
		"term.medium": "Medium term",
		"term.long":   "Long term",

		"status.proposed":  "Proposed",
		"status.active":    "Active",
		"status.suspended": "Suspended",
		"status.declined":  "Declined",
		"status.expired":   "Expired",
		"status.cancelled": "Cancelled",
		"status.completed": "Completed",

		"change.proposed":  "Proposed",
		"change.activated": "Activated",
		"change.declined":  "Declined",
		"change.cancelled": "Cancelled",
		"change.completed": "Completed",
	},
}

// language is the catalog a reader of lang reads: "es" or "en", from a
// tag such as "es-PA" too. Any other language is refused rather than
// shown in a language the reader did not ask for.
func language(lang string) (string, error) {
	base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(lang)), "-")
	if _, ok := messages[base]; !ok {
		return "", fmt.Errorf("review: no report in language %q (es or en)", lang)
	}
	return base, nil
}

// other is the other language of the report, the fallback for a text not
// written in the reader's.
func other(lang string) string {
	if lang == "es" {
		return "en"
	}
	return "es"
}

// msg is the message key in lang, formatted with args. A missing key shows
// itself, so a gap is visible rather than blank.
func msg(lang, key string, args ...any) string {
	m, ok := messages[lang][key]
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(m, args...)
	}
	return m
}

// text is t in the reader's language, else in the other one.
func text(t lifecycle.Text, lang string) string { return t.In(lang, other(lang)) }
