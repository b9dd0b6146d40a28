package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/client"
)

// TestServiceAccountPrivilegedRole: a service account cannot be created
// with a privileged role, which would grant access without a second person
// (IAM-10); the refusal is audited and says the way: create it with a
// records role, then a role change that another administrator approves.
func TestServiceAccountPrivilegedRole(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	admin, adminKey := s.admin()
	tenant := s.tenant(admin, "Acme")
	_, _, key := s.account(admin, tenant, "it-admin", rempart.RoleAdmin, 0)
	ta := client.New(s.srv.URL, client.WithAPIKey(key))

	// Neither the tenant's admin nor the system administrator can skip it.
	for who, c := range map[string]*client.Client{"tenant admin": ta, "system admin": ta.WithKey(adminKey)} {
		_, err := c.CreateServiceAccount(ctx, tenant, rempart.ServiceAccountCreate{Name: "robot", Role: rempart.RoleAdmin})
		if code(err) != rempart.EINVALID || !strings.Contains(rempart.ErrorMessage(err), "request the role change") {
			t.Fatalf("%s creating an admin service account: got %v, want invalid, pointing to a role change", who, err)
		}
		if e := s.lastAudit("service_account.create"); e.Outcome != rempart.OutcomeDenied {
			t.Fatalf("%s: the refusal is not audited as denied: %+v", who, e)
		}
	}

	// The way that exists: a writer, then a change to admin that the
	// requester cannot approve and another administrator can.
	sa, err := ta.CreateServiceAccount(ctx, tenant, rempart.ServiceAccountCreate{Name: "robot", Role: rempart.RoleWriter})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := ta.RequestRoleChange(ctx, tenant, rempart.RoleChangeCreate{PrincipalID: sa.ID, Role: rempart.RoleAdmin, Reason: "manages the CRM sync's accounts"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ta.ApproveRoleChange(ctx, tenant, rc.ID, rempart.RoleChangeDecision{}); code(err) != rempart.EFORBIDDEN {
		t.Fatalf("the requester approving: got %v, want forbidden", err)
	}
	if _, err := ta.WithKey(adminKey).ApproveRoleChange(ctx, tenant, rc.ID, rempart.RoleChangeDecision{Note: "ok"}); err != nil {
		t.Fatal(err)
	}
	as, err := ta.ListServiceAccounts(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	role := ""
	for _, a := range as {
		if a.ID == sa.ID {
			role = a.Role
		}
	}
	if role != rempart.RoleAdmin {
		t.Fatalf("after approval the account's role is %q, want admin", role)
	}
}
