package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/vault"
)

// world is the cast of the isolation scenarios (TEN-1): tenant A with one
// principal per role plus a revoked and an expired key, tenant B next door,
// tenant S suspended, and the system administrator.
type world struct {
	*stack
	a, b, sus string // tenant IDs
	saA, keyA string // an account of A and one of its keys
	recA      string // a record of A
	attA      string // an attachment of recA
	secrets   map[string]string
	marker    string // a string only tenant A's record holds
}

func newWorld(t *testing.T) *world {
	s := newStack(t)
	admin, adminKey := s.admin()
	w := &world{stack: s, secrets: map[string]string{"sysadmin": adminKey}, marker: "MARKER-" + rempart.RandomSecret(8)}
	w.a, w.b, w.sus = s.tenant(admin, "Tenant A"), s.tenant(admin, "Tenant B"), s.tenant(admin, "Tenant S")
	_, _, w.secrets["adminA"] = s.account(admin, w.a, "admin-a", rempart.RoleAdmin, 0)
	_, _, w.secrets["writerA"] = s.account(admin, w.a, "writer-a", rempart.RoleWriter, 0)
	_, _, w.secrets["readerA"] = s.account(admin, w.a, "reader-a", rempart.RoleReader, 0)
	_, _, w.secrets["expiredA"] = s.account(admin, w.a, "expiring-a", rempart.RoleAdmin, 1)
	var revokedSA, revokedKey string
	revokedSA, revokedKey, w.secrets["revokedA"] = s.account(admin, w.a, "revoked-a", rempart.RoleAdmin, 0)
	w.saA, w.keyA, _ = s.account(admin, w.a, "victim-a", rempart.RoleReader, 0)
	_, _, w.secrets["writerB"] = s.account(admin, w.b, "writer-b", rempart.RoleAdmin, 0)
	_, _, w.secrets["adminS"] = s.account(admin, w.sus, "admin-s", rempart.RoleAdmin, 0)
	ctx := context.Background()
	if err := s.identity.RevokeAPIKey(ctx, admin, w.a, revokedSA, revokedKey); err != nil {
		t.Fatal(err)
	}
	writer, err := s.identity.Authenticate(ctx, rempart.Caller{}, w.secrets["writerA"])
	if err != nil {
		t.Fatal(err)
	}
	rec, _, err := s.vault.CreateRecord(ctx, writer, w.a, "calls", []byte(`{"note":"`+w.marker+`"}`), "")
	if err != nil {
		t.Fatal(err)
	}
	w.recA = rec.ID
	att, err := s.vault.UploadAttachment(ctx, writer, w.a, "calls", rec.ID, vault.Upload{Filename: "call.txt", ContentType: "text/plain", Size: -1}, strings.NewReader("transcript: "+w.marker))
	if err != nil {
		t.Fatal(err)
	}
	w.attA = att.ID
	adminA, err := s.identity.Authenticate(ctx, rempart.Caller{}, w.secrets["adminA"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.vault.SetRetentionRule(ctx, adminA, w.a, "calls", vault.RuleBody(rempart.RetentionRuleSet{RestorableDays: 7})); err != nil {
		t.Fatal(err)
	}
	if _, err := s.vault.SetRetentionDefault(ctx, adminA, w.a, vault.RuleBody(rempart.RetentionRuleSet{RestorableDays: 90})); err != nil {
		t.Fatal(err)
	}
	if _, err := s.vault.SetTenantStatus(ctx, admin, w.sus, rempart.TenantSuspended); err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(36 * time.Hour) // the 1-day key is now expired
	return w
}

// route classes: what a route needs.
const (
	cRead     = "records read"
	cWrite    = "records write"
	cAccounts = "accounts"
	cTenant   = "tenant read"
	cAudit    = "tenant audit"
	cSystem   = "system"
	cManage   = "tenant management" // system-only, on one tenant
	cLog      = "whole log"
	cKeys     = "tenant keys"
	cProof    = "proof"
	cRetain   = "retention rules"
	cStaff    = "staff people"
	cPerson   = "own account"   // a person's own: an API key is not one (404)
	cGrants   = "staff grants"  // approve, deny, revoke, see every grant (IAM-7)
	cGrantAsk = "grant request" // support and engineers only: no principal of the world
	cTGrants  = "tenant grants" // a tenant's grants and the access under them
)

type route struct {
	method, path, body, ctype string
	class                     string
	ok                        int // status when allowed
}

// routes lists every authenticated route, with {T} for the tenant of the
// scenario, {R} for a record of tenant A and {A} for an attachment of it.
func (w *world) routes() []route {
	rec := "/api/v1/tenants/{T}/collections/calls/records"
	att := rec + "/{R}/attachments"
	sa := "/api/v1/tenants/{T}/service-accounts/" + w.saA
	return []route{
		{"GET", "/api/v1/tenants", "", "", cSystem, 200},
		{"POST", "/api/v1/tenants", `{"name":"New Co {N}"}`, "application/json", cSystem, 201},
		{"GET", "/api/v1/tenants/{T}", "", "", cTenant, 200},
		{"POST", "/api/v1/tenants/{T}/suspend", "", "", cManage, 200},
		{"POST", "/api/v1/tenants/{T}/resume", "", "", cManage, 200},
		{"DELETE", "/api/v1/tenants/{T}", "", "", cManage, 204},
		{"GET", "/api/v1/tenants/{T}/service-accounts", "", "", cAccounts, 200},
		{"POST", "/api/v1/tenants/{T}/service-accounts", `{"name":"new-{N}","role":"reader"}`, "application/json", cAccounts, 201},
		{"DELETE", sa, "", "", cAccounts, 204},
		{"GET", sa + "/keys", "", "", cAccounts, 200},
		{"POST", sa + "/keys", `{"expires_in_days":7}`, "application/json", cAccounts, 201},
		{"DELETE", sa + "/keys/" + w.keyA, "", "", cAccounts, 204},
		{"GET", "/api/v1/tenants/{T}/collections", "", "", cRead, 200},
		{"GET", rec, "", "", cRead, 200},
		{"POST", rec, `{"x":1}`, "application/json", cWrite, 201},
		{"GET", rec + "/{R}", "", "", cRead, 200},
		{"PUT", rec + "/{R}", `{"x":2}`, "application/json", cWrite, 200},
		{"PATCH", rec + "/{R}", `{"x":3}`, "application/merge-patch+json", cWrite, 200},
		{"DELETE", rec + "/{R}", "", "", cWrite, 204},
		{"POST", rec + "/{R}/restore", "", "", cWrite, 409},
		{"GET", att, "", "", cRead, 200},
		{"POST", att + "?filename=new.txt", "new file", "text/plain", cWrite, 201},
		{"GET", att + "/{A}", "", "", cRead, 200},
		{"DELETE", att + "/{A}", "", "", cWrite, 204},
		{"POST", att + "/{A}/restore", "", "", cWrite, 409},
		{"GET", "/api/v1/tenants/{T}/audit", "", "", cAudit, 200},
		{"GET", "/api/v1/audit/entries", "", "", cLog, 200},
		{"GET", "/api/v1/audit/checkpoint", "", "", cProof, 200},
		{"GET", "/api/v1/audit/proofs/inclusion?index=0&size=1", "", "", cProof, 200},
		{"GET", "/api/v1/audit/proofs/consistency?from=1&to=2", "", "", cProof, 200},
		{"GET", "/api/v1/audit/export", "", "", cLog, 200},
		{"GET", "/api/v1/backups", "", "", cSystem, 200},
		{"POST", "/api/v1/backups", "", "", cSystem, 202},
		{"POST", "/api/v1/backups/bk_0000000000/verify", "", "", cSystem, 404},
		{"GET", "/api/v1/restore-tests", "", "", cSystem, 200},
		{"POST", "/api/v1/restore-tests", "", "", cSystem, 202},
		{"GET", "/api/v1/keys", "", "", cSystem, 200},
		{"POST", "/api/v1/keys/root/rotate", "", "", cSystem, 202},
		{"GET", "/api/v1/tenants/{T}/keys", "", "", cKeys, 200},
		{"POST", "/api/v1/tenants/{T}/keys/rotate", "", "", cKeys, 202},
		{"PUT", "/api/v1/tenants/{T}/keys/customer", `{"uri":"awskms://alias/acme"}`, "application/json", cKeys, 400},
		{"DELETE", "/api/v1/tenants/{T}/keys/customer", "", "", cKeys, 404},
		{"GET", "/api/v1/tenants/{T}/retention", "", "", cRetain, 200},
		{"PUT", "/api/v1/tenants/{T}/retention", `{"restorable_days":30,"max_age_days":365}`, "application/json", cRetain, 200},
		{"DELETE", "/api/v1/tenants/{T}/retention", "", "", cRetain, 204},
		{"PUT", "/api/v1/tenants/{T}/retention/calls", `{"restorable_days":14}`, "application/json", cRetain, 200},
		{"DELETE", "/api/v1/tenants/{T}/retention/calls", "", "", cRetain, 204},
		{"GET", "/api/v1/jobs", "", "", cSystem, 200},
		{"GET", "/api/v1/jobs/job_0000000000", "", "", cSystem, 404},
		{"GET", "/api/v1/tenants/{T}/invitations", "", "", cAccounts, 200},
		{"POST", "/api/v1/tenants/{T}/invitations", `{"email":"p-{N}@example.com","role":"reader"}`, "application/json", cAccounts, 201},
		{"DELETE", "/api/v1/tenants/{T}/invitations/inv_0000000000", "", "", cAccounts, 404},
		{"POST", "/api/v1/tenants/{T}/invitations/inv_0000000000/approve", "", "", cAccounts, 404},
		{"POST", "/api/v1/tenants/{T}/invitations/inv_0000000000/reject", "", "", cAccounts, 404},
		{"GET", "/api/v1/tenants/{T}/users", "", "", cAccounts, 200},
		{"POST", "/api/v1/tenants/{T}/users/usr_0000000000/suspend", "", "", cAccounts, 404},
		{"GET", "/api/v1/tenants/{T}/password-policy", "", "", cAccounts, 200},
		{"PUT", "/api/v1/tenants/{T}/password-policy", `{"max_age_days":0}`, "application/json", cAccounts, 200},
		{"POST", "/api/v1/tenants/{T}/users/usr_0000000000/revoke-access", `{"kind":"offboard","reason":"left the company"}`, "application/json", cAccounts, 404},
		{"POST", "/api/v1/tenants/{T}/users/usr_0000000000/reactivate", "", "", cAccounts, 404},
		{"GET", "/api/v1/tenants/{T}/sso/providers", "", "", cAccounts, 200},
		{"POST", "/api/v1/tenants/{T}/sso/providers", `{"name":"Okta","issuer":"https://login.example.com","client_id":"c","client_secret":"s","email_domains":["example.com"],"default_role":"reader","enabled":true}`, "application/json", cAccounts, 400},
		{"GET", "/api/v1/tenants/{T}/sso/providers/sso_0000000000", "", "", cAccounts, 404},
		{"PUT", "/api/v1/tenants/{T}/sso/providers/sso_0000000000", `{"name":"Okta","issuer":"https://login.example.com","client_id":"c","client_secret":"s","email_domains":["example.com"],"default_role":"reader","enabled":true}`, "application/json", cAccounts, 404},
		{"DELETE", "/api/v1/tenants/{T}/sso/providers/sso_0000000000", "", "", cAccounts, 404},
		{"GET", "/api/v1/staff/sso/providers", "", "", cStaff, 200},
		{"POST", "/api/v1/staff/sso/providers", `{"name":"Okta","issuer":"https://login.example.com","client_id":"c","client_secret":"s","email_domains":["example.com"],"default_role":"auditor","enabled":true}`, "application/json", cStaff, 400},
		{"GET", "/api/v1/staff/sso/providers/sso_0000000000", "", "", cStaff, 404},
		{"PUT", "/api/v1/staff/sso/providers/sso_0000000000", `{"name":"Okta","issuer":"https://login.example.com","client_id":"c","client_secret":"s","email_domains":["example.com"],"default_role":"auditor","enabled":true}`, "application/json", cStaff, 404},
		{"DELETE", "/api/v1/staff/sso/providers/sso_0000000000", "", "", cStaff, 404},
		{"GET", "/api/v1/staff/invitations", "", "", cStaff, 200},
		{"POST", "/api/v1/staff/invitations", `{"email":"s-{N}@example.com","role":"auditor"}`, "application/json", cStaff, 201},
		{"DELETE", "/api/v1/staff/invitations/inv_0000000000", "", "", cStaff, 404},
		{"POST", "/api/v1/staff/invitations/inv_0000000000/approve", "", "", cStaff, 404},
		{"POST", "/api/v1/staff/invitations/inv_0000000000/reject", "", "", cStaff, 404},
		{"GET", "/api/v1/staff/users", "", "", cStaff, 200},
		{"POST", "/api/v1/staff/users/usr_0000000000/suspend", "", "", cStaff, 404},
		{"POST", "/api/v1/staff/users/usr_0000000000/revoke-access", `{"kind":"compromise","reason":"phished on 2026-11-20"}`, "application/json", cStaff, 404},
		{"POST", "/api/v1/staff/users/usr_0000000000/reactivate", "", "", cStaff, 404},
		{"GET", "/api/v1/grants", "", "", cGrants, 200},
		{"POST", "/api/v1/grants", `{"tenant_id":"ten_x","reason":"ticket 1234: check","scope":"read","duration_minutes":60}`, "application/json", cGrantAsk, 201},
		{"GET", "/api/v1/grants/grt_0000000000", "", "", cGrants, 404},
		{"POST", "/api/v1/grants/grt_0000000000/approve", "", "", cGrants, 404},
		{"POST", "/api/v1/grants/grt_0000000000/deny", "", "", cGrants, 404},
		{"POST", "/api/v1/grants/grt_0000000000/revoke", "", "", cGrants, 404},
		{"GET", "/api/v1/tenants/{T}/grants", "", "", cTGrants, 200},
		{"GET", "/api/v1/tenants/{T}/grants/grt_0000000000", "", "", cTGrants, 404},
		{"POST", "/api/v1/tenants/{T}/grants/grt_0000000000/approve", "", "", cTGrants, 404},
		{"POST", "/api/v1/tenants/{T}/grants/grt_0000000000/deny", "", "", cTGrants, 404},
		{"POST", "/api/v1/tenants/{T}/grants/grt_0000000000/revoke", "", "", cTGrants, 404},
		{"GET", "/api/v1/tenants/{T}/grant-settings", "", "", cTGrants, 200},
		{"PUT", "/api/v1/tenants/{T}/grant-settings", `{"require_approval":true}`, "application/json", cTGrants, 200},
		{"GET", "/api/v1/tenants/{T}/role-changes", "", "", cAccounts, 200},
		{"POST", "/api/v1/tenants/{T}/role-changes", `{"principal_id":"usr_0000000000","role":"reader","reason":"r"}`, "application/json", cAccounts, 404},
		{"POST", "/api/v1/tenants/{T}/role-changes/rch_0000000000/approve", "", "", cAccounts, 404},
		{"POST", "/api/v1/tenants/{T}/role-changes/rch_0000000000/reject", "", "", cAccounts, 404},
		{"GET", "/api/v1/tenants/{T}/access-reviews", "", "", cAccounts, 200},
		{"POST", "/api/v1/tenants/{T}/access-reviews", `{"due_in_days":7}`, "application/json", cAccounts, 201},
		{"GET", "/api/v1/tenants/{T}/access-reviews/arc_0000000000", "", "", cAccounts, 404},
		{"POST", "/api/v1/tenants/{T}/access-reviews/arc_0000000000/items/usr_0000000000", `{"decision":"keep"}`, "application/json", cAccounts, 404},
		{"GET", "/api/v1/tenants/{T}/access-reviews/arc_0000000000/export?format=json", "", "", cAccounts, 404},
		{"GET", "/api/v1/staff/role-changes", "", "", cStaff, 200},
		{"POST", "/api/v1/staff/role-changes", `{"principal_id":"usr_0000000000","role":"auditor","reason":"r"}`, "application/json", cStaff, 404},
		{"POST", "/api/v1/staff/role-changes/rch_0000000000/approve", "", "", cStaff, 404},
		{"POST", "/api/v1/staff/role-changes/rch_0000000000/reject", "", "", cStaff, 404},
		{"GET", "/api/v1/staff/access-reviews", "", "", cStaff, 200},
		{"POST", "/api/v1/staff/access-reviews", `{"due_in_days":7}`, "application/json", cStaff, 201},
		{"GET", "/api/v1/staff/access-reviews/arc_0000000000", "", "", cStaff, 404},
		{"POST", "/api/v1/staff/access-reviews/arc_0000000000/items/usr_0000000000", `{"decision":"keep"}`, "application/json", cStaff, 404},
		{"GET", "/api/v1/staff/access-reviews/arc_0000000000/export?format=json", "", "", cStaff, 404},
		{"GET", "/api/v1/me", "", "", cPerson, 404},
		{"GET", "/api/v1/me/sessions", "", "", cPerson, 404},
		{"DELETE", "/api/v1/me/sessions/ses_0000000000", "", "", cPerson, 404},
		{"GET", "/api/v1/me/api-keys", "", "", cPerson, 404},
		{"POST", "/api/v1/me/api-keys", `{"name":"deploy","expires_in_days":7}`, "application/json", cPerson, 404},
		{"DELETE", "/api/v1/me/api-keys/pak_0000000000", "", "", cPerson, 404},
		{"GET", "/api/v1/me/factors", "", "", cPerson, 404},
		{"POST", "/api/v1/me/factors/totp", `{"name":"phone"}`, "application/json", cPerson, 404},
		{"POST", "/api/v1/me/factors/mfa_0000000000/confirm", `{"code":"123456"}`, "application/json", cPerson, 404},
		{"DELETE", "/api/v1/me/factors/mfa_0000000000", "", "", cPerson, 404},
		{"POST", "/api/v1/me/recovery-codes", "", "", cPerson, 404},
		{"POST", "/api/v1/mfa/verify", `{"code":"123456"}`, "application/json", cPerson, 404},
		{"POST", "/api/v1/me/factors/webauthn", `{"name":"blue key"}`, "application/json", cPerson, 404},
		{"POST", "/api/v1/me/factors/webauthn/finish", `{"state":"x","credential":{}}`, "application/json", cPerson, 404},
		{"POST", "/api/v1/mfa/webauthn/options", "", "", cPerson, 404},
		{"POST", "/api/v1/mfa/webauthn", `{"state":"x","credential":{}}`, "application/json", cPerson, 404},
		{"GET", "/api/v1/tenants/{T}/mfa-policy", "", "", cAccounts, 200},
		{"PUT", "/api/v1/tenants/{T}/mfa-policy", `{"required":false}`, "application/json", cAccounts, 200},
	}
}

// principal is one actor of the scenarios: which key, which tenant its
// tenant-bound requests name, and the expected status per route class.
type principal struct {
	name, secret, tenant string
	want                 func(class string, ok int) int
}

func allow(classes ...string) func(string, int) int {
	return func(class string, ok int) int {
		if class == cPerson {
			return ok // whoever the key's account, it is not a person's
		}
		for _, c := range classes {
			if c == class {
				return ok
			}
		}
		return http.StatusForbidden
	}
}

func (w *world) principals() []principal {
	tenantBound := func(class string) bool {
		return class != cSystem && class != cLog && class != cProof && class != cStaff && class != cPerson && class != cGrants && class != cGrantAsk
	}
	return []principal{
		{"same tenant, admin", w.secrets["adminA"], w.a, allow(cRead, cWrite, cAccounts, cTenant, cAudit, cKeys, cProof, cRetain, cTGrants)},
		{"same tenant, writer", w.secrets["writerA"], w.a, allow(cRead, cWrite, cTenant, cProof)},
		{"wrong role: reader writes", w.secrets["readerA"], w.a, allow(cRead, cTenant, cProof)},
		{"system admin: no record access", w.secrets["sysadmin"], w.a, allow(cSystem, cManage, cLog, cAccounts, cTenant, cAudit, cKeys, cProof, cRetain, cStaff, cGrants)},
		{"other tenant", w.secrets["writerB"], w.a, func(class string, ok int) int {
			if class == cProof || class == cPerson {
				return ok
			}
			if tenantBound(class) {
				return http.StatusNotFound
			}
			return http.StatusForbidden
		}},
		{"suspended tenant", w.secrets["adminS"], w.sus, func(class string, ok int) int {
			if class == cProof || class == cPerson {
				return ok
			}
			return http.StatusForbidden
		}},
		{"revoked key", w.secrets["revokedA"], w.a, func(string, int) int { return http.StatusUnauthorized }},
		{"expired key", w.secrets["expiredA"], w.a, func(string, int) int { return http.StatusUnauthorized }},
		{"no credential", "", w.a, func(string, int) int { return http.StatusUnauthorized }},
	}
}

func TestTenantIsolationScenarios(t *testing.T) {
	shared := newWorld(t)
	for _, p := range shared.principals() {
		for i, r := range shared.routes() {
			t.Run(p.name+"/"+r.method+" "+r.path, func(t *testing.T) {
				w := shared
				want := p.want(r.class, r.ok)
				if want < 300 && r.method != "GET" && r.method != "POST" || want < 300 && strings.HasSuffix(r.path, "suspend") {
					// A successful change would alter the shared world.
					w = newWorld(t)
				}
				pr := w.principals()[indexOf(shared.principals(), p.name)]
				rt := w.routes()[i]
				path := strings.NewReplacer("{T}", pr.tenant, "{R}", w.recA, "{A}", w.attA).Replace(rt.path)
				body := strings.ReplaceAll(rt.body, "{N}", strings.ToLower(rempart.RandomSecret(5)))
				req, _ := http.NewRequest(rt.method, w.srv.URL+path, strings.NewReader(body))
				if rt.ctype != "" {
					req.Header.Set("Content-Type", rt.ctype)
				}
				if pr.secret != "" {
					req.Header.Set("Authorization", "Bearer "+pr.secret)
				}
				before, _, err := w.db.AuditTree(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Fatalf("got %d, want %d: %s", resp.StatusCode, want, got)
				}
				if rt.class != cProof || want >= 300 {
					// Checkpoints and proofs hold no service data: a success
					// is not recorded, or every verifier's poll would grow
					// the log it checks. Their denials are.
					checkAudited(t, w.stack, before, resp.Header.Get("X-Request-Id"), want, pr.secret != "")
				}
				if want >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
					t.Errorf("error content type: got %q, want application/problem+json", resp.Header.Get("Content-Type"))
				}
				if pr.tenant != w.a || want >= 400 || pr.name == "system admin: no record access" {
					// Tenant A's service data never reaches anyone else.
					if strings.Contains(string(got), w.marker) {
						t.Fatalf("response leaks tenant A's data: %s", got)
					}
				}
			})
		}
	}
}

// TestScenariosCoverEveryRoute: every route of the API is in the scenario
// table, but for those that take no credential (tested on their own).
func TestScenariosCoverEveryRoute(t *testing.T) {
	w := newWorld(t)
	public := map[string]bool{"POST /api/v1/bootstrap": true, "GET /api/v1/openapi.json": true, "POST /api/v1/sessions": true,
		"POST /api/v1/sessions/code": true, "POST /api/v1/sessions/webauthn/options": true, "POST /api/v1/sessions/webauthn": true,
		"POST /api/v1/password": true, "POST /api/v1/invitations/accept": true, "/api/": true}
	for _, pattern := range w.api.Patterns() {
		if public[pattern] {
			continue
		}
		method, path, _ := strings.Cut(pattern, " ")
		segs := strings.Split(path, "/")
		for i, seg := range segs {
			if strings.HasPrefix(seg, "{") {
				segs[i] = "[^/]+"
			} else {
				segs[i] = regexp.QuoteMeta(seg)
			}
		}
		re := regexp.MustCompile("^" + strings.Join(segs, "/") + "$")
		found := false
		for _, r := range w.routes() {
			p, _, _ := strings.Cut(r.path, "?")
			found = found || r.method == method && re.MatchString(p)
		}
		if !found {
			t.Errorf("route %s has no isolation scenario", pattern)
		}
	}
}

// checkAudited checks that the request left an audit entry (AUD-1) whose
// outcome matches its status and, for a presented key, names the credential.
func checkAudited(t *testing.T, s *stack, from uint64, requestID string, status int, keyed bool) {
	t.Helper()
	entries, err := s.db.AuditLog(context.Background(), audit.Query{Start: from, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var last *rempart.AuditEntry
	for i := range entries {
		if entries[i].RequestID == requestID {
			last = &entries[i]
		}
	}
	if last == nil {
		t.Fatalf("no audit entry for request %s (status %d)", requestID, status)
	}
	want := rempart.OutcomeSuccess
	switch {
	case status == http.StatusUnauthorized, status == http.StatusForbidden, status == http.StatusNotFound:
		want = rempart.OutcomeDenied
	case status >= 300:
		want = rempart.OutcomeFailure
	}
	if last.Outcome != want {
		t.Errorf("audit outcome of %s: got %s, want %s (%+v)", last.Action, last.Outcome, want, *last)
	}
	if keyed && last.CredentialID == "" {
		t.Errorf("audit entry %s names no credential: %+v", last.Action, *last)
	}
	if !keyed && last.PrincipalID != "" {
		t.Errorf("anonymous request audited with principal %s", last.PrincipalID)
	}
}

func indexOf(ps []principal, name string) int {
	for i, p := range ps {
		if p.name == name {
			return i
		}
	}
	return -1
}
