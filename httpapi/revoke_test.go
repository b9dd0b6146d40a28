package httpapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/client"
	"github.com/rempart/rempart/identity/totp"
)

// TestRevokeAccess: offboarding a staff member revokes, in one action and
// at once, every session and access token, the personal API key, the
// second factor and recovery codes, the active grant and the password, and
// the audit entry says so; a tenant admin cuts off a suspected compromise
// of the tenant's user, and cannot reach another tenant's (IAM-8, PPL-3,
// TEN-1).
func TestRevokeAccess(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	adminCaller, adminKey := s.admin()
	acme, other := s.tenant(adminCaller, "Acme"), s.tenant(adminCaller, "Other")
	root := client.New(s.srv.URL, client.WithAPIKey(adminKey))
	anon := client.New(s.srv.URL)
	_, security := person(t, s, root, "", "sec@example.com", rempart.RoleSystemAdmin)
	sam, support := person(t, s, root, "", "sam@example.com", rempart.RoleSupport)
	_, tenantAdmin := person(t, s, root, acme, "admin@acme.example", rempart.RoleAdmin)
	bob, bobClient := person(t, s, root, acme, "bob@acme.example", rempart.RoleWriter)
	_, otherAdmin := person(t, s, root, other, "admin@other.example", rempart.RoleAdmin)
	rec, err := tenantAdmin.CreateRecord(ctx, acme, "calls", map[string]string{"note": "hello"}, "")
	if err != nil {
		t.Fatal(err)
	}

	// Sam works under an approved grant, from two sessions.
	g, err := support.RequestGrant(ctx, rempart.GrantCreate{TenantID: acme, Reason: "ticket 77: a call recording is missing", Scope: rempart.GrantRead, DurationMinutes: 60})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := security.ApproveGrant(ctx, g.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := support.GetRecord(ctx, acme, "calls", rec.ID); err != nil {
		t.Fatalf("read under the grant: %v", err)
	}
	s.clock.Advance(30 * time.Second)
	second, err := anon.SignIn(ctx, rempart.SignIn{Email: "sam@example.com", Password: goodPassword, Code: totp.Code(s.totp["sam@example.com"], s.clock.Now())})
	if err != nil {
		t.Fatal(err)
	}
	laptop := anon.WithKey(second.Token)
	if codes, err := s.db.RecoveryCodes(ctx, sam.ID); err != nil || len(codes) != 10 {
		t.Fatalf("recovery codes before: %d, %v", len(codes), err)
	}

	// And a personal API key, made from the session that proved a factor.
	samKey, err := laptop.CreatePersonalKey(ctx, rempart.PersonalKeyCreate{Name: "scripts", ExpiresInDays: 30})
	if err != nil {
		t.Fatal(err)
	}
	scripts := client.New(s.srv.URL, client.WithAPIKey(samKey.Secret))
	if _, err := scripts.Me(ctx); err != nil {
		t.Fatal(err)
	}

	// Refusals first: no reason, an unknown kind, another tenant's user.
	if _, err := root.RevokeAccess(ctx, "", sam.ID, rempart.RevocationRequest{Kind: rempart.RevokeOffboard, Reason: "left"}); code(err) != rempart.EINVALID {
		t.Fatalf("a reason too short: got %v, want invalid", err)
	}
	if _, err := root.RevokeAccess(ctx, "", sam.ID, rempart.RevocationRequest{Kind: "fired", Reason: "left the company today"}); code(err) != rempart.EINVALID {
		t.Fatalf("an unknown kind: got %v, want invalid", err)
	}
	if _, err := otherAdmin.RevokeAccess(ctx, acme, bob.ID, rempart.RevocationRequest{Kind: rempart.RevokeCompromise, Reason: "someone else's user"}); code(err) != rempart.ENOTFOUND {
		t.Fatalf("another tenant's admin: got %v, want not found", err)
	}
	if _, err := otherAdmin.RevokeAccess(ctx, other, bob.ID, rempart.RevocationRequest{Kind: rempart.RevokeCompromise, Reason: "someone else's user"}); code(err) != rempart.ENOTFOUND {
		t.Fatalf("another tenant's user through one's own tenant: got %v, want not found", err)
	}
	if _, err := bobClient.Me(ctx); err != nil {
		t.Fatalf("bob after the refusals: %v", err)
	}

	// Offboarding.
	r, err := root.RevokeAccess(ctx, "", sam.ID, rempart.RevocationRequest{Kind: rempart.RevokeOffboard, Reason: "left the company on 2026-11-24"})
	if err != nil {
		t.Fatal(err)
	}
	want := rempart.Revocation{UserID: sam.ID, Kind: rempart.RevokeOffboard, Reason: "left the company on 2026-11-24", At: r.At,
		Sessions: 2, Factors: 1, RecoveryCodes: 10, Grants: 1, PersonalKeys: 1, PasswordCleared: true}
	if r != want {
		t.Fatalf("revocation: got %+v, want %+v", r, want)
	}
	for name, c := range map[string]*client.Client{"first session": support, "second session": laptop, "personal key": scripts} {
		if _, err := c.Me(ctx); code(err) != rempart.EUNAUTHORIZED {
			t.Errorf("%s after offboarding: got %v, want unauthorized", name, err)
		}
	}
	if _, err := anon.SignIn(ctx, rempart.SignIn{Email: "sam@example.com", Password: goodPassword}); code(err) != rempart.EUNAUTHORIZED {
		t.Errorf("sign-in after offboarding: got %v, want unauthorized", err)
	}
	if g, err := security.Grant(ctx, g.ID); err != nil || g.Status != rempart.GrantRevoked {
		t.Errorf("grant after offboarding: %+v, %v", g, err)
	}
	if fs, err := s.db.Factors(ctx, sam.ID); err != nil || len(fs) != 0 {
		t.Errorf("second factors after offboarding: %d, %v", len(fs), err)
	}
	if codes, err := s.db.RecoveryCodes(ctx, sam.ID); err != nil || len(codes) != 0 {
		t.Errorf("recovery codes after offboarding: %d, %v", len(codes), err)
	}
	if u, err := s.db.User(ctx, sam.ID); err != nil || u.Status != rempart.UserSuspended || u.PasswordHash != "" {
		t.Errorf("user after offboarding: status %q, password kept %v, %v", u.Status, u.PasswordHash != "", err)
	}
	es, err := s.db.AuditLog(ctx, audit.Query{Action: "user.offboard", Limit: 10})
	// The refused attempt with a short reason, then the offboarding.
	if err != nil || len(es) != 2 || es[0].Outcome != rempart.OutcomeDenied {
		t.Fatalf("offboarding entries: %+v, %v", es, err)
	}
	if e := es[1]; e.Outcome != rempart.OutcomeSuccess || !strings.Contains(e.Reason, "left the company on 2026-11-24") ||
		!strings.Contains(e.Reason, "revoked 2 sessions, 1 second factors, 10 recovery codes, 1 grants, 1 personal API keys, the password") {
		t.Errorf("offboarding entry: %+v", e)
	}

	// What sam did, for the investigation: the whole log filtered by
	// principal holds only sam's entries, the grant's read among them.
	list, err := root.AuditEntries(ctx, client.AuditOptions{Principal: sam.ID, Limit: 1000})
	if err != nil || len(list.Entries) == 0 {
		t.Fatalf("sam's entries: %+v, %v", list, err)
	}
	reads := 0
	for _, e := range list.Entries {
		if e.PrincipalID != sam.ID {
			t.Fatalf("an entry of %s in sam's: %+v", e.PrincipalID, e)
		}
		if e.Action == "record.read" && e.GrantID == g.ID {
			reads++
		}
	}
	if reads != 1 {
		t.Errorf("sam's reads under the grant: %d, want 1", reads)
	}
	if _, err := root.AuditEntries(ctx, client.AuditOptions{Principal: "' OR 1=1"}); code(err) != rempart.EINVALID {
		t.Errorf("a malformed principal filter: got %v, want invalid", err)
	}

	// A suspected compromise of a tenant user, by the tenant's admin: the
	// password stays (the person resets it with an administrator).
	r, err = tenantAdmin.RevokeAccess(ctx, acme, bob.ID, rempart.RevocationRequest{Kind: rempart.RevokeCompromise, Reason: "token seen in a public paste"})
	if err != nil || r.Sessions != 1 || r.PasswordCleared || r.Kind != rempart.RevokeCompromise {
		t.Fatalf("compromise: %+v, %v", r, err)
	}
	if _, err := bobClient.Me(ctx); code(err) != rempart.EUNAUTHORIZED {
		t.Errorf("bob after the compromise action: got %v, want unauthorized", err)
	}
	if _, err := tenantAdmin.Me(ctx); err != nil {
		t.Errorf("the tenant admin after revoking bob: %v", err)
	}
	// The tenant's admin reads bob's part of the tenant's trail.
	bobs, err := tenantAdmin.TenantAudit(ctx, acme, client.AuditOptions{Principal: bob.ID, Limit: 1000})
	if err != nil || len(bobs.Entries) == 0 {
		t.Fatalf("bob's entries in the tenant's trail: %+v, %v", bobs, err)
	}
	for _, e := range bobs.Entries {
		if e.PrincipalID != bob.ID || e.TenantID != acme {
			t.Fatalf("an entry that is not bob's in acme: %+v", e)
		}
	}
}
