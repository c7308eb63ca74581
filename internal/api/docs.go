package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// omap is a YAML mapping that keeps its keys in order, so the reference
// lists fields and operations as the document does.
type omap struct {
	keys []string
	vals map[string]any
}

func (m *omap) get(k string) any {
	if m == nil {
		return nil
	}
	return m.vals[k]
}

func (m *omap) has(k string) bool {
	if m == nil {
		return false
	}
	_, ok := m.vals[k]
	return ok
}

// names returns the keys in order; none for a nil map.
func (m *omap) names() []string {
	if m == nil {
		return nil
	}
	return m.keys
}

func (m *omap) str(k string) string { s, _ := m.get(k).(string); return s }

func (m *omap) sub(k string) *omap { o, _ := m.get(k).(*omap); return o }

func (m *omap) list(k string) []any { l, _ := m.get(k).([]any); return l }

// fromNode converts a YAML node to omap, []any and plain scalars.
func fromNode(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return fromNode(n.Content[0])
	case yaml.AliasNode:
		return fromNode(n.Alias)
	case yaml.MappingNode:
		m := &omap{vals: map[string]any{}}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			v, err := fromNode(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			if _, dup := m.vals[k]; !dup {
				m.keys = append(m.keys, k)
			}
			m.vals[k] = v
		}
		return m, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := fromNode(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, fmt.Errorf("line %d: %w", n.Line, err)
	}
	return v, nil
}

// docField is one row of a field table: a parameter, or a property of a
// body at any depth ("milestones[].title").
type docField struct {
	Name     string
	In       string
	Type     string
	Required bool
	// Item marks the row of each item of a list, which is neither
	// required nor optional.
	Item        bool
	Limits      []template.HTML
	Description template.HTML
}

type docBody struct {
	ContentTypes []string
	Required     bool
	Fields       []docField
	// Note describes a body that is not an object with fields.
	Note template.HTML
}

type docResponse struct {
	Status       string
	Description  template.HTML
	ContentTypes []string
	Headers      []string
	// Problem is the problem type(s) of an error response, whose fields
	// are the Problem schema's.
	Problem []string
	// Object names a schema several operations answer with, whose fields
	// are listed once, under Objects, rather than in every operation.
	Object string
	Fields []docField
	Note   template.HTML
}

type docOp struct {
	ID, Method, Path, Summary string
	Description               template.HTML
	Auth                      string
	Params                    []docField
	Body                      *docBody
	Responses                 []docResponse
}

type docGroup struct {
	Name        string
	Description template.HTML
	Ops         []docOp
}

// docObject is a response schema shared by several operations.
type docObject struct {
	Name        string
	Description template.HTML
	Fields      []docField
}

type docProblem struct {
	Slug, Title string
	Status      int
}

type docPageData struct {
	Title, Version, License string
	Summary                 string
	Intro                   template.HTML
	Groups                  []docGroup
	Objects                 []docObject
	Problems                []docProblem
	ProblemFields           []docField
}

// docRenderer reads the document and renders schemas as field tables,
// resolving each $ref to the component it names.
type docRenderer struct {
	root *omap
	// shared counts the operations whose success response is each named
	// component schema.
	shared map[string]int
}

// resolve follows $refs to components until it reaches a schema, and
// returns it with the name of the last component followed.
func (r *docRenderer) resolve(s *omap) (*omap, string) {
	name := ""
	for i := 0; s != nil && s.has("$ref") && i < 10; i++ {
		ref := s.str("$ref")
		if !strings.HasPrefix(ref, "#/") {
			return nil, ref
		}
		cur := r.root
		for _, part := range strings.Split(ref[2:], "/") {
			cur = cur.sub(part)
		}
		s, name = cur, ref[strings.LastIndexByte(ref, '/')+1:]
	}
	return s, name
}

// merged returns a schema with its allOf members' properties and required
// lists folded in, as a reader sees them.
func (r *docRenderer) merged(s *omap) *omap {
	s, _ = r.resolve(s)
	if s == nil || !s.has("allOf") {
		return s
	}
	out := &omap{vals: map[string]any{}}
	props := &omap{vals: map[string]any{}}
	var required []any
	add := func(m *omap) {
		for _, k := range m.names() {
			switch k {
			case "allOf":
			case "properties":
				p := m.sub(k)
				for _, pk := range p.names() {
					if !props.has(pk) {
						props.keys = append(props.keys, pk)
					}
					// A later member narrows a property (status: const 400);
					// keep what both say.
					props.vals[pk] = overlay(props.sub(pk), p.sub(pk))
				}
			case "required":
				required = append(required, m.list(k)...)
			default:
				if !out.has(k) {
					out.keys = append(out.keys, k)
				}
				out.vals[k] = m.vals[k]
			}
		}
	}
	add(s)
	for _, member := range s.list("allOf") {
		m, _ := member.(*omap)
		add(r.merged(m))
	}
	out.keys = append(out.keys, "properties", "required")
	out.vals["properties"], out.vals["required"] = props, required
	return out
}

// overlay returns a with b's keywords set over it.
func overlay(a, b *omap) *omap {
	if a == nil {
		return b
	}
	out := &omap{keys: slices.Clone(a.keys), vals: map[string]any{}}
	for k, v := range a.vals {
		out.vals[k] = v
	}
	// A narrowed value replaces the wider list: a 404's type is only
	// not-found, not every problem type.
	if b.has("const") || b.has("enum") {
		out.keys = slices.DeleteFunc(out.keys, func(k string) bool { return k == "const" || k == "enum" })
		delete(out.vals, "const")
		delete(out.vals, "enum")
	}
	for _, k := range b.names() {
		if !out.has(k) {
			out.keys = append(out.keys, k)
		}
		out.vals[k] = b.vals[k]
	}
	return out
}

// typeName says what kind of value a schema holds, e.g. "array of string",
// "string (date-time)", "integer or null".
func (r *docRenderer) typeName(s *omap) string {
	s, name := r.resolve(s)
	if s == nil {
		return "any"
	}
	var kinds []string
	switch t := s.get("type").(type) {
	case string:
		kinds = []string{t}
	case []any:
		for _, k := range t {
			kinds = append(kinds, fmt.Sprint(k))
		}
	}
	if len(kinds) == 0 && s.has("const") {
		kinds = []string{jsonKind(s.get("const"))}
	}
	if len(kinds) == 0 {
		for _, k := range []string{"anyOf", "oneOf"} {
			for _, alt := range s.list(k) {
				m, _ := alt.(*omap)
				kinds = append(kinds, r.typeName(m))
			}
		}
	}
	for i, k := range kinds {
		if k == "array" {
			kinds[i] = "array of " + r.typeName(s.sub("items"))
		}
	}
	t := strings.Join(kinds, " or ")
	if t == "" {
		t = "any"
	}
	var formats []string
	if f := s.str("format"); f != "" {
		formats = append(formats, f)
	}
	for _, alt := range s.list("anyOf") {
		if m, _ := alt.(*omap); m.str("format") != "" && !m.has("type") {
			formats = append(formats, m.str("format"))
		}
	}
	if len(formats) > 0 {
		t += " (" + strings.Join(formats, " or ") + ")"
	}
	if t == "object" && name != "" {
		t = "object (" + name + ")"
	}
	return t
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case int, int64, float64:
		return "number"
	case bool:
		return "boolean"
	}
	return "any"
}

// code renders a value as escaped inline code.
func code(v any) string {
	s, ok := v.(string)
	if !ok {
		if v == nil {
			s = "null"
		} else {
			s = fmt.Sprint(v)
		}
	}
	return "<code>" + html.EscapeString(s) + "</code>"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// limits lists what a schema allows: lengths, item counts, bounds,
// pattern, enum, constant, default and examples.
func (r *docRenderer) limits(s *omap) []template.HTML {
	s, _ = r.resolve(s)
	if s == nil {
		return nil
	}
	var out []string
	num := func(k string) (int, bool) { n, ok := s.get(k).(int); return n, ok }
	rangeOf := func(minKey, maxKey, one, many string) {
		lo, hasLo := num(minKey)
		hi, hasHi := num(maxKey)
		switch {
		case hasLo && hasHi:
			out = append(out, fmt.Sprintf("%d to %s", lo, plural(hi, one, many)))
		case hasHi:
			out = append(out, "at most "+plural(hi, one, many))
		case hasLo:
			out = append(out, "at least "+plural(lo, one, many))
		}
	}
	rangeOf("minLength", "maxLength", "character", "characters")
	rangeOf("minItems", "maxItems", "item", "items")
	if s.has("minimum") {
		out = append(out, "minimum "+code(s.get("minimum")))
	}
	if s.has("maximum") {
		out = append(out, "maximum "+code(s.get("maximum")))
	}
	if p := s.str("pattern"); p != "" {
		out = append(out, "pattern "+code(p))
	}
	if e := s.list("enum"); len(e) > 0 {
		vals := make([]string, len(e))
		for i, v := range e {
			vals[i] = code(v)
		}
		out = append(out, "one of "+strings.Join(vals, ", "))
	}
	if s.has("const") {
		out = append(out, "always "+code(s.get("const")))
	}
	if s.has("default") {
		out = append(out, "default "+code(s.get("default")))
	}
	if ex := s.list("examples"); len(ex) > 0 {
		vals := make([]string, len(ex))
		for i, v := range ex {
			vals[i] = code(v)
		}
		out = append(out, "e.g. "+strings.Join(vals, ", "))
	}
	// A value of one of several shapes (a text as a string or keyed by
	// language) has the limits of each shape.
	for _, k := range []string{"anyOf", "oneOf"} {
		for _, alt := range s.list(k) {
			m, _ := alt.(*omap)
			m, _ = r.resolve(m)
			if m == nil {
				continue
			}
			kind := m.str("type")
			for _, l := range r.limits(m) {
				out = append(out, fmt.Sprintf("as %s, %s", article(kind)+" "+kind, l))
			}
			if kind != "object" {
				continue
			}
			for _, l := range r.limits(m.sub("additionalProperties")) {
				out = append(out, "each value "+string(l))
			}
			for _, l := range r.limits(m.sub("propertyNames")) {
				out = append(out, "each key "+string(l))
			}
		}
	}
	res := make([]template.HTML, len(out))
	for i, o := range out {
		res[i] = template.HTML(o) // built from code(), which escapes
	}
	return res
}

// description is a schema's own description, or else the one of the
// component it refers to.
func (r *docRenderer) description(s *omap) template.HTML {
	if d := s.str("description"); d != "" {
		return renderMarkdown(d)
	}
	if res, _ := r.resolve(s); res != nil {
		return renderMarkdown(res.str("description"))
	}
	return ""
}

// fields flattens an object schema's properties, and those of the objects
// within it, into rows named by their path. seen stops a schema that
// contains itself.
func (r *docRenderer) fields(prefix string, s *omap, seen []string) []docField {
	s = r.merged(s)
	if s == nil {
		return nil
	}
	required := map[string]bool{}
	for _, k := range s.list("required") {
		required[fmt.Sprint(k)] = true
	}
	props := s.sub("properties")
	var out []docField
	for _, name := range props.names() {
		p := props.sub(name)
		out = append(out, docField{
			Name: prefix + name, Type: r.typeName(p), Required: required[name],
			Limits: r.limits(p), Description: r.description(p),
		})
		out = append(out, r.nested(prefix+name, p, seen)...)
	}
	return out
}

// nested returns the rows inside a property: an object's fields, or those
// of the objects a list holds.
func (r *docRenderer) nested(path string, p *omap, seen []string) []docField {
	res, name := r.resolve(p)
	if res == nil || (name != "" && slices.Contains(seen, name)) {
		return nil
	}
	if name != "" {
		seen = append(slices.Clone(seen), name)
	}
	if m := r.merged(res); m.sub("properties") != nil {
		return r.fields(path+".", m, seen)
	}
	if items := res.sub("items"); items != nil {
		if inner := r.nested(path+"[]", items, seen); len(inner) > 0 {
			return inner
		}
		// A list of plain values: its items get a row of their own when
		// there is something to say about each.
		if lim, desc := r.limits(items), items.str("description"); len(lim) > 0 || desc != "" {
			return []docField{{Name: path + "[]", Item: true, Type: r.typeName(items), Limits: lim, Description: renderMarkdown(desc)}}
		}
	}
	return nil
}

// body describes a request or response body's schema: its fields, or a
// note when it is not an object with properties.
func (r *docRenderer) body(content *omap) ([]string, []docField, template.HTML) {
	var types []string
	var fields []docField
	var note template.HTML
	for _, ct := range content.names() {
		types = append(types, ct)
		schema := content.sub(ct).sub("schema")
		if fields != nil || schema == nil {
			continue
		}
		if f := r.fields("", schema, nil); len(f) > 0 {
			fields = f
			continue
		}
		if note == "" {
			note = template.HTML(html.EscapeString(ct+": "+r.typeName(schema)+". ")) + r.description(schema)
		}
	}
	return types, fields, note
}

func (r *docRenderer) operation(path, method string, op *omap, pathParams []any) docOp {
	o := docOp{ID: op.str("operationId"), Method: strings.ToUpper(method), Path: path, Summary: op.str("summary"),
		Description: renderMarkdown(op.str("description"))}
	switch {
	case op.has("security") && len(op.list("security")) == 0:
		o.Auth = "No token needed."
	case strings.HasPrefix(path, "/v1/admin/"):
		o.Auth = "Bearer token of a principal with the admin role."
	default:
		o.Auth = "Bearer token."
	}
	for _, raw := range append(slices.Clone(pathParams), op.list("parameters")...) {
		p, _ := raw.(*omap)
		p, _ = r.resolve(p)
		schema := p.sub("schema")
		desc := renderMarkdown(p.str("description"))
		o.Params = append(o.Params, docField{Name: p.str("name"), In: p.str("in"), Type: r.typeName(schema),
			Required: p.get("required") == true, Limits: r.limits(schema), Description: desc})
	}
	if rb := op.sub("requestBody"); rb != nil {
		rb, _ = r.resolve(rb)
		b := &docBody{Required: rb.get("required") == true}
		b.ContentTypes, b.Fields, b.Note = r.body(rb.sub("content"))
		o.Body = b
	}
	responses := op.sub("responses")
	statuses := slices.Clone(responses.names())
	sort.Strings(statuses)
	for _, status := range statuses {
		resp, _ := r.resolve(responses.sub(status))
		d := docResponse{Status: status, Description: renderMarkdown(resp.str("description"))}
		d.Headers = slices.Clone(resp.sub("headers").names())
		content := resp.sub("content")
		if pj := content.sub("application/problem+json"); pj != nil {
			d.ContentTypes = []string{"application/problem+json"}
			typ := r.merged(pj.sub("schema")).sub("properties").sub("type")
			if c, ok := typ.get("const").(string); ok {
				d.Problem = []string{c}
			}
			for _, e := range typ.list("enum") {
				d.Problem = append(d.Problem, fmt.Sprint(e))
			}
		} else if name := r.responseObject(content); r.shared[name] > 1 {
			d.ContentTypes, d.Object = slices.Clone(content.names()), name
		} else if content != nil {
			d.ContentTypes, d.Fields, d.Note = r.body(content)
		}
		o.Responses = append(o.Responses, d)
	}
	return o
}

// responseObject names the component schema a response's JSON body is, if
// it is one.
func (r *docRenderer) responseObject(content *omap) string {
	schema := content.sub("application/json").sub("schema")
	if schema == nil || !schema.has("$ref") {
		return ""
	}
	_, name := r.resolve(schema)
	return name
}

var httpMethods = []string{"get", "put", "post", "patch", "delete", "head", "options", "trace"}

// buildDocs reads the OpenAPI document into the reference page's data.
func buildDocs(src []byte) (docPageData, error) {
	var node yaml.Node
	if err := yaml.Unmarshal(src, &node); err != nil {
		return docPageData{}, fmt.Errorf("parse openapi.yaml: %w", err)
	}
	v, err := fromNode(&node)
	if err != nil {
		return docPageData{}, fmt.Errorf("read openapi.yaml: %w", err)
	}
	root, ok := v.(*omap)
	if !ok {
		return docPageData{}, fmt.Errorf("openapi.yaml is not a mapping")
	}
	r := &docRenderer{root: root, shared: map[string]int{}}
	info := root.sub("info")
	page := docPageData{Title: info.str("title"), Version: info.str("version"), Summary: info.str("summary"),
		License: info.sub("license").str("name"), Intro: renderMarkdown(info.str("description"))}

	groups := map[string]*docGroup{}
	var order []string
	for _, raw := range root.list("tags") {
		t, _ := raw.(*omap)
		groups[t.str("name")] = &docGroup{Name: t.str("name"), Description: renderMarkdown(t.str("description"))}
		order = append(order, t.str("name"))
	}
	paths := root.sub("paths")
	for _, path := range paths.names() {
		for _, method := range httpMethods {
			responses := paths.sub(path).sub(method).sub("responses")
			for _, status := range responses.names() {
				m, _ := r.resolve(responses.sub(status))
				if name := r.responseObject(m.sub("content")); name != "" {
					r.shared[name]++
				}
			}
		}
	}
	for _, path := range paths.names() {
		item := paths.sub(path)
		for _, method := range httpMethods {
			op := item.sub(method)
			if op == nil {
				continue
			}
			tag := "other"
			if tags := op.list("tags"); len(tags) > 0 {
				tag = fmt.Sprint(tags[0])
			}
			g := groups[tag]
			if g == nil {
				g = &docGroup{Name: tag}
				groups[tag] = g
				order = append(order, tag)
			}
			g.Ops = append(g.Ops, r.operation(path, method, op, item.list("parameters")))
		}
	}
	for _, name := range order {
		if len(groups[name].Ops) > 0 {
			page.Groups = append(page.Groups, *groups[name])
		}
	}
	schemas := root.sub("components").sub("schemas")
	for _, name := range schemas.names() {
		if r.shared[name] > 1 {
			page.Objects = append(page.Objects, docObject{Name: name,
				Description: renderMarkdown(schemas.sub(name).str("description")), Fields: r.fields("", schemas.sub(name), []string{name})})
		}
	}
	for _, c := range allProblemClasses {
		page.Problems = append(page.Problems, docProblem{Slug: c.slug, Title: c.title, Status: c.status})
	}
	page.ProblemFields = r.fields("", root.sub("components").sub("schemas").sub("Problem"), nil)
	return page, nil
}

// docsCSS is the page's only style sheet, inline; docsCSP allows exactly
// it, by hash, and nothing else (no scripts, images, fonts or frames), so
// even a flaw in escaping could not run a script.
const docsCSS = `body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;line-height:1.45;color:#222}
code{background:#f3f3f3;padding:0 .2em;border-radius:3px;font-size:.92em;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;margin:.4em 0 1em}td,th{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#fafafa}td p{margin:0 0 .3em}td ul{margin:0;padding-left:1.2em}
section.op{border-top:2px solid #ccc;margin-top:2em}h3{margin-bottom:.2em}
.m{font-weight:bold;display:inline-block;min-width:4.5em}.req{font-weight:bold}.opt{color:#777}
.lim{margin:0;padding-left:1em}nav ul{columns:2}
`

var docsCSP = func() string {
	sum := sha256.Sum256([]byte(docsCSS))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
}()

var docsPage = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} {{.Version}}</title>
<style>` + docsCSS + `</style></head>
<body><h1>{{.Title}} <small>{{.Version}}</small></h1>
<p>{{.Summary}}</p>
{{.Intro}}
<p>The machine-readable description is <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).{{if .License}} License: {{.License}}.{{end}}</p>
<nav><h2>Operations</h2>{{range .Groups}}<h3>{{.Name}}</h3><ul>{{range .Ops}}<li><a href="#op-{{.ID}}"><span class="m">{{.Method}}</span> <code>{{.Path}}</code></a> {{.Summary}}</li>{{end}}</ul>{{end}}
<p>{{if .Objects}}<a href="#objects">Objects</a>: {{range $i, $o := .Objects}}{{if $i}}, {{end}}<a href="#object-{{$o.Name}}">{{$o.Name}}</a>{{end}}. {{end}}<a href="#problems">Problem types</a>.</p></nav>
{{range .Groups}}<h2 id="tag-{{.Name}}">{{.Name}}</h2>{{.Description}}
{{range .Ops}}<section class="op" id="op-{{.ID}}"><h3><span class="m">{{.Method}}</span> <code>{{.Path}}</code></h3>
<p><strong>{{.Summary}}</strong> <small>({{.ID}})</small></p>{{.Description}}<p><em>Authentication:</em> {{.Auth}}</p>
{{if .Params}}<h4>Parameters</h4>{{template "fields" .Params}}{{end}}
{{with .Body}}<h4>Request body{{if .Required}} (required){{else}} (optional){{end}}</h4><p>{{range $i, $t := .ContentTypes}}{{if $i}}, {{end}}<code>{{$t}}</code>{{end}}</p>
{{if .Fields}}{{template "fields" .Fields}}{{end}}{{if .Note}}<p>{{.Note}}</p>{{end}}{{end}}
<h4>Responses</h4>
{{range .Responses}}{{if not .Problem}}<div class="resp"><h5>{{.Status}}</h5>{{.Description}}
{{if .ContentTypes}}<p>{{range $i, $t := .ContentTypes}}{{if $i}}, {{end}}<code>{{$t}}</code>{{end}}{{if .Headers}}; headers {{range $i, $h := .Headers}}{{if $i}}, {{end}}<code>{{$h}}</code>{{end}}{{end}}</p>{{else if .Headers}}<p>Headers {{range $i, $h := .Headers}}{{if $i}}, {{end}}<code>{{$h}}</code>{{end}}</p>{{end}}
{{with .Object}}<p>The body is the <a href="#object-{{.}}">{{.}}</a> object, whose fields are listed under <a href="#objects">Objects</a>.</p>{{end}}
{{if .Fields}}{{template "fields" .Fields}}{{end}}{{if .Note}}<p>{{.Note}}</p>{{end}}</div>
{{end}}{{end}}<table class="errors"><tr><th>status</th><th><a href="#problems">problem</a> type</th><th>when</th></tr>
{{range .Responses}}{{if .Problem}}<tr><td>{{.Status}}</td><td>{{range $i, $p := .Problem}}{{if $i}}<br>{{end}}<a href="{{$p}}"><code>{{$p}}</code></a>{{end}}</td><td>{{.Description}}</td></tr>
{{end}}{{end}}</table>
</section>
{{end}}{{end}}
{{if .Objects}}<h2 id="objects">Objects</h2><p>The objects several operations answer with.</p>
{{range .Objects}}<section class="op" id="object-{{.Name}}"><h3>{{.Name}}</h3>{{.Description}}{{template "fields" .Fields}}</section>
{{end}}{{end}}
<h2 id="problems">Problem types</h2>
<p>Every error is an RFC 9457 problem (<code>application/problem+json</code>) with these fields:</p>
{{template "fields" .ProblemFields}}
<table><tr><th>type</th><th>status</th><th>meaning</th></tr>
{{range .Problems}}<tr id="problem-{{.Slug}}"><td><code>/docs#problem-{{.Slug}}</code></td><td>{{.Status}}</td><td>{{.Title}}</td></tr>
{{end}}</table></body></html>
{{define "fields"}}<table><tr><th>name</th><th>type</th><th></th><th>limits</th><th>description</th></tr>
{{range .}}<tr><td><code>{{.Name}}</code>{{if .In}} <small>({{.In}})</small>{{end}}</td><td>{{.Type}}</td><td>{{if .Item}}each item{{else if .Required}}<span class="req">required</span>{{else}}<span class="opt">optional</span>{{end}}</td><td>{{if .Limits}}<ul class="lim">{{range .Limits}}<li>{{.}}</li>{{end}}</ul>{{end}}</td><td>{{.Description}}</td></tr>
{{end}}</table>{{end}}`))

// The page depends only on the embedded document, so it is rendered once.
var renderedDocs = sync.OnceValues(func() ([]byte, error) {
	page, err := buildDocs(openapiYAML)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := docsPage.Execute(&b, page); err != nil {
		return nil, fmt.Errorf("render /docs: %w", err)
	}
	return b.Bytes(), nil
})

// docs serves a readable reference rendered from the OpenAPI document:
// every operation with its parameters, request and response fields and
// their limits, and the problem types.
func (s *Server) docs(w http.ResponseWriter, r *http.Request) {
	b, err := renderedDocs()
	if err != nil {
		writeProblem(w, r, fail(probInternal, err.Error()))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", docsCSP)
	_, _ = w.Write(b)
}
