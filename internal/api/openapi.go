package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"gopkg.in/yaml.v3"
)

// openapiYAML is the OpenAPI 3.1 description of this API, kept beside the
// handlers it describes; the tests check responses against it.
//
//go:embed openapi.yaml
var openapiYAML []byte

// OpenAPIJSON returns the OpenAPI document as JSON.
func OpenAPIJSON() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(openapiYAML, &doc); err != nil {
		return nil, fmt.Errorf("parse openapi.yaml: %w", err)
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode openapi document: %w", err)
	}
	return b, nil
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) {
	b, err := OpenAPIJSON()
	if err != nil {
		writeProblem(w, r, fail(probInternal, err.Error()))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}
