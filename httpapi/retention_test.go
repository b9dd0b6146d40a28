package httpapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/client"
)

const day = 24 * time.Hour

// TestRetentionHTTP sets a tenant's rules through the Go client and checks
// that restores and the purge follow them (GOV-5, BCK-3).
func TestRetentionHTTP(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	admin, adminKey := s.admin()
	tenant := s.tenant(admin, "Acme")
	_, _, key := s.account(admin, tenant, "dpo", rempart.RoleAdmin, 0)
	c := client.New(s.srv.URL, client.WithAPIKey(key))
	sys := c.WithKey(adminKey)

	got, err := c.Retention(ctx, tenant)
	if err != nil || got.TenantID != tenant || got.DefaultSource != "deployment" || got.Default.RestorableDays != 30 || got.MinDays != 1 || got.MaxDays != 3650 || got.Rules == nil || len(got.Rules) != 0 {
		t.Fatalf("rules at first: got %+v, %v", got, err)
	}
	if r, err := c.SetRetentionRule(ctx, tenant, "calls", rempart.RetentionRuleSet{RestorableDays: 7}); err != nil || r.Collection != "calls" || r.RestorableDays != 7 || r.UpdatedAt == nil {
		t.Fatalf("set rule: got %+v, %v", r, err)
	}
	if _, err := c.SetRetentionDefault(ctx, tenant, rempart.RetentionRuleSet{RestorableDays: 90, MaxAgeDays: 365}); err != nil {
		t.Fatal(err)
	}
	call, err := c.CreateRecord(ctx, tenant, "calls", map[string]int{"n": 1}, "")
	if err != nil {
		t.Fatal(err)
	}
	note, err := c.CreateRecord(ctx, tenant, "notes", map[string]int{"n": 2}, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []rempart.Record{call, note} {
		if err := c.DeleteRecord(ctx, tenant, r.Collection, r.ID, 0); err != nil {
			t.Fatal(err)
		}
	}
	s.clock.Advance(6 * day)
	if _, err := c.RestoreRecord(ctx, tenant, "calls", call.ID); err != nil {
		t.Fatalf("restore inside the 7-day rule: %v", err)
	}
	if err := c.DeleteRecord(ctx, tenant, "calls", call.ID, 0); err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(7 * day)
	var ce *client.Error
	if _, err := c.RestoreRecord(ctx, tenant, "calls", call.ID); !errors.As(err, &ce) || ce.Problem.Status != 404 || !strings.Contains(ce.Problem.Detail, "7 days") {
		t.Fatalf("restore after the 7-day rule: got %v, want a 404 naming the rule", err)
	}
	if n, err := s.vault.Purge(ctx, 100); err != nil || n != 1 {
		t.Fatalf("purge: got %d, %v; want 1", n, err)
	}
	if _, err := c.RestoreRecord(ctx, tenant, "notes", note.ID); err != nil {
		t.Fatalf("restore under the 90-day default: %v", err)
	}

	// A system administrator reads and changes any tenant's rules.
	if got, err := sys.Retention(ctx, tenant); err != nil || got.DefaultSource != "tenant" || got.Default.MaxAgeDays != 365 || len(got.Rules) != 1 {
		t.Fatalf("rules read by the system admin: got %+v, %v", got, err)
	}
	if err := sys.DeleteRetentionRule(ctx, tenant, "calls"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteRetentionDefault(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteRetentionDefault(ctx, tenant); !errors.As(err, &ce) || ce.Problem.Status != 404 {
		t.Fatalf("delete a default that is gone: got %v, want 404", err)
	}
	entries, err := s.db.AuditLog(ctx, audit.Query{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, en := range entries {
		if strings.HasPrefix(en.Action, "retention.") && en.Outcome == rempart.OutcomeSuccess {
			if en.TenantID != tenant || en.CredentialID == "" || en.RequestID == "" {
				t.Errorf("entry without tenant, credential or request: %+v", en)
			}
			count[en.Action]++
		}
	}
	if count["retention.read"] != 2 || count["retention.set"] != 2 || count["retention.delete"] != 2 {
		t.Errorf("audited rule reads and changes: got %v, want 2 of each", count)
	}
}

// TestRetentionHTTPBadInput sends malformed and out-of-range rules: each is a
// 400 (or 415) problem document that says what is wrong, and is audited as a
// failure; nothing is stored. A caller who may not set rules is refused
// before the body is read.
func TestRetentionHTTPBadInput(t *testing.T) {
	s := newStack(t)
	admin, _ := s.admin()
	tenant := s.tenant(admin, "Acme")
	_, _, key := s.account(admin, tenant, "dpo", rempart.RoleAdmin, 0)
	_, _, readerKey := s.account(admin, tenant, "reader", rempart.RoleReader, 0)
	base := s.srv.URL + "/api/v1/tenants/" + tenant + "/retention"
	cases := []struct {
		name, path, ctype, body string
		status                  int
		detail                  string
	}{
		{"no restorable_days", "/calls", "application/json", `{}`, 400, "restorable_days is required"},
		{"zero days", "/calls", "application/json", `{"restorable_days":0}`, 400, "between 1 and 3650"},
		{"over the ceiling", "/calls", "application/json", `{"restorable_days":3651}`, 400, "between 1 and 3650"},
		{"negative max age", "/calls", "application/json", `{"restorable_days":7,"max_age_days":-1}`, 400, "max_age_days"},
		{"max age over the ceiling", "", "application/json", `{"restorable_days":7,"max_age_days":99999}`, 400, "max_age_days"},
		{"a string", "/calls", "application/json", `{"restorable_days":"7"}`, 400, "must be of type int"},
		{"a fraction", "/calls", "application/json", `{"restorable_days":7.5}`, 400, "must be of type int"},
		{"unknown field", "/calls", "application/json", `{"restorable_days":7,"keep_forever":true}`, 400, "Unknown field"},
		{"not JSON", "/calls", "application/json", `{"restorable_days":7`, 400, "not valid JSON"},
		{"empty body", "", "application/json", ``, 400, "empty"},
		{"two objects", "/calls", "application/json", `{"restorable_days":7}{}`, 400, "after the JSON object"},
		{"bad collection", "/Calls", "application/json", `{"restorable_days":7}`, 400, "Collection names"},
		{"wrong media type", "/calls", "text/plain", `{"restorable_days":7}`, 415, "application/json"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before, _, err := s.db.AuditTree(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			resp, body := send(t, "PUT", base+c.path, key, c.ctype, c.body)
			if resp.StatusCode != c.status {
				t.Fatalf("got %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			code := problemCode(t, resp, body)
			if want := map[int]string{400: rempart.EINVALID, 415: rempart.EUNSUPPORTED}[c.status]; code != want {
				t.Errorf("code: got %s, want %s", code, want)
			}
			if !strings.Contains(string(body), c.detail) {
				t.Errorf("detail: got %s, want it to say %q", body, c.detail)
			}
			checkAudited(t, s, before, resp.Header.Get("X-Request-Id"), resp.StatusCode, true)
		})
	}
	resp, body := send(t, "PUT", base+"/calls", readerKey, "application/json", `{"restorable_days":`)
	if resp.StatusCode != 403 {
		t.Fatalf("reader with a malformed body: got %d %s, want 403", resp.StatusCode, body)
	}
	resp, body = send(t, "GET", base, key, "", "")
	if resp.StatusCode != 200 || strings.Contains(string(body), `"collection"`) || !strings.Contains(string(body), `"default_source":"deployment"`) {
		t.Fatalf("rules after the refusals: got %d %s, want none stored", resp.StatusCode, body)
	}
}

// send makes one request with an API key and returns the answer, read.
func send(t *testing.T, method, url, key, ctype, body string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}
