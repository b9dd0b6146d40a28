package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/vault"
)

// TestRetentionBoundsSettings checks that retention-min and retention-max
// bound tenants' rules, and that inverted bounds refuse to start.
func TestRetentionBoundsSettings(t *testing.T) {
	m := NewMain(io.Discard, io.Discard)
	if err := m.ParseFlags([]string{"--data-dir", t.TempDir(), "--retention-min", "240h", "--retention-max", "48h"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "retention-min") {
		m.Close()
		t.Fatalf("inverted bounds: got %v, want a refusal", err)
	}
	m.Close()

	m, _ = startMain(t, filepath.Join(t.TempDir(), "data"), "--retention-min", "168h", "--retention-max", "8760h", "--backup-schedule", "off", "--restore-test-schedule", "off")
	ctx := context.Background()
	ten, err := m.Vault.CreateTenant(ctx, rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", Role: rempart.RoleSystemAdmin}}, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	admin := rempart.Caller{Principal: rempart.Principal{ID: "sa_a", TenantID: ten.ID, Role: rempart.RoleAdmin}}
	for _, days := range []int{6, 366} {
		_, err := m.Vault.SetRetentionRule(ctx, admin, ten.ID, "calls", vault.RuleBody(rempart.RetentionRuleSet{RestorableDays: days}))
		if rempart.ErrorCode(err) != rempart.EINVALID || !strings.Contains(rempart.ErrorMessage(err), "between 7 and 365") {
			t.Errorf("%d days: got %v, want invalid naming the bounds", days, err)
		}
	}
	if _, err := m.Vault.SetRetentionRule(ctx, admin, ten.ID, "calls", vault.RuleBody(rempart.RetentionRuleSet{RestorableDays: 7, MaxAgeDays: 365})); err != nil {
		t.Errorf("a rule at the bounds: %v", err)
	}
}
