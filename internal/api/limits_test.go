package api

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"pacto/internal/delivery"
	"pacto/internal/lifecycle"
	"pacto/internal/store"
)

// rawOpenAPI is the document as plain maps and lists.
func rawOpenAPI(t testing.TB) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(openapiYAML, &doc); err != nil {
		t.Fatalf("parse openapi.yaml: %v", err)
	}
	return doc
}

// boundKeywords are the JSON Schema keywords that limit a value; each one
// the document uses must be one the code enforces.
var boundKeywords = []string{"minLength", "maxLength", "minItems", "maxItems", "minimum", "maximum",
	"exclusiveMinimum", "exclusiveMaximum", "pattern", "multipleOf", "minProperties", "maxProperties"}

// documentLimits collects, by the keys SchemaLimits uses, the bounds that
// openapi.yaml states on component schemas and on parameters. A $ref is
// not followed: the component it names is visited under its own name.
func documentLimits(t *testing.T, doc map[string]any) map[string]lifecycle.Limit {
	t.Helper()
	out := map[string]lifecycle.Limit{}
	var visit func(where string, schema any)
	visit = func(where string, schema any) {
		s, ok := schema.(map[string]any)
		if !ok {
			return
		}
		var l lifecycle.Limit
		found := false
		for _, k := range boundKeywords {
			v, ok := s[k]
			if !ok {
				continue
			}
			found = true
			n, isInt := v.(int)
			switch k {
			case "minLength":
				l.MinLength = n
			case "maxLength":
				l.MaxLength = n
			case "minItems":
				l.MinItems = n
			case "maxItems":
				l.MaxItems = n
			case "minimum":
				l.Minimum = ptr64(int64(n))
			case "maximum":
				l.Maximum = ptr64(int64(n))
			case "pattern":
				l.Pattern, isInt = v.(string), true
			default:
				t.Errorf("%s uses %s, which no validator enforces", where, k)
			}
			if !isInt {
				t.Errorf("%s: %s is %v, not a whole number", where, k, v)
			}
		}
		if found {
			if _, dup := out[where]; dup {
				t.Errorf("%s is stated twice", where)
			}
			out[where] = l
		}
		props, _ := s["properties"].(map[string]any)
		for name, p := range props {
			visit(where+"."+name, p)
		}
		visit(where+"[]", s["items"])
		// An object keyed by language: its values and its keys.
		visit(where+"{}", s["additionalProperties"])
		visit(where+"{key}", s["propertyNames"])
		for _, k := range []string{"allOf", "anyOf", "oneOf"} {
			subs, _ := s[k].([]any)
			for _, sub := range subs {
				visit(where, sub)
			}
		}
	}
	components, _ := doc["components"].(map[string]any)
	schemas, _ := components["schemas"].(map[string]any)
	for name, schema := range schemas {
		visit(name, schema)
	}
	params, _ := components["parameters"].(map[string]any)
	for name, p := range params {
		visit("parameters."+name, p.(map[string]any)["schema"])
	}
	paths, _ := doc["paths"].(map[string]any)
	for path, item := range paths {
		for method, op := range item.(map[string]any) {
			o, _ := op.(map[string]any)
			list, _ := o["parameters"].([]any)
			for _, p := range list {
				pm := p.(map[string]any)
				if _, isRef := pm["$ref"]; isRef {
					continue
				}
				visit(fmt.Sprintf("%s %s %s", strings.ToUpper(method), path, pm["name"]), pm["schema"])
			}
			// Inline request bodies would escape the component walk.
			if rb, ok := o["requestBody"].(map[string]any); ok {
				content, _ := rb["content"].(map[string]any)
				for mt, c := range content {
					visit(fmt.Sprintf("%s %s body %s", strings.ToUpper(method), path, mt), c.(map[string]any)["schema"])
				}
			}
		}
	}
	return out
}

// Every bound openapi.yaml states is one the server enforces, with the
// same value, and every bound the server enforces is stated: the two
// cannot drift apart.
func TestOpenAPILimitsMatchTheValidators(t *testing.T) {
	documented := documentLimits(t, rawOpenAPI(t))
	enforced := SchemaLimits()
	if len(enforced) < 40 {
		t.Fatalf("SchemaLimits has only %d entries", len(enforced))
	}
	keys := make([]string, 0, len(documented)+len(enforced))
	for k := range documented {
		keys = append(keys, k)
	}
	for k := range enforced {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range slices.Compact(keys) {
		d, inDoc := documented[k]
		e, inCode := enforced[k]
		switch {
		case !inDoc:
			t.Errorf("%s: the server enforces %s but openapi.yaml states no bound", k, describeLimit(e))
		case !inCode:
			t.Errorf("%s: openapi.yaml states %s but no validator enforces it", k, describeLimit(d))
		case !reflect.DeepEqual(d, e):
			t.Errorf("%s: openapi.yaml states %s, the server enforces %s", k, describeLimit(d), describeLimit(e))
		}
	}
}

func describeLimit(l lifecycle.Limit) string {
	var parts []string
	add := func(name string, n int) {
		if n != 0 {
			parts = append(parts, fmt.Sprintf("%s %d", name, n))
		}
	}
	add("minLength", l.MinLength)
	add("maxLength", l.MaxLength)
	add("minItems", l.MinItems)
	add("maxItems", l.MaxItems)
	if l.Minimum != nil {
		parts = append(parts, fmt.Sprintf("minimum %d", *l.Minimum))
	}
	if l.Maximum != nil {
		parts = append(parts, fmt.Sprintf("maximum %d", *l.Maximum))
	}
	if l.Pattern != "" {
		parts = append(parts, "pattern "+l.Pattern)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// The event types a webhook may filter on are exactly those delivered.
func TestOpenAPINotifiedEventTypesMatchDelivery(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Enum []string `yaml:"enum"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(openapiYAML, &doc); err != nil {
		t.Fatal(err)
	}
	got := slices.Clone(doc.Components.Schemas["NotifiedEventType"].Enum)
	var want []string
	for _, e := range delivery.Events() {
		want = append(want, string(e))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("NotifiedEventType enum = %v, want %v", got, want)
	}
}

// The lists of values the handlers accept are the document's enums.
func TestOpenAPIEnumsMatchTheValidators(t *testing.T) {
	doc := rawOpenAPI(t)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	enumAt := func(path ...string) []string {
		var cur any = schemas
		for _, p := range path {
			m, _ := cur.(map[string]any)
			cur = m[p]
		}
		m, _ := cur.(map[string]any)
		var out []string
		for _, v := range m["enum"].([]any) {
			out = append(out, fmt.Sprint(v))
		}
		slices.Sort(out)
		return out
	}
	queryEnum := func(path, name string) []string {
		op := doc["paths"].(map[string]any)[path].(map[string]any)["get"].(map[string]any)
		for _, p := range op["parameters"].([]any) {
			if pm := p.(map[string]any); pm["name"] == name {
				var out []string
				for _, v := range pm["schema"].(map[string]any)["enum"].([]any) {
					out = append(out, fmt.Sprint(v))
				}
				slices.Sort(out)
				return out
			}
		}
		t.Fatalf("GET %s has no parameter %s", path, name)
		return nil
	}
	sorted := func(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
	for name, c := range map[string]struct{ doc, code []string }{
		"Party.language":                {enumAt("Party", "properties", "language"), languages},
		"PrincipalInput.language":       {enumAt("PrincipalInput", "properties", "language"), languages},
		"Role":                          {enumAt("Role"), roleNames},
		"ActivityStatus":                {enumAt("ActivityStatus"), statuses},
		"Horizon":                       {enumAt("Horizon"), horizons},
		"listDeliveries status":         {queryEnum("/v1/admin/deliveries", "status"), deliveryStatuses},
		"Delivery.status":               {enumAt("Delivery", "properties", "status"), deliveryStatuses},
		"BooleanString (true, false)":   {enumAt("BooleanString"), []string{"true", "false"}},
		"exportActivitiesCSV delimiter": {queryEnum("/v1/activities/export.csv", "delimiter"), slices.Collect(maps.Keys(delimiters))},
	} {
		if !slices.Equal(c.doc, sorted(c.code)) {
			t.Errorf("%s: openapi.yaml allows %v, the server %v", name, c.doc, sorted(c.code))
		}
	}
}

// The admin validators enforce the bounds SchemaLimits reports for them:
// a value at the bound passes, one past it is refused naming the field.
func TestAdminValidatorsEnforceTheirLimits(t *testing.T) {
	long := func(n int) string { return strings.Repeat("é", n) } // two bytes a character
	party := func(edit func(*store.Party)) error {
		p := store.Party{Code: "PA", Name: "Panamá", TimeZone: "America/Panama", Language: "es"}
		edit(&p)
		return ValidateParty(p)
	}
	principal := func(edit func(*store.Principal)) error {
		p := store.Principal{ID: "ana", Party: "PA", Roles: []string{"observer"}, Name: "Ana"}
		edit(&p)
		return ValidatePrincipal(&p)
	}
	dialogue := func(edit func(*store.Dialogue)) error {
		d := store.Dialogue{ID: "hld-pa-us", Name: "PA–US", Parties: []string{"PA", "US"}}
		edit(&d)
		return ValidateDialogue(d)
	}
	token := func(name string) error { return validateTokenRequest(TokenRequest{Principal: "ana", Name: name}) }
	webhook := func(edit func(*WebhookRequest)) error {
		w := WebhookRequest{ID: "hook", URL: "https://receiver.example/x"}
		edit(&w)
		return validateWebhook(w)
	}
	identity := func(issuer, subject string) error {
		return ValidateIdentity(IdentityRequest{Issuer: issuer, Subject: subject})
	}
	url := func(n int) string {
		return "https://receiver.example/" + strings.Repeat("a", n-len("https://receiver.example/"))
	}
	for _, c := range []struct {
		name  string
		err   error
		field string // "" for accepted
	}{
		{"party name at the limit", party(func(p *store.Party) { p.Name = long(maxName) }), ""},
		{"party name too long", party(func(p *store.Party) { p.Name = long(maxName + 1) }), "name"},
		{"party without a name", party(func(p *store.Party) { p.Name = "" }), "name"},
		{"party time zone too long", party(func(p *store.Party) { p.TimeZone = strings.Repeat("A", maxTimeZone+1) }), "time_zone"},
		{"party time zone Local", party(func(p *store.Party) { p.TimeZone = "Local" }), "time_zone"},
		{"party code lower case", party(func(p *store.Party) { p.Code = "pa" }), "code"},
		{"dialogue id with @", dialogue(func(d *store.Dialogue) { d.ID = "pa@us" }), "id"},
		{"dialogue id with :", dialogue(func(d *store.Dialogue) { d.ID = "hld:pa-us" }), ""},
		{"dialogue name too long", dialogue(func(d *store.Dialogue) { d.Name = long(maxName + 1) }), "name"},
		{"dialogue of one party", dialogue(func(d *store.Dialogue) { d.Parties = d.Parties[:1] }), "parties"},
		{"principal id with @", principal(func(p *store.Principal) { p.ID = "ana@pa.example" }), ""},
		{"principal id with :", principal(func(p *store.Principal) { p.ID = "pa:ana" }), "id"},
		{"principal name at the limit", principal(func(p *store.Principal) { p.Name = long(maxName) }), ""},
		{"principal name too long", principal(func(p *store.Principal) { p.Name = long(maxName + 1) }), "name"},
		{"principal email at the limit", principal(func(p *store.Principal) { p.Email = long(maxEmail-len("@x")) + "@x" }), ""},
		{"principal email too long", principal(func(p *store.Principal) { p.Email = long(maxEmail-len("@x")+1) + "@x" }), "email"},
		{"principal email without @", principal(func(p *store.Principal) { p.Email = "ana.pa.example" }), "email"},
		{"principal email with a space", principal(func(p *store.Principal) { p.Email = "ana @pa.example" }), "email"},
		{"token name at the limit", token(long(maxTokenName)), ""},
		{"token name too long", token(long(maxTokenName + 1)), "name"},
		{"token without a principal", validateTokenRequest(TokenRequest{}), "principal"},
		{"webhook url at the limit", webhook(func(w *WebhookRequest) { w.URL = url(maxWebhookURL) }), ""},
		{"webhook url too long", webhook(func(w *WebhookRequest) { w.URL = url(maxWebhookURL + 1) }), "url"},
		{"webhook id with @", webhook(func(w *WebhookRequest) { w.ID = "a@b" }), "id"},
		{"webhook party not a code", webhook(func(w *WebhookRequest) { w.Parties = []string{"pa"} }), "parties"},
		{"identity issuer at the limit", identity(url(maxIssuer), "s"), ""},
		{"identity issuer too long", identity(url(maxIssuer+1), "s"), "issuer"},
		{"identity without an issuer", identity("", "s"), "issuer"},
		{"identity issuer over plain http", identity("http://id.pa.example", "s"), "issuer"},
		{"identity issuer on loopback over http", identity("http://[::1]:5556/dex", "s"), ""},
		{"identity issuer with a fragment", identity("https://id.pa.example#x", "s"), "issuer"},
		{"identity issuer relative", identity("/realms/pa", "s"), "issuer"},
		{"identity subject at the limit", identity("https://id.pa.example", long(maxSubject)), ""},
		{"identity subject too long", identity("https://id.pa.example", long(maxSubject+1)), "subject"},
		{"identity without a subject", identity("https://id.pa.example", ""), "subject"},
		{"identity subject with a NUL", identity("https://id.pa.example", "a\x00b"), "subject"},
		{"webhook on an event never sent", webhook(func(w *WebhookRequest) { w.EventTypes = []string{"progress_reported"} }), "event_types"},
	} {
		if c.field == "" {
			if c.err != nil {
				t.Errorf("%s: refused: %v", c.name, c.err)
			}
			continue
		}
		ae, ok := c.err.(*apiError)
		if !ok || ae.class != probInvalid || ae.field != c.field {
			t.Errorf("%s: got %v, want invalid-input naming %s", c.name, c.err, c.field)
		}
	}
	// The page size is bounded where it is read.
	for v, ok := range map[string]bool{"1": true, "200": true, "0": false, "201": false, "": true} {
		if _, err := limitParam(v); (err == nil) != ok {
			t.Errorf("limit=%q: error %v", v, err)
		}
	}
}
