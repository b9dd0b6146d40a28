package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/guard"
	"github.com/rempart/rempart/identity"
	"github.com/rempart/rempart/internal/testclock"
	"github.com/rempart/rempart/keys"
	"github.com/rempart/rempart/vault"
)

// TestTenantDeletionLeavesNothing: deleting a tenant at contract end removes
// every row of it from every table — records, attachments and their purge
// queue, keys and its own key's binding, service accounts and keys, people,
// their sessions, invitations and password history — but its audit trail
// and the note that its objects are still to be removed (GOV-5, BCK-3).
func TestTenantDeletionLeavesNothing(t *testing.T) {
	dialects(t, func(t *testing.T, open func(t *testing.T) *db.DB) {
		ctx := context.Background()
		d := open(t)
		s := newTenant(t, d, "Leaving Co")
		ten := s.TenantID()
		now := time.Now().UTC()
		for _, id := range []string{"r1", "r2"} {
			if _, _, err := d.CreateRecord(ctx, s, entry("record.create"), row("calls", id, now), nil); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range []string{"a1", "a2"} {
			if err := d.CreateAttachment(ctx, s, entry("attachment.create"), attachmentRow("r1", id, now), 10); err != nil {
				t.Fatal(err)
			}
		}
		old := now.Add(-time.Hour)
		if _, err := d.SetAttachmentDeleted(ctx, s, entry("attachment.delete"), "calls", "r1", "a2", &old, func(vault.AttachmentRow) error { return nil }); err != nil {
			t.Fatal(err)
		}
		due, err := d.PurgeableAttachments(ctx, now, now, 10)
		if err != nil || len(due) != 1 {
			t.Fatalf("purgeable: %v, %v", due, err)
		}
		if err := d.PurgeAttachment(ctx, entry("attachment.purge"), due[0].AttachmentRow, now, now); err != nil {
			t.Fatal(err)
		}
		ks, err := d.TenantKEKs(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.SetKEKWrapper(ctx, s, entry("key.tenant.customer_key.set"), keys.CustomerPrefix+"pkcs11:t/k", "pkcs11:token=t;object=k", ks); err != nil {
			t.Fatal(err)
		}
		// Its people and service accounts, through the identity service.
		clock := testclock.New(time.Now())
		id := identity.New(d, clock, identity.Config{})
		admin := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", Role: rempart.RoleSystemAdmin}}
		sa, err := id.CreateServiceAccount(ctx, admin, ten, rempart.ServiceAccountCreate{Name: "crm", Role: rempart.RoleWriter})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := id.CreateAPIKey(ctx, admin, ten, sa.ID, rempart.APIKeyCreate{}); err != nil {
			t.Fatal(err)
		}
		inv, err := id.Invite(ctx, admin, ten, rempart.InvitationCreate{Email: "ada@leaving.example", Role: rempart.RoleAdmin})
		if err == nil { // an admin: approved by a second person (IAM-10)
			second := rempart.Caller{Principal: rempart.Principal{ID: "sa_second", Role: rempart.RoleSystemAdmin}}
			inv, err = id.ApproveInvitation(ctx, second, ten, inv.ID, rempart.RoleChangeDecision{})
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := id.Invite(ctx, admin, ten, rempart.InvitationCreate{Email: "bob@leaving.example", Role: rempart.RoleReader}); err != nil {
			t.Fatal(err)
		}
		const pw = "Leaving-passw0rd!"
		if _, err := id.AcceptInvitation(ctx, rempart.Caller{}, rempart.InvitationAccept{Token: inv.Token, Name: "Ada", Password: pw}); err != nil {
			t.Fatal(err)
		}
		if _, err := id.SignIn(ctx, rempart.Caller{}, rempart.SignIn{Email: "ada@leaving.example", Password: pw}, rempart.SessionConsole); err != nil {
			t.Fatal(err)
		}
		// Single sign-on (IAM-5): a provider, its domain, a linked user.
		now2 := time.Now()
		prov := identity.SSOProviderRow{SSOProvider: rempart.SSOProvider{ID: "sso_leaving", TenantID: ten, Name: "IdP", Issuer: "https://idp.leaving.example",
			ClientID: "c", EmailDomains: []string{"leaving.example"}, DefaultRole: rempart.RoleReader, Enabled: true, CreatedAt: now2, UpdatedAt: now2}, SealedSecret: []byte("sealed")}
		if err := d.CreateSSOProvider(ctx, entry("sso.provider.create"), prov); err != nil {
			t.Fatal(err)
		}
		if err := d.ProvisionSSOUser(ctx, entry("user.provision"), identity.UserRow{User: rempart.User{ID: "usr_sso_leaving", TenantID: ten, Email: "sso@leaving.example",
			Name: "Sso", Role: rempart.RoleReader, Status: rempart.UserActive, CreatedAt: now2}},
			identity.SSOLink{Issuer: prov.Issuer, Subject: "s1", UserID: "usr_sso_leaving", ProviderID: prov.ID, CreatedAt: now2}); err != nil {
			t.Fatal(err)
		}

		before, err := d.TenantRowsForTest(ctx, ten)
		if err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"records", "attachments", "object_purges", "tenant_keys", "tenant_keks", "tenant_cmks", "principals", "api_keys", "users", "sessions", "invitations",
			"sso_providers", "sso_domains", "sso_identities"} {
			if before[table] == 0 {
				t.Errorf("the test wrote no row of the tenant in %s: it proves nothing there", table)
			}
		}
		del, err := guard.Authorize(admin, rempart.Tenant{ID: ten, Status: rempart.TenantActive}, guard.TenantsManage)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.DeleteTenant(ctx, del, entry("tenant.delete")); err != nil {
			t.Fatal(err)
		}
		after, err := d.TenantRowsForTest(ctx, ten)
		if err != nil {
			t.Fatal(err)
		}
		for table, n := range after {
			kept := table == "audit_entries" || table == "attachment_tenant_purges"
			if kept != (n > 0) {
				t.Errorf("%s: %d rows of the deleted tenant (before: %d)", table, n, before[table])
			}
		}
	})
}
