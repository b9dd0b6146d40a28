package web_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rempart/rempart"
	"github.com/rempart/rempart/web"
)

var supportStaff = rempart.Caller{Principal: rempart.Principal{ID: "usr_sup", Name: "Sam Support", Role: rempart.RoleSupport}, CredentialID: "ses_3"}

// fakeGrants stands in for grants.Service with its authorisation shape:
// staff see and change grants by role, a tenant's admin sees its own
// tenant's, and another tenant's are "not found" (TEN-1).
type fakeGrants struct {
	mu       sync.Mutex
	grants   []rempart.Grant
	settings rempart.GrantSettings
	calls    []string
}

func newFakeGrants() *fakeGrants {
	approved := epoch.Add(10 * time.Minute)
	end := approved.Add(time.Hour)
	return &fakeGrants{grants: []rempart.Grant{
		{ID: "grt_2", TenantID: "ten_acme", RequesterID: "usr_sup", Reason: "ticket 42: missing call", Scope: "read", DurationMinutes: 30, Status: "pending", CreatedAt: epoch.Add(time.Hour)},
		{ID: "grt_1", TenantID: "ten_acme", RequesterID: "usr_eng", Reason: "incident 7: fix <b>data</b>", Scope: "write", DurationMinutes: 60, Status: "active", CreatedAt: epoch,
			ApprovedBy: "usr_admin", ApprovedAt: &approved, ActiveFrom: &approved, ExpiresAt: &end},
	}, settings: rempart.GrantSettings{TenantID: "ten_acme"}}
}

func (f *fakeGrants) record(s string) {
	f.mu.Lock()
	f.calls = append(f.calls, s)
	f.mu.Unlock()
}

func (f *fakeGrants) staff(c rempart.Caller) error {
	if c.Principal.TenantID != "" {
		return errForbidden
	}
	return nil
}

func (f *fakeGrants) tenant(c rempart.Caller, tenant string) error {
	if c.Principal.TenantID != tenant {
		return errNoTenant
	}
	return nil
}

func (f *fakeGrants) Request(ctx context.Context, c rempart.Caller, in rempart.GrantCreate) (rempart.Grant, error) {
	if c.Principal.Role != rempart.RoleSupport {
		return rempart.Grant{}, errForbidden
	}
	if len(in.Reason) < 10 {
		return rempart.Grant{}, rempart.Errorf(rempart.EINVALID, "reason must be 10 to 500 characters.")
	}
	f.record("request " + in.TenantID + " " + in.Scope + " " + in.Reason)
	return rempart.Grant{ID: "grt_3"}, nil
}

func (f *fakeGrants) List(ctx context.Context, c rempart.Caller, tenant string) ([]rempart.Grant, error) {
	if err := f.staff(c); err != nil {
		return nil, err
	}
	return slices.Clone(f.grants), nil
}

func (f *fakeGrants) step(c rempart.Caller, what, id string) (rempart.Grant, error) {
	if err := f.staff(c); err != nil {
		return rempart.Grant{}, err
	}
	f.record(what + " " + id + " by " + c.Principal.ID)
	return rempart.Grant{ID: id}, nil
}

func (f *fakeGrants) Approve(ctx context.Context, c rempart.Caller, id string) (rempart.Grant, error) {
	return f.step(c, "approve", id)
}

func (f *fakeGrants) Deny(ctx context.Context, c rempart.Caller, id string) (rempart.Grant, error) {
	return f.step(c, "deny", id)
}

func (f *fakeGrants) Revoke(ctx context.Context, c rempart.Caller, id string) (rempart.Grant, error) {
	return f.step(c, "revoke", id)
}

func (f *fakeGrants) TenantGrants(ctx context.Context, c rempart.Caller, tenant string) ([]rempart.Grant, error) {
	if err := f.tenant(c, tenant); err != nil {
		return nil, err
	}
	return slices.Clone(f.grants), nil
}

func (f *fakeGrants) TenantGrant(ctx context.Context, c rempart.Caller, tenant, id string) (rempart.GrantDetail, error) {
	if err := f.tenant(c, tenant); err != nil {
		return rempart.GrantDetail{}, err
	}
	for _, g := range f.grants {
		if g.ID == id {
			return rempart.GrantDetail{Grant: g, Accesses: []rempart.AuditEntry{{Index: 12, Time: epoch.Add(20 * time.Minute), TenantID: tenant, PrincipalID: g.RequesterID,
				Action: "record.read", Resource: "tenants/ten_acme/collections/calls/records/rec_1", Outcome: rempart.OutcomeSuccess, GrantID: g.ID}}}, nil
		}
	}
	return rempart.GrantDetail{}, rempart.Errorf(rempart.ENOTFOUND, "Grant not found.")
}

func (f *fakeGrants) tenantStep(c rempart.Caller, what, tenant, id string) (rempart.Grant, error) {
	if err := f.tenant(c, tenant); err != nil {
		return rempart.Grant{}, err
	}
	f.record("tenant " + what + " " + id)
	return rempart.Grant{ID: id}, nil
}

func (f *fakeGrants) TenantApprove(ctx context.Context, c rempart.Caller, tenant, id string) (rempart.Grant, error) {
	return f.tenantStep(c, "approve", tenant, id)
}

func (f *fakeGrants) TenantDeny(ctx context.Context, c rempart.Caller, tenant, id string) (rempart.Grant, error) {
	return f.tenantStep(c, "deny", tenant, id)
}

func (f *fakeGrants) TenantRevoke(ctx context.Context, c rempart.Caller, tenant, id string) (rempart.Grant, error) {
	return f.tenantStep(c, "revoke", tenant, id)
}

func (f *fakeGrants) Settings(ctx context.Context, c rempart.Caller, tenant string) (rempart.GrantSettings, error) {
	if err := f.tenant(c, tenant); err != nil {
		return rempart.GrantSettings{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.settings, nil
}

func (f *fakeGrants) SetSettings(ctx context.Context, c rempart.Caller, tenant string, in rempart.GrantSettings) (rempart.GrantSettings, error) {
	if err := f.tenant(c, tenant); err != nil {
		return rempart.GrantSettings{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.settings.RequireApproval = in.RequireApproval
	return f.settings, nil
}

// grantsConsole is the test console with the grants pages and a support
// staff member signed in as "tok-support".
func grantsConsole(t *testing.T) (*console, *fakeGrants) {
	c := newConsole(t)
	g := newFakeGrants()
	c.sessions.sessions["tok-support"] = supportStaff
	c.h = web.New(web.Config{Sessions: c.sessions, Tenants: c.tenants, Accounts: c.accounts, Audit: c.audit,
		Keys: c.keys, TenantKeys: c.tenantKeys, Backups: c.backups, Jobs: fakeJobs{}, Grants: g,
		CSRFKey: []byte("0123456789abcdef0123456789abcdef")})
	return c, g
}

// TestGrantPages: staff request, approve, deny and revoke grants; the
// buttons follow the role (the requester sees no approve button); a tenant's
// admin sees its grants and the accesses under each, sets its approval rule,
// and never sees another tenant's (IAM-7, TEN-1).
func TestGrantPages(t *testing.T) {
	c, g := grantsConsole(t)

	r := c.get("/grants", "tok-admin")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, []string{`action="/grants/grt_2/approve"`, `action="/grants/grt_2/deny"`, `action="/grants/grt_1/revoke"`, "incident 7: fix &lt;b&gt;data&lt;/b&gt;"},
		[]string{`action="/grants/grt_1/approve"`, `action="/grants"`, "<b>data"})

	r = c.get("/grants", "tok-support")
	wantBody(t, r, []string{`action="/grants"`, `action="/grants/grt_2/revoke"`, `<option value="read" selected>read</option>`},
		[]string{`action="/grants/grt_2/approve"`, `action="/grants/grt_2/deny"`, `action="/grants/grt_1/revoke"`, `<option value="write"`})

	r = c.post("/grants", "tok-support", url.Values{"tenant_id": {"ten_acme"}, "reason": {"short"}, "scope": {"read"}, "duration_minutes": {"60"}})
	wantStatus(t, r, http.StatusBadRequest)
	wantBody(t, r, []string{`role="alert"`, "reason must be 10 to 500 characters.", `value="ten_acme"`, ">short</textarea>"}, nil)
	r = c.post("/grants", "tok-support", url.Values{"tenant_id": {"ten_acme"}, "reason": {"ticket 43: check"}, "scope": {"read"}, "duration_minutes": {"sixty"}})
	wantStatus(t, r, http.StatusBadRequest)
	r = c.post("/grants", "tok-support", url.Values{"tenant_id": {"ten_acme"}, "reason": {"ticket 43: check"}, "scope": {"read"}, "duration_minutes": {"60"}})
	wantLocation(t, r, "/grants?done=grant-requested")
	wantLocation(t, c.post("/grants/grt_2/approve", "tok-admin", nil), "/grants?done=grant-approved")
	wantLocation(t, c.post("/grants/grt_2/deny", "tok-admin", nil), "/grants?done=grant-denied")
	wantLocation(t, c.post("/grants/grt_1/revoke", "tok-admin", nil), "/grants?done=grant-revoked")
	wantStatus(t, c.do(request{method: http.MethodPost, path: "/grants/grt_1/revoke", session: "tok-admin", form: url.Values{"csrf": {"forged"}}}), http.StatusForbidden)

	r = c.get("/tenants/ten_acme/grants", "tok-tenant")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, []string{`href="/tenants/ten_acme/grants/grt_1"`, `action="/tenants/ten_acme/grants/grt_1/revoke"`, `action="/tenants/ten_acme/grant-settings"`, `id="require_approval" name="require_approval" type="checkbox">`},
		[]string{`action="/tenants/ten_acme/grants/grt_2/approve"`})
	wantStatus(t, c.get("/tenants/ten_globex/grants", "tok-tenant"), http.StatusNotFound)
	wantStatus(t, c.get("/tenants/ten_globex/grants/grt_1", "tok-tenant"), http.StatusNotFound)
	wantStatus(t, c.get("/grants", "tok-tenant"), http.StatusForbidden)
	r = c.get("/tenants/ten_acme/grants/grt_1", "tok-tenant")
	wantBody(t, r, []string{"Accesses under this grant", "record.read", "tenants/ten_acme/collections/calls/records/rec_1"}, nil)

	wantLocation(t, c.post("/tenants/ten_acme/grant-settings", "tok-tenant", url.Values{"require_approval": {"on"}}), "/tenants/ten_acme/grants?done=grant-settings-saved")
	if !g.settings.RequireApproval {
		t.Fatal("the require-approval rule was not saved")
	}
	wantBody(t, c.get("/tenants/ten_acme/grants", "tok-tenant"), []string{`type="checkbox" checked>`}, nil)
	wantLocation(t, c.post("/tenants/ten_acme/grants/grt_2/approve", "tok-tenant", nil), "/tenants/ten_acme/grants?done=grant-tenant-approved")
	wantStatus(t, c.post("/tenants/ten_globex/grants/grt_2/revoke", "tok-tenant", nil), http.StatusNotFound)

	want := []string{"request ten_acme read ticket 43: check", "approve grt_2 by usr_admin", "deny grt_2 by usr_admin", "revoke grt_1 by usr_admin", "tenant approve grt_2"}
	if diff := cmp.Diff(want, g.calls); diff != "" {
		t.Errorf("service calls (-want +got):\n%s", diff)
	}
}

// TestGrantsGolden compares the grants pages with golden files; regenerate
// after a deliberate change with: go test ./web -run TestGrantsGolden -update
func TestGrantsGolden(t *testing.T) {
	c, _ := grantsConsole(t)
	for _, tc := range []struct{ file, path, session string }{
		{"grants.html", "/grants", "tok-admin"},
		{"grants-support.html", "/grants", "tok-support"},
		{"tenant-grants.html", "/tenants/ten_acme/grants", "tok-tenant"},
		{"tenant-grant.html", "/tenants/ten_acme/grants/grt_1", "tok-tenant"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got := c.get(tc.path, tc.session).body
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
