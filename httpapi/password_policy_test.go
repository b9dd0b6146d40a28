package httpapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/client"
)

// TestTenantPasswordPolicy: a tenant admin sets the tenant's own password
// rules above the deployment's, or turns expiry off, never below the
// floors; the rules apply to the tenant's users at the next password and
// the next sign-in, and no other tenant's admin can touch them (IAM-3).
func TestTenantPasswordPolicy(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	adminCaller, adminKey := s.admin()
	acme, other := s.tenant(adminCaller, "Acme"), s.tenant(adminCaller, "Other")
	root := client.New(s.srv.URL, client.WithAPIKey(adminKey))
	anon := client.New(s.srv.URL)
	_, tenantAdmin := person(t, s, root, acme, "admin@acme.example", rempart.RoleAdmin)
	bob, _ := person(t, s, root, acme, "bob@acme.example", rempart.RoleWriter)
	_, otherAdmin := person(t, s, root, other, "admin@other.example", rempart.RoleAdmin)
	ptr := func(n int) *int { return &n }

	got, err := tenantAdmin.PasswordPolicy(ctx, acme)
	want := rempart.PasswordPolicyInfo{MinLength: 10, MaxAgeDays: 90, History: 5}
	if err != nil || got != want {
		t.Fatalf("default policy: got %+v, %v; want %+v", got, err, want)
	}
	for _, bad := range []rempart.TenantPasswordPolicy{{MinLength: ptr(8)}, {MaxAgeDays: ptr(10)}, {History: ptr(2)}, {MaxAgeDays: ptr(-1)}} {
		if _, err := tenantAdmin.SetPasswordPolicy(ctx, acme, bad); code(err) != rempart.EINVALID {
			t.Errorf("below the floors %+v: got %v, want invalid", bad, err)
		}
	}
	if _, err := otherAdmin.SetPasswordPolicy(ctx, acme, rempart.TenantPasswordPolicy{MaxAgeDays: ptr(0)}); code(err) != rempart.ENOTFOUND {
		t.Fatalf("another tenant's admin: got %v, want not found", err)
	}
	if got, err := tenantAdmin.PasswordPolicy(ctx, acme); err != nil || got != want {
		t.Fatalf("after the refusals: got %+v, %v; want the defaults", got, err)
	}

	// Longer passwords, no expiry.
	got, err = tenantAdmin.SetPasswordPolicy(ctx, acme, rempart.TenantPasswordPolicy{MinLength: ptr(14), MaxAgeDays: ptr(0)})
	if err != nil || got.MinLength != 14 || got.MaxAgeDays != 0 || got.History != 5 || got.Overrides.History != nil {
		t.Fatalf("set: got %+v, %v", got, err)
	}
	users, err := tenantAdmin.Users(ctx, acme)
	for _, u := range users {
		if u.ID == bob.ID && u.PasswordExpiresAt != nil {
			t.Errorf("bob's password expires at %v under a policy without expiry", u.PasswordExpiresAt)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := anon.ChangePassword(ctx, rempart.PasswordChange{Email: "bob@acme.example", Current: goodPassword, New: "Short-but-0k!"}); code(err) != rempart.EINVALID {
		t.Fatalf("a 13-character password under min_length 14: got %v, want invalid", err)
	}
	const longer = "Fourteen-chars-0k!"
	if err := anon.ChangePassword(ctx, rempart.PasswordChange{Email: "bob@acme.example", Current: goodPassword, New: longer}); err != nil {
		t.Fatalf("a longer password: %v", err)
	}

	// Expiry after 30 days, then off again.
	if _, err := tenantAdmin.SetPasswordPolicy(ctx, acme, rempart.TenantPasswordPolicy{MaxAgeDays: ptr(30)}); err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(31 * 24 * time.Hour)
	if _, err := anon.SignIn(ctx, rempart.SignIn{Email: "bob@acme.example", Password: longer}); code(err) != rempart.EFORBIDDEN || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("sign-in 31 days after the password under a 30-day expiry: got %v, want expired", err)
	}
	_, fresh := person(t, s, root, acme, "ann@acme.example", rempart.RoleAdmin)
	if _, err := fresh.SetPasswordPolicy(ctx, acme, rempart.TenantPasswordPolicy{MaxAgeDays: ptr(0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := anon.SignIn(ctx, rempart.SignIn{Email: "bob@acme.example", Password: longer}); err != nil {
		t.Fatalf("sign-in with expiry turned off: %v", err)
	}
	es, err := s.db.AuditLog(ctx, audit.Query{Action: "tenant.password_policy.update", Limit: 20})
	if err != nil || len(es) == 0 || es[len(es)-1].Reason != "min_length=10 max_age_days=0 history=5" || es[len(es)-1].TenantID != acme {
		t.Fatalf("audit of the last update: %+v, %v", es, err)
	}
}
