package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rempart/rempart"
	"github.com/rempart/rempart/httpapi"
)

// openAPIDoc fetches the OpenAPI document the server serves.
func openAPIDoc(t *testing.T, s *stack) map[string]any {
	t.Helper()
	resp, err := http.Get(s.srv.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET openapi.json: got %d %q, want 200 application/json", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	b, _ := io.ReadAll(resp.Body)
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi: got %v, want 3.1.0", doc["openapi"])
	}
	return doc
}

var httpMethods = []string{"get", "put", "post", "delete", "patch", "head", "options"}

// TestOpenAPIMatchesRoutes checks that every route the server registers is
// documented and every documented operation is a route.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	s := newStack(t)
	doc := openAPIDoc(t, s)
	var documented []string
	for path, item := range doc["paths"].(map[string]any) {
		for m := range item.(map[string]any) {
			if slices.Contains(httpMethods, m) {
				documented = append(documented, strings.ToUpper(m)+" /api/v1"+path)
			}
		}
	}
	var served []string
	for _, p := range s.api.Patterns() {
		if strings.Contains(p, " ") { // the catch-all "/api/" has no method
			served = append(served, p)
		}
	}
	sort.Strings(documented)
	sort.Strings(served)
	if diff := cmp.Diff(served, documented); diff != "" {
		t.Errorf("routes (-served +documented):\n%s", diff)
	}
}

// TestOpenAPIWellFormed checks what a client generator relies on: unique
// operation IDs, every path parameter declared, every $ref resolvable, and
// an error answer documented as a problem document.
func TestOpenAPIWellFormed(t *testing.T) {
	doc := openAPIDoc(t, newStack(t))
	refs := map[string]bool{}
	collectRefs(doc, refs)
	for ref := range refs {
		if resolve(doc, ref) == nil {
			t.Errorf("$ref %s does not resolve", ref)
		}
	}
	ids := map[string]string{}
	paramRE := regexp.MustCompile(`\{([a-z]+)\}`)
	for path, item := range doc["paths"].(map[string]any) {
		for m, op := range item.(map[string]any) {
			if !slices.Contains(httpMethods, m) {
				continue
			}
			where := strings.ToUpper(m) + " " + path
			o := op.(map[string]any)
			id, _ := o["operationId"].(string)
			if id == "" {
				t.Errorf("%s: no operationId", where)
			} else if prev, dup := ids[id]; dup {
				t.Errorf("operationId %s used by %s and %s", id, prev, where)
			}
			ids[id] = where
			declared := map[string]bool{}
			params, _ := o["parameters"].([]any)
			for _, p := range params {
				pm := p.(map[string]any)
				if ref, ok := pm["$ref"].(string); ok {
					pm, _ = resolve(doc, ref).(map[string]any)
				}
				if pm != nil && pm["in"] == "path" {
					declared[pm["name"].(string)] = true
				}
			}
			for _, m := range paramRE.FindAllStringSubmatch(path, -1) {
				if !declared[m[1]] {
					t.Errorf("%s: path parameter %s not declared", where, m[1])
				}
			}
			responses, _ := o["responses"].(map[string]any)
			if len(responses) == 0 {
				t.Errorf("%s: no responses", where)
			}
			for status, r := range responses {
				rm := r.(map[string]any)
				if ref, ok := rm["$ref"].(string); ok {
					rm = resolve(doc, ref).(map[string]any)
				}
				if status >= "400" {
					content, _ := rm["content"].(map[string]any)
					if _, ok := content["application/problem+json"]; !ok {
						t.Errorf("%s %s: error answer is not documented as application/problem+json", where, status)
					}
				}
			}
		}
	}
}

// TestOpenAPISchemasMatchTypes checks each documented schema against the Go
// type the server encodes: the same JSON fields, and a field is required
// exactly when it is always present (no omitempty).
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	doc := openAPIDoc(t, newStack(t))
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	types := map[string]any{
		"Problem":              httpapi.Problem{},
		"Tenant":               rempart.Tenant{},
		"TenantCreate":         rempart.TenantCreate{},
		"ServiceAccount":       rempart.ServiceAccount{},
		"ServiceAccountCreate": rempart.ServiceAccountCreate{},
		"APIKey":               rempart.APIKey{},
		"APIKeyCreate":         rempart.APIKeyCreate{},
		"APIKeyCreated":        rempart.APIKeyCreated{},
		"Record":               rempart.Record{},
		"RecordList":           rempart.RecordList{},
		"Attachment":           rempart.Attachment{},
		"AttachmentList":       rempart.AttachmentList{},
		"CollectionList":       rempart.CollectionList{},
		"AuditEntry":           rempart.AuditEntry{},
		"AuditList":            rempart.AuditList{},
		"Checkpoint":           rempart.Checkpoint{},
		"Proof":                rempart.Proof{},
		"Bootstrapped":         rempart.Bootstrapped{},
		"Job":                  rempart.Job{},
		"JobList":              rempart.JobList{},
		"Backup":               rempart.Backup{},
		"BackupList":           rempart.BackupList{},
		"RestoreTest":          rempart.RestoreTest{},
		"RestoreTestList":      rempart.RestoreTestList{},
		"KeyInventory":         rempart.KeyInventory{},
		"RootKeyVersion":       rempart.RootKeyVersion{},
		"TenantKeys":           rempart.TenantKeys{},
		"KEKInfo":              rempart.KEKInfo{},
		"DataKeyInfo":          rempart.DataKeyInfo{},
		"CustomerKeySet":       rempart.CustomerKeySet{},
		"RetentionRule":        rempart.RetentionRule{},
		"RetentionRuleSet":     rempart.RetentionRuleSet{},
		"Retention":            rempart.Retention{},
		"User":                 rempart.User{},
		"UserList":             rempart.UserList{},
		"Invitation":           rempart.Invitation{},
		"SSOProvider":          rempart.SSOProvider{},
		"SSOProviderInput":     rempart.SSOProviderInput{},
		"SSOProviderList":      rempart.SSOProviderList{},
		"InvitationCreate":     rempart.InvitationCreate{},
		"RevocationRequest":    rempart.RevocationRequest{},
		"TenantPasswordPolicy": rempart.TenantPasswordPolicy{},
		"PasswordPolicyInfo":   rempart.PasswordPolicyInfo{},
		"Revocation":           rempart.Revocation{},
		"InvitationList":       rempart.InvitationList{},
		"InvitationCreated":    rempart.InvitationCreated{},
		"InvitationAccept":     rempart.InvitationAccept{},
		"SignIn":               rempart.SignIn{},
		"Session":              rempart.Session{},
		"SessionCreated":       rempart.SessionCreated{},
		"SessionList":          rempart.SessionList{},
		"PasswordChange":       rempart.PasswordChange{},
		"GrantCreate":          rempart.GrantCreate{},
		"Grant":                rempart.Grant{},
		"GrantList":            rempart.GrantList{},
		"GrantDetail":          rempart.GrantDetail{},
		"GrantSettings":        rempart.GrantSettings{},
		"RoleChangeCreate":     rempart.RoleChangeCreate{},
		"RoleChangeDecision":   rempart.RoleChangeDecision{},
		"RoleChange":           rempart.RoleChange{},
		"RoleChangeList":       rempart.RoleChangeList{},
		"CampaignCreate":       rempart.CampaignCreate{},
		"Campaign":             rempart.Campaign{},
		"CampaignList":         rempart.CampaignList{},
		"CampaignDetail":       rempart.CampaignDetail{},
		"ReviewItem":           rempart.ReviewItem{},
		"ReviewDecision":       rempart.ReviewDecision{},
		"ReviewDecided":        rempart.ReviewDecided{},
		"Factor":               rempart.Factor{},
		"FactorList":           rempart.FactorList{},
		"TOTPStart":            rempart.TOTPStart{},
		"TOTPEnrolment":        rempart.TOTPEnrolment{},
		"MFACode":              rempart.MFACode{},
		"FactorConfirmed":      rempart.FactorConfirmed{},
		"RecoveryCodes":        rempart.RecoveryCodes{},
		"MFAPolicy":            rempart.MFAPolicy{},
		"MFAChallenge":         rempart.MFAChallenge{},
		"SignInChallenge":      rempart.SignInChallenge{},
		"SignInCode":           rempart.SignInCode{},
		"WebAuthnStart":        rempart.WebAuthnStart{},
		"WebAuthnOptions":      rempart.WebAuthnOptions{},
		"WebAuthnAnswer":       rempart.WebAuthnAnswer{},
		"SignInWebAuthn":       rempart.SignInWebAuthn{},
	}
	for name, v := range types {
		s, ok := schemas[name].(map[string]any)
		if !ok {
			t.Errorf("schema %s is not documented", name)
			continue
		}
		props, required := schemaFields(doc, s)
		wantProps, wantRequired := jsonFields(reflect.TypeOf(v))
		if diff := cmp.Diff(wantProps, props); diff != "" {
			t.Errorf("schema %s properties (-Go +documented):\n%s", name, diff)
		}
		if diff := cmp.Diff(wantRequired, required); diff != "" {
			t.Errorf("schema %s required (-Go +documented):\n%s", name, diff)
		}
	}
}

// schemaFields returns the sorted property names and required names of an
// object schema, following allOf.
func schemaFields(doc map[string]any, s map[string]any) (props, required []string) {
	if ref, ok := s["$ref"].(string); ok {
		s = resolve(doc, ref).(map[string]any)
	}
	for _, part := range asSlice(s["allOf"]) {
		p, r := schemaFields(doc, part.(map[string]any))
		props, required = append(props, p...), append(required, r...)
	}
	for p := range asMap(s["properties"]) {
		props = append(props, p)
	}
	for _, r := range asSlice(s["required"]) {
		required = append(required, r.(string))
	}
	sort.Strings(props)
	sort.Strings(required)
	return props, required
}

// jsonFields returns the JSON names of a struct's fields (embedded structs
// flattened) and those without omitempty; the fields of an embedded pointer
// are all optional, absent when it is nil.
func jsonFields(t reflect.Type) (names, always []string) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			if f.Type.Kind() == reflect.Pointer {
				n, _ := jsonFields(f.Type.Elem())
				names = append(names, n...)
				continue
			}
			n, a := jsonFields(f.Type)
			names, always = append(names, n...), append(always, a...)
			continue
		}
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
		if !strings.Contains(opts, "omitempty") {
			always = append(always, name)
		}
	}
	sort.Strings(names)
	sort.Strings(always)
	return names, always
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func collectRefs(v any, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if s, ok := c.(string); ok && k == "$ref" {
				out[s] = true
			}
			collectRefs(c, out)
		}
	case []any:
		for _, c := range x {
			collectRefs(c, out)
		}
	}
}

// resolve follows a local JSON pointer like #/components/schemas/Tenant.
func resolve(doc map[string]any, ref string) any {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	var cur any = doc
	for _, part := range strings.Split(p, "/") {
		part = strings.NewReplacer("~1", "/", "~0", "~").Replace(part)
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		if cur, ok = m[part]; !ok {
			return nil
		}
	}
	return cur
}
