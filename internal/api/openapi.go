package api

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"

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

type docOperation struct {
	Method, Path, Summary, Description string
}

type docProblem struct {
	Slug, Title string
	Status      int
}

// docsCSS is the page's only style sheet, inline; docsCSP allows exactly
// it, by hash, and nothing else (no scripts, images, fonts or frames).
const docsCSS = `body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
code{background:#f3f3f3;padding:0 .2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}
h3{margin-bottom:.2em}.m{font-weight:bold;display:inline-block;min-width:4.5em}`

var docsCSP = func() string {
	sum := sha256.Sum256([]byte(docsCSS))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
}()

var docsPage = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pacto API</title>
<style>` + docsCSS + `</style></head>
<body><h1>Pacto API</h1>
<p>JSON over <code>/v1</code>. Send <code>Authorization: Bearer &lt;token&gt;</code>. Every error is
RFC 9457 problem JSON (<code>application/problem+json</code>) whose <code>type</code> is one of the
classes below. The machine-readable description is <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
<h2>Operations</h2>
{{range .Ops}}<h3><span class="m">{{.Method}}</span> <code>{{.Path}}</code></h3><p>{{.Summary}}{{if .Description}}<br>{{.Description}}{{end}}</p>
{{end}}
<h2 id="problems">Problem types</h2>
<table><tr><th>type</th><th>status</th><th>meaning</th></tr>
{{range .Problems}}<tr id="problem-{{.Slug}}"><td><code>/docs#problem-{{.Slug}}</code></td><td>{{.Status}}</td><td>{{.Title}}</td></tr>
{{end}}</table></body></html>
`))

// docs renders a readable reference from the OpenAPI document.
func (s *Server) docs(w http.ResponseWriter, r *http.Request) {
	var doc struct {
		Paths map[string]map[string]struct {
			Summary     string `yaml:"summary"`
			Description string `yaml:"description"`
		} `yaml:"paths"`
	}
	if err := yaml.Unmarshal(openapiYAML, &doc); err != nil {
		writeProblem(w, r, fail(probInternal, err.Error()))
		return
	}
	var ops []docOperation
	for path, methods := range doc.Paths {
		for method, op := range methods {
			if method == "parameters" {
				continue
			}
			ops = append(ops, docOperation{Method: strings.ToUpper(method), Path: path, Summary: op.Summary, Description: op.Description})
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].Path != ops[j].Path {
			return ops[i].Path < ops[j].Path
		}
		return ops[i].Method < ops[j].Method
	})
	probs := make([]docProblem, len(allProblemClasses))
	for i, c := range allProblemClasses {
		probs[i] = docProblem{Slug: c.slug, Title: c.title, Status: c.status}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", docsCSP)
	_ = docsPage.Execute(w, map[string]any{"Ops": ops, "Problems": probs})
}
