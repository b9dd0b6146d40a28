package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/jobs"
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

// TestPurgeIsAScheduledJob: the purge runs as a job of the purge-interval
// schedule, so that one node, not every node, purges each period (BCK-3).
func TestPurgeIsAScheduledJob(t *testing.T) {
	m, _ := startMain(t, filepath.Join(t.TempDir(), "data"), "--purge-interval", "1h", "--backup-schedule", "off", "--restore-test-schedule", "off")
	ctx := context.Background()
	auditor := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", Role: rempart.RoleSystemAdmin}}
	deadline := time.Now().Add(20 * time.Second)
	for {
		list, err := m.Jobs.List(ctx, auditor, jobs.Query{Kind: jobPurge})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Jobs) == 1 && list.Jobs[0].Status == "done" && strings.HasPrefix(list.Jobs[0].UniqueKey, jobPurge+":") {
			return
		}
		if len(list.Jobs) > 1 || time.Now().After(deadline) {
			t.Fatalf("purge jobs: got %+v, want the period's one, done", list.Jobs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
