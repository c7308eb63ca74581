package iati

import (
	"embed"
	"encoding/xml"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"
)

// The IATI 2.03 code lists Pacto uses, as the standard publishes them.
//
//go:embed codelists/*.xml
var codelistFiles embed.FS

// The code lists by name.
const (
	ListActivityDateType = "ActivityDateType"
	ListActivityStatus   = "ActivityStatus"
	ListCountry          = "Country"
	ListDocumentCategory = "DocumentCategory"
	ListIndicatorMeasure = "IndicatorMeasure"
	ListOrganisationRole = "OrganisationRole"
	ListOrganisationType = "OrganisationType"
	ListResultType       = "ResultType"
	ListSector           = "Sector"
	ListSectorVocabulary = "SectorVocabulary"
)

// Codelist is one IATI code list: its active codes (those not marked
// withdrawn), which are the ones a new record may use.
type Codelist struct {
	Name  string
	codes map[string]bool
}

// Has reports whether code is an active code of the list.
func (c Codelist) Has(code string) bool { return c.codes[code] }

// Len is how many active codes the list has.
func (c Codelist) Len() int { return len(c.codes) }

// ReadCodelist reads a code list in the standard's XML form.
func ReadCodelist(r io.Reader) (Codelist, error) {
	var doc struct {
		Name  string `xml:"name,attr"`
		Items []struct {
			Status string `xml:"status,attr"`
			Code   string `xml:"code"`
		} `xml:"codelist-items>codelist-item"`
	}
	if err := xml.NewDecoder(r).Decode(&doc); err != nil {
		return Codelist{}, fmt.Errorf("read code list: %w", err)
	}
	c := Codelist{Name: doc.Name, codes: map[string]bool{}}
	for _, it := range doc.Items {
		if it.Status == "" || it.Status == "active" {
			c.codes[strings.TrimSpace(it.Code)] = true
		}
	}
	if c.Name == "" || len(c.codes) == 0 {
		return Codelist{}, fmt.Errorf("read code list: no name or no active codes")
	}
	return c, nil
}

var (
	loadLists sync.Once
	lists     map[string]Codelist
	listsErr  error
)

// List returns the embedded code list of that name.
func List(name string) (Codelist, error) {
	loadLists.Do(func() {
		lists = map[string]Codelist{}
		entries, err := codelistFiles.ReadDir("codelists")
		if err != nil {
			listsErr = err
			return
		}
		for _, e := range entries {
			f, err := codelistFiles.Open(path.Join("codelists", e.Name()))
			if err != nil {
				listsErr = err
				return
			}
			c, err := ReadCodelist(f)
			f.Close()
			if err != nil {
				listsErr = fmt.Errorf("%s: %w", e.Name(), err)
				return
			}
			lists[c.Name] = c
		}
	})
	if listsErr != nil {
		return Codelist{}, listsErr
	}
	c, ok := lists[name]
	if !ok {
		return Codelist{}, fmt.Errorf("no code list %q", name)
	}
	return c, nil
}

// Known reports whether code is an active code of the named embedded list.
func Known(list, code string) bool {
	c, err := List(list)
	return err == nil && c.Has(code)
}
