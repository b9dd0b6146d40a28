package web_test

import (
	"flag"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rempart/rempart"
	"github.com/rempart/rempart/web"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// Rendered pages are compared with golden files; after a deliberate change,
// regenerate them with: go test ./web -run TestGolden -update
func TestGolden(t *testing.T) {
	c := newConsole(t)
	// A tenant with its own key, and one with retention rules.
	c.tenantKeys.customer = map[string]string{"ten_globex": "cmk:pkcs11:globex/globex-cmk-1"}
	at := epoch
	c.retention.rules = map[string]map[string]rempart.RetentionRule{"ten_acme": {
		"":      {RestorableDays: 14, UpdatedAt: &at},
		"calls": {Collection: "calls", RestorableDays: 7, MaxAgeDays: 1095, UpdatedAt: &at},
		"notes": {Collection: "notes", RestorableDays: 90, UpdatedAt: &at},
	}}
	signin := &http.Cookie{Name: "__Host-rempart-signin", Value: "0123456789abcdefghjkmnpqrstvwxyz"}
	cases := []struct {
		file, path, session string
		cookies             []*http.Cookie
	}{
		{"sign-in.html", "/sign-in?next=%2Ftenants", "", []*http.Cookie{signin}},
		{"home.html", "/", "tok-admin", nil},
		{"tenants.html", "/tenants", "tok-admin", nil},
		{"backups.html", "/backups", "tok-admin", nil},
		{"audit-tenant.html", "/audit?action=tenant.read", "tok-tenant", nil},
		{"not-found.html", "/tenants/ten_globex/keys", "tok-tenant", nil},
		{"security.html", "/account/security", "tok-admin", nil},
		{"accounts.html", "/tenants/ten_acme/service-accounts", "tok-tenant", nil},
		{"account.html", "/tenants/ten_acme/service-accounts/sa_crm", "tok-tenant", nil},
		{"keys.html", "/keys", "tok-admin", nil},
		{"tenant-keys.html", "/tenants/ten_acme/keys", "tok-tenant", nil},
		{"tenant-keys-customer.html", "/tenants/ten_globex/keys?done=customer-key-set", "tok-admin", nil},
		{"retention.html", "/tenants/ten_acme/retention", "tok-tenant", nil},
		{"retention-empty.html", "/tenants/ten_globex/retention", "tok-admin", nil},
		{"tenant-delete.html", "/tenants/ten_acme/delete", "tok-admin", nil},
		{"jobs.html", "/jobs", "tok-admin", nil},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			r := c.do(request{path: tc.path, session: tc.session, cookies: tc.cookies})
			got := r.body
			path := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s differs from %s (-want +got):\n%s", tc.path, path, diff)
			}
		})
	}
}

// Pages shown only in answer to a form post — a new API key (a service
// account's or a personal one) or invitation link shown once, an
// authenticator app's QR code, recovery codes, the evidence of a revocation, the second step of a sign-in, step-up — against
// golden files too (regenerate with -update).
func TestGoldenAfterPost(t *testing.T) {
	signin := &http.Cookie{Name: "__Host-rempart-signin", Value: "0123456789abcdefghjkmnpqrstvwxyz"}
	cases := []struct {
		file, path, session string
		form                url.Values
		status              int
		before              []string // posts made first, in the same console
	}{
		{"account-new-key.html", "/tenants/ten_acme/service-accounts/sa_crm/keys", "tok-tenant", url.Values{"expires_in_days": {"30"}}, http.StatusCreated, nil},
		{"me-new-key.html", "/me/api-keys", "tok-tenant", url.Values{"name": {"deploy script"}, "expires_in_days": {"30"}}, http.StatusCreated, nil},
		{"people-invitation-link.html", "/tenants/ten_acme/people/invitations", "tok-tenant", url.Values{"email": {"pat@example.com"}, "role": {"reader"}}, http.StatusCreated, nil},
		{"revoke-access-done.html", "/tenants/ten_acme/people/users/usr_sue/revoke-access", "tok-tenant",
			url.Values{"kind": {"offboard"}, "reason": {"left the company on Friday"}}, http.StatusOK, nil},
		{"security-totp.html", "/account/security/totp", "tok-admin", url.Values{"name": {"laptop"}}, http.StatusOK, nil},
		{"security-recovery-codes.html", "/account/security/totp/mfa_2/confirm", "tok-admin", url.Values{"code": {"123456"}}, http.StatusOK, nil},
		{"step-up.html", "/account/security/recovery-codes", "tok-admin", url.Values{}, http.StatusForbidden, nil},
		{"step-up-done.html", "/mfa/verify", "tok-admin", url.Values{"code": {"123456"}, "action": {"/account/security/recovery-codes"}}, http.StatusOK, nil},
		{"security-new-recovery-codes.html", "/account/security/recovery-codes", "tok-admin", url.Values{}, http.StatusOK, []string{"/mfa/verify"}},
		{"sign-in-code.html", "/sign-in", "", url.Values{"email": {"tom@example.com"}, "password": {"battery staple"}, "next": {"/tenants"}}, http.StatusOK, nil},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			c := newConsole(t)
			c.h = web.New(web.Config{Sessions: c.sessions, Tenants: c.tenants, Accounts: c.accounts, Audit: c.audit,
				Keys: c.keys, TenantKeys: c.tenantKeys, Backups: c.backups, Jobs: fakeJobs{}, MFA: c.mfa, Reviews: c.reviews,
				People: newFakePeople(), CSRFKey: []byte("0123456789abcdef0123456789abcdef")})
			for _, p := range tc.before {
				if r := c.post(p, tc.session, url.Values{"code": {"123456"}}); r.StatusCode >= 400 {
					t.Fatalf("POST %s first: %d", p, r.StatusCode)
				}
			}
			var r response
			if tc.session == "" {
				page := c.do(request{path: "/sign-in", cookies: []*http.Cookie{signin}})
				m := csrfRE.FindStringSubmatch(page.body)
				if m == nil {
					t.Fatal("the sign-in form has no CSRF token")
				}
				tc.form.Set("csrf", m[1])
				r = c.do(request{method: http.MethodPost, path: tc.path, form: tc.form, cookies: []*http.Cookie{signin}})
			} else {
				r = c.post(tc.path, tc.session, tc.form)
			}
			wantStatus(t, r, tc.status)
			path := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(path, []byte(r.body), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), r.body); diff != "" {
				t.Errorf("POST %s differs from %s (-want +got):\n%s", tc.path, path, diff)
			}
		})
	}
}
