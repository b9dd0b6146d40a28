package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rempart/rempart"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/identity/password"
)

// TestTenantPasswordPolicyStore: a tenant's overrides round-trip, absent
// ones stay absent (inherit), a replacement clears what it leaves out, and
// another tenant keeps none (IAM-3), on both dialects.
func TestTenantPasswordPolicyStore(t *testing.T) {
	dialects(t, func(t *testing.T, open func(t *testing.T) *db.DB) {
		ctx := context.Background()
		d := open(t)
		ten := newTenant(t, d, "Acme").TenantID()
		e := rempart.AuditEntry{TenantID: ten, PrincipalID: "sa_admin", Action: "tenant.password_policy.update", Outcome: rempart.OutcomeSuccess}
		if got, err := d.TenantPasswordPolicy(ctx, ten); err != nil || got != (password.TenantPolicy{}) {
			t.Fatalf("unset: %+v, %v", got, err)
		}
		n, age := 14, time.Duration(0)
		if err := d.SetTenantPasswordPolicy(ctx, e, ten, password.TenantPolicy{MinLength: &n, MaxAge: &age}); err != nil {
			t.Fatal(err)
		}
		got, err := d.TenantPasswordPolicy(ctx, ten)
		if err != nil || !cmp.Equal(got, password.TenantPolicy{MinLength: &n, MaxAge: &age}) {
			t.Fatalf("set: %+v, %v", got, err)
		}
		h, age2 := 8, 45*24*time.Hour
		if err := d.SetTenantPasswordPolicy(ctx, e, ten, password.TenantPolicy{MaxAge: &age2, History: &h}); err != nil {
			t.Fatal(err)
		}
		got, err = d.TenantPasswordPolicy(ctx, ten)
		if err != nil || !cmp.Equal(got, password.TenantPolicy{MaxAge: &age2, History: &h}) {
			t.Fatalf("replaced: %+v, %v", got, err)
		}
		if other, err := d.TenantPasswordPolicy(ctx, newTenant(t, d, "Other").TenantID()); err != nil || other != (password.TenantPolicy{}) {
			t.Fatalf("another tenant: %+v, %v", other, err)
		}
	})
}
