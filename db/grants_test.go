package db_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/grants"
	"github.com/rempart/rempart/internal/testclock"
	"github.com/rempart/rempart/keys"
	"github.com/rempart/rempart/vault"
)

// grantEnv is the data plane and the grants service over one database,
// with one clock, and a count of the grant lookups the data plane makes.
type grantEnv struct {
	d       *db.DB
	clock   *testclock.Clock
	v       *vault.Service
	g       *grants.Service
	lookups atomic.Int64
	ten     rempart.Tenant
	rec     string

	admin, otherAdmin, security, support, engineer, auditor rempart.Caller
}

func (e *grantEnv) ActiveGrants(ctx context.Context, principalID, tenantID string, now time.Time) ([]rempart.Grant, error) {
	e.lookups.Add(1)
	return e.d.ActiveGrants(ctx, principalID, tenantID, now)
}

func newGrantEnv(t testing.TB, dsn string) *grantEnv {
	t.Helper()
	ctx := context.Background()
	clock := testclock.New(time.Now())
	d, err := db.Open(ctx, db.Config{DSN: dsn, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	root, err := keys.CreateLocalFile(filepath.Join(t.TempDir(), "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	e := &grantEnv{d: d, clock: clock, g: grants.New(d, clock)}
	e.v = vault.New(d, keys.NewKeyring(root, 100), clock, vault.Config{Grants: e})
	e.security = rempart.Caller{Principal: rempart.Principal{ID: "usr_security", Role: rempart.RoleSystemAdmin}, RequestID: "req"}
	e.support = rempart.Caller{Principal: rempart.Principal{ID: "usr_support", Role: rempart.RoleSupport}, RequestID: "req"}
	e.engineer = rempart.Caller{Principal: rempart.Principal{ID: "usr_engineer", Role: rempart.RoleEngineer}, RequestID: "req"}
	e.auditor = rempart.Caller{Principal: rempart.Principal{ID: "usr_auditor", Role: rempart.RoleAuditor}, RequestID: "req"}
	e.ten, err = e.v.CreateTenant(ctx, e.security, "Grant Co")
	if err != nil {
		t.Fatal(err)
	}
	other, err := e.v.CreateTenant(ctx, e.security, "Other Co")
	if err != nil {
		t.Fatal(err)
	}
	e.admin = rempart.Caller{Principal: rempart.Principal{ID: "usr_admin", TenantID: e.ten.ID, Role: rempart.RoleAdmin}}
	e.otherAdmin = rempart.Caller{Principal: rempart.Principal{ID: "usr_other", TenantID: other.ID, Role: rempart.RoleAdmin}}
	rec, _, err := e.v.CreateRecord(ctx, e.admin, e.ten.ID, "calls", []byte(`{"n":1}`), "")
	if err != nil {
		t.Fatal(err)
	}
	e.rec = rec.ID
	if n := e.lookups.Load(); n != 0 {
		t.Fatalf("a tenant principal's access looked up grants %d times: it must cost no extra query", n)
	}
	return e
}

func (e *grantEnv) request(t testing.TB, c rempart.Caller, scope string) rempart.Grant {
	t.Helper()
	g, err := e.g.Request(context.Background(), c, rempart.GrantCreate{TenantID: e.ten.ID, Reason: "ticket 4521: customer cannot see call", Scope: scope, DurationMinutes: 60})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func (e *grantEnv) read(c rempart.Caller) error {
	_, err := e.v.GetRecord(context.Background(), c, e.ten.ID, "calls", e.rec)
	return err
}

func (e *grantEnv) write(c rempart.Caller) error {
	_, _, err := e.v.CreateRecord(context.Background(), c, e.ten.ID, "calls", []byte(`{"n":2}`), "")
	return err
}

// entriesSince returns the audit entries appended from index from.
func (e *grantEnv) entriesSince(t *testing.T, from uint64) []rempart.AuditEntry {
	t.Helper()
	out, err := e.d.AuditLog(context.Background(), audit.Query{Start: from, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *grantEnv) size(t *testing.T) uint64 {
	t.Helper()
	n, _, err := e.d.AuditTree(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// checkNoGrantDenial checks that a refused staff access left a denial and a
// security event (IAM-7).
func (e *grantEnv) checkNoGrantDenial(t *testing.T, err error, from uint64, who string) {
	t.Helper()
	if rempart.ErrorCode(err) != rempart.EFORBIDDEN {
		t.Fatalf("access without a covering grant: got %v, want forbidden", err)
	}
	var event, denial bool
	for _, a := range e.entriesSince(t, from) {
		if a.PrincipalID != who {
			continue
		}
		event = event || a.Action == rempart.EventAccessWithoutGrant && a.Outcome == rempart.OutcomeDenied && a.TenantID == e.ten.ID
		denial = denial || a.Action != rempart.EventAccessWithoutGrant && a.Outcome == rempart.OutcomeDenied && a.GrantID == ""
	}
	if !event || !denial {
		t.Fatalf("refused access: security event %v, audited denial %v; want both", event, denial)
	}
}

// TestGrants runs staff just-in-time access through the grants service,
// the data plane and the store on both dialects (IAM-7).
func TestGrants(t *testing.T) {
	places(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		e := newGrantEnv(t, dsn)

		// No standing access: staff of every role are refused records, with a
		// security event.
		for _, c := range []rempart.Caller{e.security, e.support, e.engineer, e.auditor} {
			from := e.size(t)
			e.checkNoGrantDenial(t, e.read(c), from, c.Principal.ID)
		}

		// Requests are validated and need the right role.
		bad := []rempart.GrantCreate{
			{TenantID: e.ten.ID, Reason: "too short", Scope: "read", DurationMinutes: 60},
			{TenantID: e.ten.ID, Reason: "ticket 4521: customer", Scope: "admin", DurationMinutes: 60},
			{TenantID: e.ten.ID, Reason: "ticket 4521: customer", Scope: "read", DurationMinutes: 14},
			{TenantID: e.ten.ID, Reason: "ticket 4521: customer", Scope: "read", DurationMinutes: 8*60 + 1},
		}
		for _, in := range bad {
			if _, err := e.g.Request(ctx, e.support, in); rempart.ErrorCode(err) != rempart.EINVALID {
				t.Errorf("request %+v: got %v, want invalid", in, err)
			}
		}
		if _, err := e.g.Request(ctx, e.support, rempart.GrantCreate{TenantID: e.ten.ID, Reason: "ticket 4521: fix the data", Scope: "write", DurationMinutes: 60}); rempart.ErrorCode(err) != rempart.EFORBIDDEN {
			t.Errorf("support asks for write: got %v, want forbidden", err)
		}
		for _, c := range []rempart.Caller{e.security, e.auditor, e.admin} {
			if _, err := e.g.Request(ctx, c, rempart.GrantCreate{TenantID: e.ten.ID, Reason: "ticket 4521: customer", Scope: "read", DurationMinutes: 60}); rempart.ErrorCode(err) != rempart.EFORBIDDEN {
				t.Errorf("%s asks for a grant: got %v, want forbidden", c.Principal.Role, err)
			}
		}

		// Requested: not yet active.
		g := e.request(t, e.support, rempart.GrantRead)
		if g.Status != rempart.GrantPending {
			t.Fatalf("new grant: status %s", g.Status)
		}
		from := e.size(t)
		e.checkNoGrantDenial(t, e.read(e.support), from, e.support.Principal.ID)

		// The requester never approves: neither with its role, nor after a
		// change of role with the approve permission.
		if _, err := e.g.Approve(ctx, e.support, g.ID); rempart.ErrorCode(err) != rempart.EFORBIDDEN {
			t.Fatalf("requester approves: got %v, want forbidden", err)
		}
		promoted := e.support
		promoted.Principal.Role = rempart.RoleSystemAdmin
		if _, err := e.g.Approve(ctx, promoted, g.ID); rempart.ErrorCode(err) != rempart.EFORBIDDEN {
			t.Fatalf("requester with the approve permission approves its own grant: got %v, want forbidden", err)
		}
		if _, err := e.g.Approve(ctx, e.auditor, g.ID); rempart.ErrorCode(err) != rempart.EFORBIDDEN {
			t.Fatalf("auditor approves: got %v, want forbidden", err)
		}

		// A second staff member approves: active for its duration.
		g, err := e.g.Approve(ctx, e.security, g.ID)
		if err != nil || g.Status != rempart.GrantActive || g.ApprovedBy != e.security.Principal.ID || !g.ExpiresAt.Equal(g.ActiveFrom.Add(time.Hour)) {
			t.Fatalf("approve: %+v, %v", g, err)
		}
		from = e.size(t)
		if err := e.read(e.support); err != nil {
			t.Fatalf("read under an active grant: %v", err)
		}
		var read *rempart.AuditEntry
		for _, a := range e.entriesSince(t, from) {
			if a.Action == "record.read" {
				read = &a
			}
		}
		if read == nil || read.GrantID != g.ID || read.PrincipalID != e.support.Principal.ID || read.Outcome != rempart.OutcomeSuccess {
			t.Fatalf("audit entry of the access: %+v, want one naming grant %s", read, g.ID)
		}

		// A read grant does not write.
		from = e.size(t)
		e.checkNoGrantDenial(t, e.write(e.support), from, e.support.Principal.ID)
		// Nor does it reach another tenant.
		if _, err := e.v.GetRecord(ctx, e.support, e.otherAdmin.Principal.TenantID, "calls", e.rec); rempart.ErrorCode(err) != rempart.EFORBIDDEN {
			t.Fatalf("grant used on another tenant: got %v, want forbidden", err)
		}

		// Access transparency: the tenant's admin sees the grant and the
		// access; another tenant's admin sees nothing of it.
		list, err := e.g.TenantGrants(ctx, e.admin, e.ten.ID)
		if err != nil || len(list) != 1 || list[0].ID != g.ID || list[0].Status != rempart.GrantActive {
			t.Fatalf("tenant's grants: %+v, %v", list, err)
		}
		det, err := e.g.TenantGrant(ctx, e.admin, e.ten.ID, g.ID)
		if err != nil || len(det.Accesses) != 1 || det.Accesses[0].Action != "record.read" || det.Accesses[0].GrantID != g.ID {
			t.Fatalf("accesses under the grant: %+v, %v", det, err)
		}
		if _, err := e.g.TenantGrant(ctx, e.otherAdmin, e.ten.ID, g.ID); rempart.ErrorCode(err) != rempart.ENOTFOUND {
			t.Fatalf("another tenant's admin reads the grant: got %v, want not found", err)
		}
		if _, err := e.g.TenantGrant(ctx, e.otherAdmin, e.otherAdmin.Principal.TenantID, g.ID); rempart.ErrorCode(err) != rempart.ENOTFOUND {
			t.Fatalf("a grant through another tenant's path: got %v, want not found", err)
		}

		// Revocation stops access at once.
		if _, err := e.g.TenantRevoke(ctx, e.admin, e.ten.ID, g.ID); err != nil {
			t.Fatal(err)
		}
		from = e.size(t)
		e.checkNoGrantDenial(t, e.read(e.support), from, e.support.Principal.ID)
		if _, err := e.g.Revoke(ctx, e.security, g.ID); rempart.ErrorCode(err) != rempart.ECONFLICT {
			t.Fatalf("revoking a revoked grant: got %v, want conflict", err)
		}

		// A write grant reads and writes, until it expires by itself.
		w := e.request(t, e.engineer, rempart.GrantWrite)
		if _, err := e.g.Approve(ctx, e.security, w.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.write(e.engineer); err != nil {
			t.Fatalf("write under a write grant: %v", err)
		}
		if err := e.read(e.engineer); err != nil {
			t.Fatalf("read under a write grant: %v", err)
		}
		e.clock.Advance(time.Hour)
		from = e.size(t)
		e.checkNoGrantDenial(t, e.read(e.engineer), from, e.engineer.Principal.ID)
		if got, _ := e.g.Get(ctx, e.security, w.ID); got.Status != rempart.GrantExpired {
			t.Fatalf("grant past its time: status %s, want expired", got.Status)
		}
		det, err = e.g.TenantGrant(ctx, e.admin, e.ten.ID, w.ID)
		if err != nil || len(det.Accesses) != 2 {
			t.Fatalf("accesses under the write grant: %+v, %v", det.Accesses, err)
		}

		// A tenant that requires its approval: active only once both approve.
		if _, err := e.g.SetSettings(ctx, e.admin, e.ten.ID, rempart.GrantSettings{RequireApproval: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.g.SetSettings(ctx, e.otherAdmin, e.ten.ID, rempart.GrantSettings{}); rempart.ErrorCode(err) != rempart.ENOTFOUND {
			t.Fatalf("another tenant's admin sets the rule: got %v", err)
		}
		tg := e.request(t, e.support, rempart.GrantRead)
		if !tg.TenantApprovalRequired {
			t.Fatal("grant on a tenant that requires its approval does not say so")
		}
		if tg, err = e.g.Approve(ctx, e.security, tg.ID); err != nil || tg.Status != rempart.GrantPending {
			t.Fatalf("staff approval alone: %+v, %v; want pending", tg, err)
		}
		from = e.size(t)
		e.checkNoGrantDenial(t, e.read(e.support), from, e.support.Principal.ID)
		if _, err := e.g.TenantApprove(ctx, e.otherAdmin, e.otherAdmin.Principal.TenantID, tg.ID); rempart.ErrorCode(err) != rempart.ENOTFOUND {
			t.Fatalf("another tenant approves: got %v, want not found", err)
		}
		if tg, err = e.g.TenantApprove(ctx, e.admin, e.ten.ID, tg.ID); err != nil || tg.Status != rempart.GrantActive {
			t.Fatalf("tenant approval: %+v, %v; want active", tg, err)
		}
		if err := e.read(e.support); err != nil {
			t.Fatalf("read once both approved: %v", err)
		}

		// Denied grants never become active; undecided requests lapse.
		dg := e.request(t, e.engineer, rempart.GrantRead)
		if dg, err = e.g.Deny(ctx, e.security, dg.ID); err != nil || dg.Status != rempart.GrantDenied {
			t.Fatalf("deny: %+v, %v", dg, err)
		}
		if _, err := e.g.TenantApprove(ctx, e.admin, e.ten.ID, dg.ID); rempart.ErrorCode(err) != rempart.ECONFLICT {
			t.Fatalf("approving a denied grant: got %v, want conflict", err)
		}
		lg := e.request(t, e.engineer, rempart.GrantRead)
		e.clock.Advance(rempart.GrantRequestTTL)
		if _, err := e.g.Approve(ctx, e.security, lg.ID); rempart.ErrorCode(err) != rempart.ECONFLICT {
			t.Fatalf("approving a lapsed request: got %v, want conflict", err)
		}

		// Staff see grants: all for the security admin and auditors, one's
		// own for requesters.
		all, err := e.g.List(ctx, e.auditor, "")
		if err != nil || len(all) != 5 {
			t.Fatalf("auditor's list: %d grants, %v", len(all), err)
		}
		own, err := e.g.List(ctx, e.support, "")
		if err != nil || len(own) != 2 {
			t.Fatalf("requester's list: %d grants, %v", len(own), err)
		}
		if _, err := e.g.Get(ctx, e.support, w.ID); rempart.ErrorCode(err) != rempart.ENOTFOUND {
			t.Fatalf("requester reads another's grant: got %v, want not found", err)
		}
		if _, err := e.g.List(ctx, e.admin, ""); rempart.ErrorCode(err) != rempart.EFORBIDDEN {
			t.Fatalf("tenant admin lists staff grants: got %v, want forbidden", err)
		}

		// Every step is in the trail, and the log still verifies.
		steps := map[string]bool{}
		for _, a := range e.entriesSince(t, 0) {
			if a.Outcome == rempart.OutcomeSuccess {
				steps[a.Action] = true
			}
		}
		for _, a := range []string{"grant.request", "grant.approve", "grant.tenant_approve", "grant.deny", "grant.revoke", "grant.settings.set", "grant.read", "grant.list"} {
			if !steps[a] {
				t.Errorf("no audit entry %s", a)
			}
		}
		if e.lookups.Load() == 0 {
			t.Fatal("staff accesses made no grant lookup")
		}
		// Tenant principals' reads and writes cost no grant lookup.
		before := e.lookups.Load()
		if err := e.read(e.admin); err != nil {
			t.Fatal(err)
		}
		if err := e.write(e.admin); err != nil {
			t.Fatal(err)
		}
		if n := e.lookups.Load() - before; n != 0 {
			t.Fatalf("a tenant principal's accesses made %d grant lookups, want none", n)
		}
	})
}

// TestGrantIDInTheVerifiedLog: the grant ID of an access is part of the
// hashed entry: `rempart audit verify` accepts a log holding entries with
// and without it, and catches a grant ID changed afterwards (AUD-2, IAM-7).
func TestGrantIDInTheVerifiedLog(t *testing.T) {
	ctx := context.Background()
	e := newGrantEnv(t, "sqlite:"+filepath.Join(t.TempDir(), "test.db"))
	g := e.request(t, e.support, rempart.GrantRead)
	if _, err := e.g.Approve(ctx, e.security, g.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.read(e.support); err != nil {
		t.Fatal(err)
	}
	skey, _, err := audit.GenerateKey("test/rempart")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := audit.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	log := audit.NewLog(e.d, signer)
	var buf bytes.Buffer
	if err := log.Export(ctx, e.auditor, &buf); err != nil {
		t.Fatal(err)
	}
	export := buf.String()
	if !strings.Contains(export, `"grant_id":"`+g.ID+`"`) || !strings.Contains(export, `"action":"tenant.create"`) {
		t.Fatal("the export lacks the entry under the grant or the entries without one")
	}
	rep, err := audit.Verify(strings.NewReader(export), log.VerifierKey(), nil)
	if err != nil || !rep.OK {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
	forged := strings.Replace(export, `"grant_id":"`+g.ID+`"`, `"grant_id":"grt_forged000"`, 1)
	if rep, err := audit.Verify(strings.NewReader(forged), log.VerifierKey(), nil); err == nil && rep.OK {
		t.Fatal("a changed grant ID verifies")
	}
}

// BenchmarkGrantedRead compares a record read by a tenant principal (no
// grant lookup) with the same read by staff under a grant (one indexed
// query more).
func BenchmarkGrantedRead(b *testing.B) {
	ctx := context.Background()
	e := newGrantEnv(b, "sqlite:"+filepath.Join(b.TempDir(), "test.db"))
	g, err := e.g.Request(ctx, e.support, rempart.GrantCreate{TenantID: e.ten.ID, Reason: "benchmark of reads under a grant", Scope: rempart.GrantRead, DurationMinutes: 480})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.g.Approve(ctx, e.security, g.ID); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		caller rempart.Caller
	}{{"tenant", e.admin}, {"staff-under-grant", e.support}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if err := e.read(c.caller); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
