package api

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"pacto/internal/export/iati"
	"pacto/internal/store"
)

// An IATI organisation identifier (or none): the registration agency's
// code, which starts with a country code or XI/XM, a hyphen, and the
// number the agency gave (XM-DAC-41114, GB-COH-123456). No spaces, and
// none of the characters an IATI identifier may not hold. A sector may
// be left empty too.
const (
	orgRefRE   = `^([A-Z]{2}-[A-Za-z0-9._:-]*[A-Za-z0-9])?$`
	maxOrgRef  = 100
	sectorRE   = `^([0-9]{5})?$`
	countryRE  = `^[A-Z]{2}$`
	maxCountry = 20
)

var (
	orgRefPattern  = regexp.MustCompile(orgRefRE)
	sectorPattern  = regexp.MustCompile(sectorRE)
	countryPattern = regexp.MustCompile(countryRE)
)

// PartyIATIRequest is the body of PUT /v1/admin/parties/{code}/iati.
type PartyIATIRequest struct {
	OrgRef  string `json:"org_ref"`
	OrgType string `json:"org_type,omitempty"`
}

// DialogueIATIRequest is the body of PUT /v1/admin/dialogues/{dialogue}/iati.
type DialogueIATIRequest struct {
	ReportingParty     string   `json:"reporting_party,omitempty"`
	Sector             string   `json:"sector,omitempty"`
	RecipientCountries []string `json:"recipient_countries,omitempty"`
}

// ValidatePartyIATI checks a party's IATI organisation identifier (empty:
// none) and type (empty: government); the CLI uses it too. field prefixes
// the fields it names.
func ValidatePartyIATI(ref, typ, field string) error {
	if ref != "" && (utf8.RuneCountInString(ref) > maxOrgRef || !orgRefPattern.MatchString(ref)) {
		return failField(probInvalid, field+"org_ref", fmt.Sprintf("%q is not an IATI organisation identifier such as XM-DAC-41114: the registration agency's code, a hyphen and the number it gave, at most %d characters", ref, maxOrgRef))
	}
	if typ != "" && !iati.Known(iati.ListOrganisationType, typ) {
		return failField(probInvalid, field+"org_type", fmt.Sprintf("%q is not a code of IATI's OrganisationType list (10 is government)", typ))
	}
	return nil
}

// ValidateDialogueIATI checks how a dialogue's activities are published,
// with parties the dialogue's parties (nil: not checked here, the
// database checks it); the CLI uses it too. field prefixes the fields it
// names.
func ValidateDialogueIATI(d store.DialogueIATI, parties []string, field string) error {
	if d.ReportingParty != "" {
		if !partyCodePattern.MatchString(d.ReportingParty) {
			return failField(probInvalid, field+"reporting_party", fmt.Sprintf("%q is not a party code", d.ReportingParty))
		}
		if parties != nil && !includesCode(parties, d.ReportingParty) {
			return failField(probInvalid, field+"reporting_party", fmt.Sprintf("the reporting party %s must be one of the dialogue's parties", d.ReportingParty))
		}
	}
	sector, countries := d.Sector, d.RecipientCountries
	if err := checkCodes(&sector, &countries, field+"sector", field+"recipient_countries", true); err != nil {
		return err
	}
	return nil
}

func includesCode(codes []string, c string) bool {
	for _, x := range codes {
		if x == c {
			return true
		}
	}
	return false
}

// checkClassification refuses an activity's sector or recipient country
// that is well formed but not an active code of IATI's lists (nil: not
// given); the core checks the form.
func checkClassification(sector *string, countries *[]string) error {
	return checkCodes(sector, countries, "sector", "recipient_countries", false)
}

// checkCodes checks a sector and recipient countries against IATI's code
// lists; strict also checks their form, which the core checks for
// activities.
func checkCodes(sector *string, countries *[]string, sectorField, countriesField string, strict bool) error {
	if sector != nil {
		v := strings.TrimSpace(*sector)
		switch {
		case v == "":
		case !sectorPattern.MatchString(v):
			if strict {
				return failField(probInvalid, sectorField, fmt.Sprintf("%q is not a DAC 5-digit purpose code such as 15190", v))
			}
		case !iati.Known(iati.ListSector, v):
			return failField(probInvalid, sectorField, fmt.Sprintf("%s is not a DAC 5-digit purpose code in use (IATI's Sector list)", v))
		}
	}
	if countries == nil {
		return nil
	}
	if strict && len(*countries) > maxCountry {
		return failField(probInvalid, countriesField, fmt.Sprintf("at most %d recipient countries", maxCountry))
	}
	for i, c := range *countries {
		field := fmt.Sprintf("%s[%d]", countriesField, i)
		c = strings.TrimSpace(c)
		switch {
		case !countryPattern.MatchString(c):
			if strict {
				return failField(probInvalid, field, fmt.Sprintf("%q is not an ISO 3166-1 alpha-2 country code such as PA", c))
			}
		case !iati.Known(iati.ListCountry, c):
			return failField(probInvalid, field, fmt.Sprintf("%s is not a country code in use (IATI's Country list)", c))
		case strict && includesCode((*countries)[:i], c):
			return failField(probInvalid, field, fmt.Sprintf("country %s is listed twice", c))
		}
	}
	return nil
}

func (s *Server) setPartyIATI(w http.ResponseWriter, r *http.Request) error {
	var req PartyIATIRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := ValidatePartyIATI(req.OrgRef, req.OrgType, ""); err != nil {
		return err
	}
	code := chi.URLParam(r, "code")
	p, err := s.store.SetPartyIATI(r.Context(), code, req.OrgRef, req.OrgType)
	if errors.Is(err, store.ErrNotFound) {
		return fail(probNotFound, "no party "+code)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

func (s *Server) setDialogueIATI(w http.ResponseWriter, r *http.Request) error {
	var req DialogueIATIRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	in := store.DialogueIATI{ReportingParty: req.ReportingParty, Sector: strings.TrimSpace(req.Sector), RecipientCountries: req.RecipientCountries}
	if err := ValidateDialogueIATI(in, nil, ""); err != nil {
		return err
	}
	id := chi.URLParam(r, "dialogue")
	d, err := s.store.SetDialogueIATI(r.Context(), id, in)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fail(probNotFound, "no dialogue "+id)
	case errors.Is(err, store.ErrNotAParty):
		return failField(probInvalid, "reporting_party", fmt.Sprintf("the reporting party %s must be one of dialogue %s's parties", req.ReportingParty, id))
	case err != nil:
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

// exportIATI streams a dialogue's published activities as an IATI 2.03
// activity file. They are published by every party's consent, so any
// principal may read them; nothing unpublished is in it, whoever asks.
func (s *Server) exportIATI(w http.ResponseWriter, r *http.Request) error {
	return s.ExportIATI(w, r, chi.URLParam(r, "dialogue"))
}

// ExportIATI answers r with dialogue's published activities as an IATI
// 2.03 activity file, for any signed-in principal: publication needs
// every party's consent, so nothing in it is private. An error returned
// means nothing has been written, and the caller answers it.
func (s *Server) ExportIATI(w http.ResponseWriter, r *http.Request, dialogue string) error {
	e, err := iati.Prepare(r.Context(), s.store, dialogue, s.now(), 0)
	var setup *iati.SetupError
	switch {
	case errors.Is(err, iati.ErrNoDialogue):
		return fail(probNotFound, "no such dialogue")
	case errors.Is(err, iati.ErrNothingPublished):
		return fail(probNotFound, fmt.Sprintf("no activity of dialogue %s is published: each party's approver consents first (POST /v1/activities/{id}/publication)", dialogue))
	case errors.As(err, &setup):
		return fail(probConflict, setup.Detail)
	case err != nil:
		return err
	}
	// The file may take longer to send than the server's write timeout.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.exportTimeout))
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+dialogue+`-iati.xml"`)
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	if _, err := e.Stream(r.Context(), w); err != nil {
		// The status is sent: cut the response short rather than let it
		// end as a file that looks whole.
		s.log.ErrorContext(r.Context(), "the IATI export failed part-way; its response is cut short", "dialogue", dialogue, "err", err,
			"request_id", middleware.GetReqID(r.Context()))
		panic(http.ErrAbortHandler)
	}
	return nil
}
