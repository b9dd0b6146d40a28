package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rempart/rempart/web"
)

const wantCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'"

// Every response, page or not, signed in or not, carries the security
// headers; pages are never cached.
func TestSecurityHeaders(t *testing.T) {
	c := newConsole(t)
	cases := []struct {
		name    string
		req     request
		status  int
		noStore bool
	}{
		{"sign-in", request{path: "/sign-in"}, 200, true},
		{"home", request{path: "/", session: "tok-admin"}, 200, true},
		{"redirect to sign-in", request{path: "/tenants"}, 303, true},
		{"tenants", request{path: "/tenants", session: "tok-admin"}, 200, true},
		{"accounts", request{path: "/tenants/ten_acme/service-accounts", session: "tok-admin"}, 200, true},
		{"account", request{path: "/tenants/ten_acme/service-accounts/sa_crm", session: "tok-admin"}, 200, true},
		{"delete confirmation", request{path: "/tenants/ten_acme/delete", session: "tok-admin"}, 200, true},
		{"audit", request{path: "/audit", session: "tok-admin"}, 200, true},
		{"keys", request{path: "/keys", session: "tok-admin"}, 200, true},
		{"tenant keys", request{path: "/tenants/ten_acme/keys", session: "tok-tenant"}, 200, true},
		{"retention", request{path: "/tenants/ten_acme/retention", session: "tok-tenant"}, 200, true},
		{"backups", request{path: "/backups", session: "tok-admin"}, 200, true},
		{"jobs", request{path: "/jobs", session: "tok-admin"}, 200, true},
		{"forbidden", request{path: "/tenants", session: "tok-tenant"}, 403, true},
		{"not found", request{path: "/nowhere", session: "tok-admin"}, 404, true},
		{"csrf refused", request{method: "POST", path: "/tenants", session: "tok-admin", form: url.Values{"name": {"X"}}}, 403, true},
		{"stylesheet", request{path: "/assets/console.css"}, 200, false},
		{"no asset listing", request{path: "/assets/"}, 404, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.do(tc.req)
			wantStatus(t, r, tc.status)
			for k, want := range map[string]string{
				"Content-Security-Policy": wantCSP,
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "no-referrer",
				"X-Frame-Options":         "DENY",
			} {
				if got := r.Header.Get(k); got != want {
					t.Errorf("%s: got %q, want %q", k, got, want)
				}
			}
			if got := r.Header.Get("Cache-Control"); (got == "no-store") != tc.noStore {
				t.Errorf("Cache-Control: got %q, want no-store: %v", got, tc.noStore)
			}
			if tc.status == 200 && !tc.noStore {
				return
			}
			if ct := r.Header.Get("Content-Type"); tc.status != 303 && ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type: got %q", ct)
			}
			// No inline script or style, which the CSP would block.
			for _, s := range []string{"<script>", "style=", "<style", "onclick", "javascript:"} {
				if strings.Contains(r.body, s) {
					t.Errorf("page holds %q", s)
				}
			}
		})
	}
}

// A signed-in person's request without the page's CSRF token, or with
// another one, is refused and changes nothing.
func TestCSRF(t *testing.T) {
	c := newConsole(t)
	before := c.tenants.count()
	otherSessions := c.csrf("tok-tenant")
	for name, token := range map[string]string{"missing": "", "wrong": "bm90LWEtdG9rZW4", "another session's": otherSessions} {
		t.Run(name, func(t *testing.T) {
			form := url.Values{"name": {"Evil Corp"}}
			if token != "" {
				form.Set("csrf", token)
			}
			r := c.do(request{method: "POST", path: "/tenants", session: "tok-admin", form: form})
			wantStatus(t, r, http.StatusForbidden)
			wantBody(t, r, []string{`role="alert"`, "did not come from this console"}, nil)
			if got := c.tenants.count(); got != before {
				t.Fatalf("tenants: got %d, want %d", got, before)
			}
		})
	}
	for _, path := range []string{"/tenants/ten_acme/suspend", "/tenants/ten_acme/delete", "/keys/root/rotate", "/backups", "/sign-out"} {
		r := c.do(request{method: "POST", path: path, session: "tok-admin", form: url.Values{"confirm": {"Acme"}}})
		wantStatus(t, r, http.StatusForbidden)
	}
	if c.tenants.count() != before || c.keys.rotations != 0 || len(c.backups.requested) != 0 {
		t.Fatal("a request without a CSRF token changed something")
	}
	if _, err := c.sessions.Resume(t.Context(), "tok-admin", webInfo); err != nil {
		t.Fatal("sign-out without a CSRF token ended the session")
	}
	r := c.post("/tenants", "tok-admin", url.Values{"name": {"Initech"}})
	wantStatus(t, r, http.StatusSeeOther)
	if got := c.tenants.count(); got != before+1 {
		t.Fatalf("with the token: got %d tenants, want %d", got, before+1)
	}
}

// A form another site's page submits is refused by the browser's own
// Sec-Fetch-Site or Origin headers, even with a valid token.
func TestCrossOriginRefused(t *testing.T) {
	c := newConsole(t)
	before := c.tenants.count()
	token := c.csrf("tok-admin")
	for name, hdr := range map[string]map[string]string{
		"sec-fetch-site": {"Sec-Fetch-Site": "cross-site"},
		"origin":         {"Origin": "https://evil.example"},
	} {
		t.Run(name, func(t *testing.T) {
			r := c.do(request{method: "POST", path: "/tenants", session: "tok-admin", header: hdr,
				form: url.Values{"name": {"Evil Corp"}, "csrf": {token}}})
			wantStatus(t, r, http.StatusForbidden)
			wantBody(t, r, []string{"came from another site"}, nil)
			r = c.do(request{method: "POST", path: "/sign-in", header: hdr,
				form: url.Values{"email": {"ada@example.com"}, "password": {"correct horse"}}})
			wantStatus(t, r, http.StatusForbidden)
			if r.cookie("__Host-rempart-session") != nil {
				t.Fatal("a cross-site sign-in opened a session")
			}
		})
	}
	if got := c.tenants.count(); got != before {
		t.Fatalf("tenants: got %d, want %d", got, before)
	}
	r := c.do(request{method: "POST", path: "/tenants", session: "tok-admin", header: map[string]string{"Sec-Fetch-Site": "same-origin"},
		form: url.Values{"name": {"Initech"}, "csrf": {token}}})
	wantStatus(t, r, http.StatusSeeOther)
}

// Pages need a session; without one the browser goes to sign in and comes
// back afterwards.
func TestUnauthenticatedRedirect(t *testing.T) {
	c := newConsole(t)
	for _, path := range []string{"/", "/tenants", "/audit?action=tenant.create", "/keys", "/backups", "/jobs", "/tenants/ten_acme/service-accounts"} {
		for _, session := range []string{"", "tok-unknown"} {
			r := c.get(path, session)
			wantStatus(t, r, http.StatusSeeOther)
			want := "/sign-in?next=" + url.QueryEscape(path)
			if path == "/" {
				want = "/sign-in"
			}
			wantLocation(t, r, want)
			if session != "" {
				if ck := r.cookie("__Host-rempart-session"); ck == nil || ck.MaxAge >= 0 {
					t.Errorf("%s: the dead session's cookie was not cleared", path)
				}
			}
		}
	}
	r := c.do(request{method: "POST", path: "/tenants", form: url.Values{"name": {"X"}}})
	wantStatus(t, r, http.StatusSeeOther)
	wantLocation(t, r, "/sign-in")
}

// Each client address gets a bounded rate of requests (NET-2): past it, a
// 429 page with Retry-After and the security headers, before any session
// is looked up.
func TestRateLimited(t *testing.T) {
	c := newConsole(t)
	c.h = web.New(web.Config{Sessions: c.sessions, Tenants: c.tenants, Accounts: c.accounts, Audit: c.audit,
		Keys: c.keys, TenantKeys: c.tenantKeys, Backups: c.backups, Jobs: fakeJobs{}, IPRate: 0.001, IPBurst: 2})
	for range 2 {
		wantStatus(t, c.get("/sign-in", ""), http.StatusOK)
	}
	r := c.get("/", "tok-admin")
	wantStatus(t, r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" || r.Header.Get("Content-Security-Policy") != wantCSP {
		t.Fatalf("429: Retry-After %q, CSP %q", r.Header.Get("Retry-After"), r.Header.Get("Content-Security-Policy"))
	}
}

// Every signed-in change the console offers (routes.go) is refused without
// the session's CSRF token, before its handler runs: a route left out of
// authed, or not registered, fails here.
func TestCSRFEveryChange(t *testing.T) {
	c := newPeopleConsole(t)
	const t1 = "/tenants/ten_acme"
	var paths []string
	for _, p := range []string{"/staff", t1} {
		paths = append(paths, p+"/role-changes", p+"/role-changes/rc_1/approve", p+"/role-changes/rc_1/reject",
			p+"/access-reviews", p+"/access-reviews/arc_1/items/usr_1", p+"/sso", p+"/sso/sso_1/delete")
	}
	for _, p := range []string{t1 + "/people", "/staff"} {
		paths = append(paths, p+"/invitations", p+"/invitations/inv_1/withdraw", p+"/users/usr_1/suspend",
			p+"/users/usr_1/reactivate", p+"/users/usr_1/revoke-access")
	}
	for _, g := range []string{"/grants", t1 + "/grants"} {
		paths = append(paths, g+"/grt_1/approve", g+"/grt_1/deny", g+"/grt_1/revoke")
	}
	paths = append(paths, "/sign-out", "/tenants", t1+"/suspend", t1+"/resume", t1+"/delete",
		t1+"/service-accounts", t1+"/service-accounts/sa_crm/keys", t1+"/service-accounts/sa_crm/keys/key_1/revoke",
		"/keys/root/rotate", t1+"/keys/rotate", t1+"/keys/customer", t1+"/keys/customer/delete",
		t1+"/retention/default", t1+"/retention/default/delete", t1+"/retention/rules", t1+"/retention/rules/calls/delete", "/backups", "/backups/bck_1/verify", "/restore-tests",
		"/grants", t1+"/grant-settings", "/me/password", "/me/sessions/ses_1/revoke", "/me/sessions/revoke-others",
		"/mfa/verify", "/account/security/totp", "/account/security/totp/mfa_1/confirm", "/account/security/webauthn",
		"/account/security/webauthn/finish", "/account/security/factors/mfa_1/delete", "/account/security/recovery-codes",
		"/account/security/tenant-policy")
	for _, path := range paths {
		r := c.do(request{method: "POST", path: path, session: "tok-admin", form: url.Values{"name": {"x"}}})
		if r.StatusCode != http.StatusForbidden || !strings.Contains(r.body, "did not come from this console") {
			t.Errorf("POST %s without a CSRF token: %d", path, r.StatusCode)
		}
	}
}
