package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/pb33f/jsonschema/v6"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"gopkg.in/yaml.v3"
	sigsyaml "sigs.k8s.io/yaml"
)

func TestOpenAPIDocumentIsValid31(t *testing.T) {
	doc, err := libopenapi.NewDocument(openapiYAML)
	if err != nil {
		t.Fatalf("parse openapi.yaml: %v", err)
	}
	info := doc.GetSpecInfo()
	if info.SpecType != "openapi" || doc.GetVersion() != "3.1.0" {
		t.Fatalf("openapi.yaml is %s %s, want openapi 3.1.0", info.SpecType, doc.GetVersion())
	}
	// Building the model resolves every $ref; a dangling one fails here.
	if _, err := doc.BuildV3Model(); err != nil {
		t.Fatalf("build model: %v", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("new validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok || len(verrs) > 0 {
		for _, e := range verrs {
			t.Errorf("openapi.yaml line %d: %s: %s", e.SpecLine, e.Message, e.Reason)
			for _, f := range e.SchemaValidationErrors {
				t.Errorf("  %s", f.Error())
			}
		}
		t.Fatal("openapi.yaml is not a valid OpenAPI 3.1 document")
	}
}

// The JSON served at /openapi.json must say exactly what the YAML says; a
// second, independent YAML reader catches what yaml.v3 might read
// differently (timestamps, non-string keys).
func TestOpenAPIJSONEqualsYAML(t *testing.T) {
	got, err := OpenAPIJSON()
	if err != nil {
		t.Fatal(err)
	}
	want, err := sigsyaml.YAMLToJSON(openapiYAML)
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("OpenAPIJSON is not JSON: %v", err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("OpenAPIJSON differs from openapi.yaml at %s", firstDifference("", g, w))
	}
	// The served JSON must itself be a valid document.
	doc, err := libopenapi.NewDocument(got)
	if err != nil {
		t.Fatalf("parse OpenAPIJSON: %v", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("new validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		t.Fatalf("OpenAPIJSON is not a valid document: %v", verrs)
	}
}

// The OpenAPI meta-schema does not look inside Schema Objects, so a typo
// such as `type: intger` would pass ValidateDocument; check every schema
// against the JSON Schema 2020-12 meta-schema, which OpenAPI 3.1 builds on.
func TestOpenAPISchemasAreValidJSONSchema(t *testing.T) {
	meta, err := jsonschema.NewCompiler().Compile("https://json-schema.org/draft/2020-12/schema")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sigsyaml.YAMLToJSON(openapiYAML)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	checked := 0
	check := func(where string, schema any) {
		checked++
		if err := meta.Validate(schema); err != nil {
			t.Errorf("%s is not a valid JSON Schema: %v", where, err)
		}
	}
	// Every "schema" member outside components.schemas (parameters,
	// headers, media types) holds a schema.
	var walk func(where string, v any)
	walk = func(where string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				if k == "schema" {
					check(where+"/schema", child)
					continue
				}
				walk(where+"/"+k, child)
			}
		case []any:
			for i, child := range v {
				walk(fmt.Sprintf("%s/%d", where, i), child)
			}
		}
	}
	walk("", doc["paths"])
	components, _ := doc["components"].(map[string]any)
	for name, schema := range components["schemas"].(map[string]any) {
		check("/components/schemas/"+name, schema)
	}
	for _, section := range []string{"parameters", "headers", "responses", "requestBodies"} {
		walk("/components/"+section, components[section])
	}
	if checked < 50 {
		t.Errorf("checked only %d schemas", checked)
	}
}

// firstDifference names the first JSON path where a and b differ.
func firstDifference(path string, a, b any) string {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			return path
		}
		keys := make([]string, 0, len(av)+len(bv))
		for k := range av {
			keys = append(keys, k)
		}
		for k := range bv {
			if _, ok := av[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !reflect.DeepEqual(av[k], bv[k]) {
				return firstDifference(path+"/"+k, av[k], bv[k])
			}
		}
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return path
		}
		for i := range av {
			if !reflect.DeepEqual(av[i], bv[i]) {
				return firstDifference(fmt.Sprintf("%s/%d", path, i), av[i], bv[i])
			}
		}
	}
	return fmt.Sprintf("%s (%v vs %v)", path, a, b)
}

// chiParam matches a chi path parameter, with an optional regexp.
var chiParam = regexp.MustCompile(`\{([^}:]+)(:[^}]*)?\}`)

// routerOperations lists "METHOD /path" for every route Handler registers,
// with chi's parameters in OpenAPI form.
func routerOperations(t *testing.T) []string {
	t.Helper()
	routes, ok := (&Server{}).Handler().(chi.Routes)
	if !ok {
		t.Fatal("Handler is not a chi router")
	}
	var ops []string
	err := chi.Walk(routes, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = chiParam.ReplaceAllString(route, "{$1}")
		// A sub-router's "/" route is reported with a trailing slash; it
		// serves the same operation as the path without one.
		if len(route) > 1 {
			route = strings.TrimSuffix(route, "/")
		}
		ops = append(ops, method+" "+route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ops)
	return slices.Compact(ops)
}

// openapiDoc is the part of the document the route and docs tests read.
type openapiDoc struct {
	Paths map[string]map[string]struct {
		Summary     string `yaml:"summary"`
		Description string `yaml:"description"`
	} `yaml:"paths"`
}

func documentOperations(t *testing.T) ([]string, openapiDoc) {
	t.Helper()
	var doc openapiDoc
	if err := yaml.Unmarshal(openapiYAML, &doc); err != nil {
		// The docs page reads paths the same way, so this shape must hold.
		t.Fatalf("openapi.yaml paths must hold only operations: %v", err)
	}
	var ops []string
	for path, methods := range doc.Paths {
		for method := range methods {
			ops = append(ops, strings.ToUpper(method)+" "+path)
		}
	}
	slices.Sort(ops)
	return ops, doc
}

func TestOpenAPICoversEveryRoute(t *testing.T) {
	routed := routerOperations(t)
	documented, doc := documentOperations(t)
	if len(routed) < 10 {
		t.Fatalf("walked only %d routes: %v", len(routed), routed)
	}
	for _, op := range routed {
		if !slices.Contains(documented, op) {
			t.Errorf("route %s is not in openapi.yaml", op)
		}
	}
	for _, op := range documented {
		if !slices.Contains(routed, op) {
			t.Errorf("openapi.yaml documents %s, which Handler does not route", op)
		}
	}
	// /docs shows the summary and description of each operation.
	for path, methods := range doc.Paths {
		for method, op := range methods {
			if strings.TrimSpace(op.Summary) == "" || strings.TrimSpace(op.Description) == "" {
				t.Errorf("%s %s needs a summary and a description", strings.ToUpper(method), path)
			}
		}
	}
}

// The Problem schema's type enum and its description must list exactly the
// classes the server can write.
func TestOpenAPIProblemTypesMatchClasses(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas struct {
				Problem struct {
					Description string `yaml:"description"`
					Properties  struct {
						Type struct {
							Enum []string `yaml:"enum"`
						} `yaml:"type"`
					} `yaml:"properties"`
				} `yaml:"Problem"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(openapiYAML, &doc); err != nil {
		t.Fatal(err)
	}
	p := doc.Components.Schemas.Problem
	var want []string
	for _, c := range allProblemClasses {
		typ := problemTypeBase + c.slug
		want = append(want, typ)
		if !strings.Contains(p.Description, fmt.Sprintf("`%s` (%d)", typ, c.status)) {
			t.Errorf("the Problem description does not list `%s` (%d)", typ, c.status)
		}
	}
	got := slices.Clone(p.Properties.Type.Enum)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("Problem.type enum = %v, want %v", got, want)
	}
}

func TestOpenAPIDocsPageRenders(t *testing.T) {
	rec := httptest.NewRecorder()
	(&Server{}).docs(rec, httptest.NewRequest(http.MethodGet, "/docs", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/docs answered %d: %s", rec.Code, rec.Body)
	}
	body := rec.Body.String()
	for _, want := range []string{"/v1/activities/{id}/milestones/{mid}/extensions/{eid}/decisions", "Propose an activity", "problem-stale-version"} {
		if !strings.Contains(body, want) {
			t.Errorf("/docs lacks %q", want)
		}
	}
}

// resolveRef follows a local "$ref" in the raw document, once.
func resolveRef(doc map[string]any, v any) map[string]any {
	m, _ := v.(map[string]any)
	ref, ok := m["$ref"].(string)
	if !ok {
		return m
	}
	var cur any = doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		next, _ := cur.(map[string]any)
		cur = next[part]
	}
	out, _ := cur.(map[string]any)
	return out
}

// Every operation documents each error its route can answer, as a
// problem: 401 on /v1, 403 on /v1/admin and on activity writes, 404 where
// the path names a resource, 400/413/415/422 where there is a body, 422
// where a query parameter or header is checked, 409 on activity writes,
// 428 where If-Match is read, 503 wherever a dependency is asked and 500
// everywhere.
func TestOpenAPIOperationsListTheirErrors(t *testing.T) {
	doc := rawOpenAPI(t)
	paths := doc["paths"].(map[string]any)
	checked := 0
	for path, item := range paths {
		for method, rawOp := range item.(map[string]any) {
			op := rawOp.(map[string]any)
			where := strings.ToUpper(method) + " " + path
			checked++
			want := map[string]bool{"500": true}
			v1 := strings.HasPrefix(path, "/v1/")
			if v1 || path == "/readyz" {
				want["503"] = true
			}
			if v1 {
				want["401"] = true
			}
			if strings.HasPrefix(path, "/v1/admin/") {
				want["403"] = true
			}
			if strings.Contains(path, "{") {
				want["404"] = true
			}
			activityWrite := strings.HasPrefix(path, "/v1/activities/{id}") && method != "get"
			if activityWrite {
				want["403"], want["409"] = true, true
			}
			if _, ok := op["requestBody"]; ok {
				for _, s := range []string{"400", "413", "415", "422"} {
					want[s] = true
				}
			}
			params, _ := op["parameters"].([]any)
			for _, p := range params {
				pm := resolveRef(doc, p)
				if pm["in"] == "path" {
					continue
				}
				if pm["name"] == "If-Match" {
					want["428"] = true
				}
				// A parameter whose schema is more than "any string" is
				// checked, and refused with a 422.
				schema, _ := pm["schema"].(map[string]any)
				for k := range schema {
					if k != "type" && k != "description" {
						want["422"] = true
					}
				}
			}
			responses := op["responses"].(map[string]any)
			for status := range want {
				if _, ok := responses[status]; !ok {
					t.Errorf("%s does not document %s", where, status)
				}
			}
			for status, r := range responses {
				if status[0] != '4' && status[0] != '5' {
					continue
				}
				content, _ := resolveRef(doc, r)["content"].(map[string]any)
				if _, ok := content["application/problem+json"]; !ok && where != "GET /metrics" {
					t.Errorf("%s documents %s without application/problem+json", where, status)
				}
			}
		}
	}
	if checked < 30 {
		t.Fatalf("checked only %d operations", checked)
	}
}
