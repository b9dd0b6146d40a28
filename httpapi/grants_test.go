package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/client"
)

// TestGrantsOverTheAPI: staff people ask for and approve a grant over the
// API, the support person reads the tenant's record under it, the tenant's
// admin sees the grant and the access (access transparency), and revoking
// it ends access at once; without a grant the answer is 403 and a security
// event (IAM-7).
func TestGrantsOverTheAPI(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	adminCaller, adminKey := s.admin()
	acme := s.tenant(adminCaller, "Acme")
	root := client.New(s.srv.URL, client.WithAPIKey(adminKey))
	_, security := person(t, s, root, "", "sec@example.com", rempart.RoleSystemAdmin)
	supportUser, support := person(t, s, root, "", "support@example.com", rempart.RoleSupport)
	_, tenantAdmin := person(t, s, root, acme, "admin@acme.example", rempart.RoleAdmin)
	rec, err := tenantAdmin.CreateRecord(ctx, acme, "calls", map[string]string{"note": "hello"}, "")
	if err != nil {
		t.Fatal(err)
	}

	// No grant: 403 and a security event.
	if _, err := support.GetRecord(ctx, acme, "calls", rec.ID); code(err) != rempart.EFORBIDDEN {
		t.Fatalf("read without a grant: got %v, want forbidden", err)
	}
	events, err := s.db.AuditLog(ctx, audit.Query{Action: rempart.EventAccessWithoutGrant, Limit: 10})
	if err != nil || len(events) != 1 || events[0].PrincipalID != supportUser.ID || events[0].TenantID != acme {
		t.Fatalf("security events: %+v, %v", events, err)
	}

	if _, err := tenantAdmin.SetGrantSettings(ctx, acme, true); err != nil {
		t.Fatal(err)
	}
	g, err := support.RequestGrant(ctx, rempart.GrantCreate{TenantID: acme, Reason: "ticket 1234: the customer's call is missing", Scope: rempart.GrantRead, DurationMinutes: 30})
	if err != nil || g.Status != rempart.GrantPending || !g.TenantApprovalRequired {
		t.Fatalf("request: %+v, %v", g, err)
	}
	if _, err := support.ApproveGrant(ctx, g.ID); code(err) != rempart.EFORBIDDEN {
		t.Fatalf("the requester approves: got %v, want forbidden", err)
	}
	if g, err = security.ApproveGrant(ctx, g.ID); err != nil || g.Status != rempart.GrantPending {
		t.Fatalf("staff approval: %+v, %v", g, err)
	}
	if g, err = tenantAdmin.TenantApproveGrant(ctx, acme, g.ID); err != nil || g.Status != rempart.GrantActive {
		t.Fatalf("tenant approval: %+v, %v", g, err)
	}
	got, err := support.GetRecord(ctx, acme, "calls", rec.ID)
	if err != nil || got.ID != rec.ID {
		t.Fatalf("read under the grant: %+v, %v", got, err)
	}
	if _, err := support.CreateRecord(ctx, acme, "calls", map[string]int{"x": 1}, ""); code(err) != rempart.EFORBIDDEN {
		t.Fatalf("write under a read grant: got %v, want forbidden", err)
	}

	det, err := tenantAdmin.TenantGrant(ctx, acme, g.ID)
	if err != nil || len(det.Accesses) != 1 || det.Accesses[0].Action != "record.read" || det.Accesses[0].GrantID != g.ID || det.Accesses[0].PrincipalID != supportUser.ID {
		t.Fatalf("transparency: %+v, %v", det, err)
	}
	mine, err := support.Grants(ctx, "")
	if err != nil || len(mine) != 1 {
		t.Fatalf("the requester's grants: %+v, %v", mine, err)
	}

	if _, err := support.RevokeGrant(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := support.GetRecord(ctx, acme, "calls", rec.ID); code(err) != rempart.EFORBIDDEN {
		t.Fatalf("read after revocation: got %v, want forbidden", err)
	}

	// A grant expires by itself.
	g2, err := support.RequestGrant(ctx, rempart.GrantCreate{TenantID: acme, Reason: "ticket 1235: follow-up check", Scope: rempart.GrantRead, DurationMinutes: 15})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := security.ApproveGrant(ctx, g2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := tenantAdmin.TenantApproveGrant(ctx, acme, g2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := support.GetRecord(ctx, acme, "calls", rec.ID); err != nil {
		t.Fatal(err)
	}
	s.clock.Advance(15 * time.Minute)
	// The person's access token outlives the grant here; the grant does not.
	if _, err := support.GetRecord(ctx, acme, "calls", rec.ID); code(err) != rempart.EFORBIDDEN {
		t.Fatalf("read after expiry: got %v, want forbidden", err)
	}

	// Bad requests are refused at the edge with a clear error.
	if _, err := support.RequestGrant(ctx, rempart.GrantCreate{TenantID: acme, Reason: "short", Scope: rempart.GrantRead, DurationMinutes: 30}); code(err) != rempart.EINVALID {
		t.Fatalf("short reason: got %v", err)
	}
	var e *client.Error
	if _, err := support.RequestGrant(ctx, rempart.GrantCreate{TenantID: acme, Reason: "ticket 1236: a long enough reason", Scope: rempart.GrantRead, DurationMinutes: 481}); !errors.As(err, &e) || e.Status != http.StatusBadRequest {
		t.Fatalf("9-hour grant: got %v", err)
	}
}
