package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A client error is its own page with its own status, never a 500; another
// tenant's pages are "not found" (TEN-1).
func TestErrorPages(t *testing.T) {
	c := newConsole(t)
	cases := []struct {
		name    string
		req     request
		status  int
		message string
	}{
		{"tenant admin on the tenants page", request{path: "/tenants", session: "tok-tenant"}, 403, "You are not allowed to do this."},
		{"tenant admin on the backups page", request{path: "/backups", session: "tok-tenant"}, 403, "You are not allowed to do this."},
		{"another tenant's accounts", request{path: "/tenants/ten_globex/service-accounts", session: "tok-tenant"}, 404, "There is no such tenant."},
		{"another tenant's keys", request{path: "/tenants/ten_globex/keys", session: "tok-tenant"}, 404, "There is no such tenant."},
		{"unknown account", request{path: "/tenants/ten_acme/service-accounts/sa_nope", session: "tok-admin"}, 404, "There is no such service account."},
		{"unknown page", request{path: "/nowhere", session: "tok-admin"}, 404, "There is no such page."},
		{"unknown page, signed out", request{path: "/nowhere"}, 404, "There is no such page."},
		{"wrong method", request{method: "DELETE", path: "/tenants", session: "tok-admin"}, 404, "There is no such page."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.do(tc.req)
			wantStatus(t, r, tc.status)
			wantBody(t, r, []string{`role="alert"`, tc.message}, nil)
		})
	}
	// A tenant admin's suspend attempt on their own tenant is refused by the
	// service, and shown as such.
	r := c.post("/tenants/ten_acme/suspend", "tok-tenant", nil)
	wantStatus(t, r, http.StatusForbidden)
}

func TestTenants(t *testing.T) {
	c := newConsole(t)
	r := c.get("/tenants", "tok-admin")
	wantBody(t, r, []string{"Acme", "Globex", `action="/tenants/ten_acme/suspend"`, `action="/tenants/ten_globex/resume"`}, nil)

	// An invalid name is shown next to the form, which keeps it.
	r = c.post("/tenants", "tok-admin", url.Values{"name": {"<b>bad"}})
	wantStatus(t, r, http.StatusBadRequest)
	wantBody(t, r, []string{`role="alert"`, "A tenant name is 1 to 100 characters.", `value="&lt;b&gt;bad"`}, []string{"<b>bad"})

	r = c.post("/tenants", "tok-admin", url.Values{"name": {"Initech"}})
	wantStatus(t, r, http.StatusSeeOther)
	wantLocation(t, r, "/tenants?done=tenant-created")
	wantBody(t, c.get("/tenants?done=tenant-created", "tok-admin"), []string{"Tenant created.", "Initech"}, nil)
	wantBody(t, c.get("/tenants?done=<script>", "tok-admin"), nil, []string{"&lt;script", "<script"})

	r = c.post("/tenants/ten_acme/suspend", "tok-admin", nil)
	wantLocation(t, r, "/tenants?done=tenant-suspended")
	if tn, _ := c.tenants.Tenant(t.Context(), sysAdmin, "ten_acme"); tn.Status != "suspended" {
		t.Fatalf("status: got %q, want suspended", tn.Status)
	}
	r = c.post("/tenants/ten_acme/resume", "tok-admin", nil)
	wantLocation(t, r, "/tenants?done=tenant-resumed")
}

// Deleting a tenant takes a confirmation step: its name, typed.
func TestDeleteTenant(t *testing.T) {
	c := newConsole(t)
	r := c.get("/tenants/ten_acme/delete", "tok-admin")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, []string{"cannot be undone", `name="confirm"`}, nil)

	before := c.tenants.count()
	r = c.post("/tenants/ten_acme/delete", "tok-admin", url.Values{"confirm": {"Acme Inc"}})
	wantStatus(t, r, http.StatusBadRequest)
	wantBody(t, r, []string{`role="alert"`, `value="Acme Inc"`}, nil)
	if c.tenants.count() != before {
		t.Fatal("deleted without the right confirmation")
	}
	r = c.post("/tenants/ten_acme/delete", "tok-admin", url.Values{"confirm": {"Acme"}})
	wantStatus(t, r, http.StatusSeeOther)
	wantLocation(t, r, "/tenants?done=tenant-deleted")
	if c.tenants.count() != before-1 {
		t.Fatal("not deleted")
	}
}

func TestServiceAccountsAndKeys(t *testing.T) {
	c := newConsole(t)
	base := "/tenants/ten_acme/service-accounts"
	r := c.get(base, "tok-tenant")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, []string{"crm-sync", base + "/sa_crm"}, nil)

	r = c.post(base, "tok-tenant", url.Values{"name": {"billing"}, "role": {"root"}})
	wantStatus(t, r, http.StatusBadRequest)
	wantBody(t, r, []string{`role="alert"`, `value="billing"`}, nil)

	r = c.post(base, "tok-tenant", url.Values{"name": {"billing"}, "role": {"reader"}})
	wantStatus(t, r, http.StatusSeeOther)
	wantLocation(t, r, base+"/sa_2?done=account-created")

	// A new key's secret is on the answer to the form, and only there.
	r = c.post(base+"/sa_2/keys", "tok-tenant", url.Values{"expires_in_days": {"30"}})
	wantStatus(t, r, http.StatusCreated)
	wantBody(t, r, []string{"rk_SECRETVALUEkey_2", "shown only once"}, nil)
	if loc := r.Header.Get("Location"); loc != "" {
		t.Errorf("Location: got %q, want none", loc)
	}
	r = c.get(base+"/sa_2", "tok-tenant")
	wantBody(t, r, []string{"key_2"}, []string{"rk_SECRETVALUE"})

	r = c.post(base+"/sa_2/keys", "tok-tenant", url.Values{"expires_in_days": {"soon"}})
	wantStatus(t, r, http.StatusBadRequest)
	wantBody(t, r, []string{`value="soon"`}, nil)
	r = c.post(base+"/sa_2/keys", "tok-tenant", url.Values{"expires_in_days": {"400"}})
	wantStatus(t, r, http.StatusBadRequest)
	wantBody(t, r, []string{"at most 90 days", `value="400"`}, nil)

	r = c.post(base+"/sa_2/keys/key_2/revoke", "tok-tenant", nil)
	wantStatus(t, r, http.StatusSeeOther)
	wantBody(t, c.get(base+"/sa_2", "tok-tenant"), []string{"revoked 2026-03-01"}, nil)
}

// The audit page filters by action and principal, and by tenant for the
// system administrator only: a tenant admin always reads their own tenant's
// trail.
func TestAuditFilters(t *testing.T) {
	c := newConsole(t)
	cases := []struct {
		session, query, call string
	}{
		{"tok-admin", "", "all start=0 limit=50 action= principal="},
		{"tok-admin", "?action=tenant.read", "all start=0 limit=50 action=tenant.read principal="},
		{"tok-admin", "?tenant=ten_globex&action=record.read", "tenant ten_globex start=0 limit=50 action=record.read principal="},
		{"tok-admin", "?start=50", "all start=50 limit=50 action= principal="},
		{"tok-tenant", "", "tenant ten_acme start=0 limit=50 action= principal="},
		{"tok-tenant", "?tenant=ten_globex", "tenant ten_acme start=0 limit=50 action= principal="},
		{"tok-admin", "?principal=usr_ada", "all start=0 limit=50 action= principal=usr_ada"},
		{"tok-tenant", "?principal=sa_crm&action=record.read", "tenant ten_acme start=0 limit=50 action=record.read principal=sa_crm"},
	}
	for _, tc := range cases {
		r := c.get("/audit"+tc.query, tc.session)
		wantStatus(t, r, http.StatusOK)
		if got := c.audit.last(); got != tc.call {
			t.Errorf("%s %s: got call %q, want %q", tc.session, tc.query, got, tc.call)
		}
	}
	r := c.get("/audit?action=tenant.read", "tok-admin")
	wantBody(t, r, []string{`href="/audit?action=tenant.read&amp;start=50"`, `<option value="ten_acme">Acme</option>`}, []string{"First page"})
	r = c.get("/audit?start=100", "tok-admin")
	wantBody(t, r, []string{"First page"}, []string{"Next page"})
	r = c.get("/audit?start=200", "tok-admin")
	wantBody(t, r, []string{"No audit entries match these filters."}, nil)
	r = c.get("/audit", "tok-tenant")
	wantBody(t, r, nil, []string{`name="tenant"`})

	r = c.get("/audit?principal=usr_ada", "tok-admin")
	wantBody(t, r, []string{`href="/audit?principal=usr_ada&amp;start=50"`, `value="usr_ada"`}, nil)
	for _, q := range []string{"?action=DROP%20TABLE", "?start=-1", "?tenant=../x", "?principal=%27%20OR%201%3D1"} {
		r := c.get("/audit"+q, "tok-admin")
		wantStatus(t, r, http.StatusBadRequest)
		wantBody(t, r, []string{`role="alert"`, `name="action"`}, nil)
	}
}

func TestKeysBackupsJobs(t *testing.T) {
	c := newConsole(t)
	r := c.get("/keys", "tok-tenant")
	wantStatus(t, r, http.StatusSeeOther)
	wantLocation(t, r, "/tenants/ten_acme/keys")

	r = c.get("/keys", "tok-admin")
	wantBody(t, r, []string{"root_2", `action="/keys/root/rotate"`, `action="/tenants/ten_acme/keys/rotate"`, ">Acme</a>"}, nil)
	wantLocation(t, c.post("/keys/root/rotate", "tok-admin", nil), "/keys?done=root-rotating")
	wantLocation(t, c.post("/tenants/ten_acme/keys/rotate", "tok-admin", nil), "/keys?done=tenant-rotating")
	wantLocation(t, c.post("/tenants/ten_acme/keys/rotate", "tok-tenant", nil), "/tenants/ten_acme/keys?done=tenant-rotating")
	if c.keys.rotations != 1 || strings.Join(c.tenantKeys.rotated, ",") != "ten_acme,ten_acme" {
		t.Fatalf("rotations: root %d, tenants %v", c.keys.rotations, c.tenantKeys.rotated)
	}

	r = c.get("/backups", "tok-admin")
	wantBody(t, r, []string{"bck_2", `action="/backups/bck_2/verify"`, "<svg", "<polyline", "5.0 MiB", "3.6 s"}, []string{`action="/backups/bck_1/verify"`})
	wantLocation(t, c.post("/backups", "tok-admin", nil), "/backups?done=backup-started")
	wantLocation(t, c.post("/backups/bck_2/verify", "tok-admin", nil), "/backups?done=verify-started")
	wantLocation(t, c.post("/restore-tests", "tok-admin", nil), "/backups?done=restore-started")
	if got := strings.Join(c.backups.requested, ","); got != "backup,verify bck_2,restore-test" {
		t.Fatalf("requested: got %q", got)
	}

	r = c.get("/jobs", "tok-admin")
	wantBody(t, r, []string{`<progress max="120" value="30"`, "30 / 120", "backup.create"}, nil)
	r = c.get("/jobs?status=done", "tok-admin")
	wantBody(t, r, []string{"keys.root_rewrap"}, []string{"backup.create"})
	r = c.get("/jobs?status=bogus", "tok-admin")
	wantStatus(t, r, http.StatusBadRequest)
}
