package guard_test

import (
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
)

// TestAuthorizeGrant: staff reach a tenant's records only under their own
// active grant for that tenant, of a scope that allows the access (IAM-7).
func TestAuthorizeGrant(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { x := now.Add(d); return &x }
	a := rempart.Tenant{ID: "ten_a", Status: rempart.TenantActive}
	sus := rempart.Tenant{ID: "ten_a", Status: rempart.TenantSuspended}
	support := rempart.Caller{Principal: rempart.Principal{ID: "usr_s", Role: rempart.RoleSupport}}
	engineer := rempart.Caller{Principal: rempart.Principal{ID: "usr_s", Role: rempart.RoleEngineer}}
	active := func(scope string) rempart.Grant {
		return rempart.Grant{ID: "grt_1", TenantID: "ten_a", RequesterID: "usr_s", Scope: scope, DurationMinutes: 60, CreatedAt: now.Add(-time.Hour),
			ApprovedAt: at(-30 * time.Minute), ActiveFrom: at(-30 * time.Minute), ExpiresAt: at(30 * time.Minute)}
	}
	mod := func(g rempart.Grant, f func(*rempart.Grant)) rempart.Grant { f(&g); return g }
	cases := []struct {
		name  string
		c     rempart.Caller
		t     rempart.Tenant
		p     guard.Permission
		g     rempart.Grant
		allow bool
	}{
		{"read grant reads", support, a, guard.RecordsRead, active("read"), true},
		{"read grant cannot write", support, a, guard.RecordsWrite, active("read"), false},
		{"write grant writes", engineer, a, guard.RecordsWrite, active("write"), true},
		{"write grant reads", engineer, a, guard.RecordsRead, active("write"), true},
		{"write grant of a role that may no longer ask for one", support, a, guard.RecordsWrite, active("write"), false},
		{"expired", support, a, guard.RecordsRead, mod(active("read"), func(g *rempart.Grant) { g.ExpiresAt = at(0) }), false},
		{"revoked", support, a, guard.RecordsRead, mod(active("read"), func(g *rempart.Grant) { g.RevokedAt = at(-time.Second) }), false},
		{"pending", support, a, guard.RecordsRead, mod(active("read"), func(g *rempart.Grant) { g.ActiveFrom, g.ExpiresAt = nil, nil }), false},
		{"another's grant", support, a, guard.RecordsRead, mod(active("read"), func(g *rempart.Grant) { g.RequesterID = "usr_x" }), false},
		{"another tenant's grant", support, a, guard.RecordsRead, mod(active("read"), func(g *rempart.Grant) { g.TenantID = "ten_b" }), false},
		{"suspended tenant", support, sus, guard.RecordsRead, active("read"), false},
		{"grants are not for other permissions", support, a, guard.AccountsManage, active("write"), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := guard.AuthorizeGrant(c.c, c.t, c.p, []rempart.Grant{c.g}, now)
			if c.allow {
				if err != nil || !s.Valid() || s.GrantID() != c.g.ID || s.TenantID() != "ten_a" || s.Permission() != c.p {
					t.Fatalf("got %+v, %v; want a scope under grant %s", s, err, c.g.ID)
				}
				return
			}
			if rempart.ErrorCode(err) != rempart.EFORBIDDEN || s.Valid() {
				t.Fatalf("got %+v, %v; want forbidden", s, err)
			}
		})
	}
	if _, err := guard.AuthorizeGrant(support, a, guard.RecordsRead, nil, now); rempart.ErrorCode(err) != rempart.EFORBIDDEN {
		t.Fatalf("no grant: got %v, want forbidden", err)
	}
	// Tenant principals never need one, so their authorisation costs no
	// grant lookup; a tenant's own scope carries no grant.
	tenant := caller("ten_a", rempart.RoleAdmin)
	if guard.NeedsGrant(tenant, guard.RecordsRead) || !guard.NeedsGrant(support, guard.RecordsRead) || guard.NeedsGrant(support, guard.TenantsManage) {
		t.Fatal("NeedsGrant: staff and data permissions only")
	}
	if s, err := guard.Authorize(tenant, a, guard.RecordsRead); err != nil || s.GrantID() != "" {
		t.Fatalf("tenant scope: %+v, %v", s, err)
	}
	if _, err := guard.AuthorizeGrant(tenant, a, guard.RecordsRead, []rempart.Grant{active("read")}, now); rempart.ErrorCode(err) != rempart.EFORBIDDEN {
		t.Fatalf("tenant principal under a staff grant: got %v", err)
	}
}
