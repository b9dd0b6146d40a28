package db_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/identity"
	"github.com/rempart/rempart/internal/testclock"
)

// TestInvitationApproval runs the approval of invitations for privileged
// roles (IAM-10) through the identity service on both dialects: the staff
// before its first administrator, then a held invitation refused to its inviter, to a tenant
// admin, to another tenant and without step-up, approved by another
// administrator and accepted; a rejected and an expired one never usable; a
// writer's invitation as before; every step and refusal audited.
func TestInvitationApproval(t *testing.T) {
	dialects(t, func(t *testing.T, open func(t *testing.T) *db.DB) {
		ctx := context.Background()
		d := open(t)
		clock := testclock.New(time.Now())
		id := identity.New(d, clock, identity.Config{})
		admin := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", Role: rempart.RoleSystemAdmin}}
		second := rempart.Caller{Principal: rempart.Principal{ID: "sa_second", Role: rempart.RoleSystemAdmin}}
		ta, tb := newTenant(t, d, "Approval A").TenantID(), newTenant(t, d, "Approval B").TenantID()
		tenantAdmin := rempart.Caller{Principal: rempart.Principal{ID: "sa_tadmin", TenantID: ta, Role: rempart.RoleAdmin}}
		otherAdmin := rempart.Caller{Principal: rempart.Principal{ID: "sa_badmin", TenantID: tb, Role: rempart.RoleAdmin}}
		const pw = "Approval-passw0rd-ok"
		accept := func(token, name string) (rempart.User, error) {
			return id.AcceptInvitation(ctx, rempart.Caller{}, rempart.InvitationAccept{Token: token, Name: name, Password: pw})
		}
		wantCode := func(what string, err error, code string) {
			t.Helper()
			if rempart.ErrorCode(err) != code {
				t.Fatalf("%s: got %v, want %s", what, err, code)
			}
		}

		// While the staff has no administrator, nobody but the bootstrap's
		// key could approve: one invitation at a time is open at once, and
		// the audit entry says why.
		aud0, err := id.Invite(ctx, admin, "", rempart.InvitationCreate{Email: "aud0@example.com", Role: rempart.RoleAuditor})
		if err != nil || aud0.Approval != rempart.ApprovalNotRequired || aud0.Status != rempart.InvitationOpen || aud0.Token == "" {
			t.Fatalf("first staff invitation: %+v, %v", aud0, err)
		}
		early, err := id.Invite(ctx, admin, "", rempart.InvitationCreate{Email: "ops@example.com", Role: rempart.RoleSystemAdmin})
		if err != nil || early.Status != rempart.InvitationPendingApproval || early.Token != "" {
			t.Fatalf("a second staff invitation while the first is open: %+v, %v", early, err)
		}
		if _, err := accept(aud0.Token, "Aud0"); err != nil {
			t.Fatal(err)
		}
		if err := id.RevokeInvitation(ctx, admin, "", early.ID); err != nil {
			t.Fatal(err)
		}
		// An auditor approves nothing: the staff still has no administrator.
		first, err := id.Invite(ctx, admin, "", rempart.InvitationCreate{Email: "ops@example.com", Role: rempart.RoleSystemAdmin})
		if err != nil || first.Approval != rempart.ApprovalNotRequired || first.Status != rempart.InvitationOpen || first.Token == "" {
			t.Fatalf("first staff administrator's invitation: %+v, %v", first, err)
		}
		if _, err := accept(first.Token, "Ops"); err != nil {
			t.Fatal(err)
		}

		// From now on a staff invitation waits: no token, nothing usable.
		held, err := id.Invite(ctx, admin, "", rempart.InvitationCreate{Email: "eve@example.com", Role: rempart.RoleAuditor})
		if err != nil || held.Approval != rempart.ApprovalPending || held.Status != rempart.InvitationPendingApproval || held.Token != "" || held.Mailed {
			t.Fatalf("held invitation: %+v, %v", held, err)
		}
		// The store itself refuses to accept it, whatever the token.
		row := identity.UserRow{User: rempart.User{ID: rempart.NewID("usr"), Email: "eve@example.com", Name: "Eve", Role: rempart.RoleAuditor,
			Status: rempart.UserActive, CreatedAt: clock.Now()}, PasswordHash: "x"}
		wantCode("accepting before approval", d.AcceptInvitation(ctx, rempart.AuditEntry{Action: "invitation.accept"}, held.ID, row), rempart.EUNAUTHORIZED)

		_, err = id.ApproveInvitation(ctx, admin, "", held.ID, rempart.RoleChangeDecision{})
		wantCode("the inviter approving", err, rempart.EFORBIDDEN)
		_, err = id.RejectInvitation(ctx, admin, "", held.ID, rempart.RoleChangeDecision{})
		wantCode("the inviter rejecting", err, rempart.EFORBIDDEN)
		_, err = id.ApproveInvitation(ctx, tenantAdmin, "", held.ID, rempart.RoleChangeDecision{})
		wantCode("a tenant admin approving a staff invitation", err, rempart.EFORBIDDEN)
		auditor := rempart.Caller{Principal: rempart.Principal{ID: "usr_aud", Role: rempart.RoleAuditor}}
		_, err = id.ApproveInvitation(ctx, auditor, "", held.ID, rempart.RoleChangeDecision{})
		wantCode("an auditor approving", err, rempart.EFORBIDDEN)
		stale := rempart.Caller{Principal: second.Principal, CredentialID: "ses_stale"} // no recent second factor
		_, err = id.ApproveInvitation(ctx, stale, "", held.ID, rempart.RoleChangeDecision{})
		wantCode("a staff approval without step-up", err, rempart.EMFAREQUIRED)
		_, err = id.ApproveInvitation(ctx, second, ta, held.ID, rempart.RoleChangeDecision{})
		wantCode("a staff invitation through a tenant's path", err, rempart.ENOTFOUND)
		_, err = id.ApproveInvitation(ctx, second, "", held.ID, rempart.RoleChangeDecision{Note: "two\nlines"})
		wantCode("a note on two lines", err, rempart.EINVALID)

		clock.Advance(time.Hour)
		ok, err := id.ApproveInvitation(ctx, second, "", held.ID, rempart.RoleChangeDecision{Note: "known to me"})
		if err != nil || ok.Token == "" || ok.Status != rempart.InvitationOpen || ok.DecidedBy != second.Principal.ID || ok.InvitedBy != admin.Principal.ID ||
			!ok.ExpiresAt.Equal(clock.Now().Add(72*time.Hour)) {
			t.Fatalf("approval: %+v, %v", ok, err)
		}
		_, err = id.ApproveInvitation(ctx, second, "", held.ID, rempart.RoleChangeDecision{})
		wantCode("approving twice", err, rempart.ECONFLICT)
		eve, err := accept(ok.Token, "Eve")
		if err != nil || eve.Role != rempart.RoleAuditor {
			t.Fatalf("accepting after approval: %+v, %v", eve, err)
		}
		invs, err := id.Invitations(ctx, second, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, inv := range invs {
			if inv.ID == held.ID && (inv.Status != rempart.InvitationAccepted || inv.Approval != rempart.ApprovalApproved || inv.DecidedBy != "sa_second" || inv.Note != "known to me" || inv.DecidedAt == nil) {
				t.Errorf("listed: %+v", inv)
			}
		}

		// A tenant's admin, invited by a staff administrator: another
		// tenant's admin cannot reach it; this one is rejected, never usable.
		boss, err := id.Invite(ctx, admin, ta, rempart.InvitationCreate{Email: "boss@a.example", Role: rempart.RoleAdmin})
		if err != nil || boss.Status != rempart.InvitationPendingApproval || boss.Token != "" {
			t.Fatalf("tenant admin invitation: %+v, %v", boss, err)
		}
		_, err = id.ApproveInvitation(ctx, otherAdmin, ta, boss.ID, rempart.RoleChangeDecision{})
		wantCode("another tenant's admin", err, rempart.ENOTFOUND)
		_, err = id.ApproveInvitation(ctx, otherAdmin, tb, boss.ID, rempart.RoleChangeDecision{})
		wantCode("another tenant's path", err, rempart.ENOTFOUND)
		rej, err := id.RejectInvitation(ctx, tenantAdmin, ta, boss.ID, rempart.RoleChangeDecision{Note: "not ours"})
		if err != nil || rej.Status != rempart.InvitationRejected || rej.DecidedBy != tenantAdmin.Principal.ID {
			t.Fatalf("rejection: %+v, %v", rej, err)
		}
		_, err = id.ApproveInvitation(ctx, second, ta, boss.ID, rempart.RoleChangeDecision{})
		wantCode("approving a rejected invitation", err, rempart.ECONFLICT)
		wantCode("accepting a rejected invitation", d.AcceptInvitation(ctx, rempart.AuditEntry{Action: "invitation.accept"}, boss.ID, row), rempart.EUNAUTHORIZED)
		wantCode("withdrawing a rejected invitation", id.RevokeInvitation(ctx, admin, ta, boss.ID), rempart.ENOTFOUND)

		// A tenant admin's own invitation is approved by a staff
		// administrator, the same authority as a role change's.
		boss2, err := id.Invite(ctx, tenantAdmin, ta, rempart.InvitationCreate{Email: "boss2@a.example", Role: rempart.RoleAdmin})
		if err != nil || boss2.Status != rempart.InvitationPendingApproval {
			t.Fatalf("tenant admin's invitation: %+v, %v", boss2, err)
		}
		ok2, err := id.ApproveInvitation(ctx, admin, ta, boss2.ID, rempart.RoleChangeDecision{})
		if err != nil || ok2.Token == "" {
			t.Fatalf("staff approval of a tenant invitation: %+v, %v", ok2, err)
		}
		if u, err := accept(ok2.Token, "Boss"); err != nil || u.Role != rempart.RoleAdmin || u.TenantID != ta {
			t.Fatalf("accepting: %+v, %v", u, err)
		}

		// Not decided within its lifetime: expired, for good.
		late, err := id.Invite(ctx, admin, ta, rempart.InvitationCreate{Email: "late@a.example", Role: rempart.RoleAdmin})
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(73 * time.Hour)
		_, err = id.ApproveInvitation(ctx, second, ta, late.ID, rempart.RoleChangeDecision{})
		wantCode("approving an expired invitation", err, rempart.ECONFLICT)

		// A writer: as before, open at once with its token.
		w, err := id.Invite(ctx, tenantAdmin, ta, rempart.InvitationCreate{Email: "writer@a.example", Role: rempart.RoleWriter})
		if err != nil || w.Approval != rempart.ApprovalNotRequired || w.Status != rempart.InvitationOpen || w.Token == "" {
			t.Fatalf("writer invitation: %+v, %v", w, err)
		}
		_, err = id.ApproveInvitation(ctx, second, ta, w.ID, rempart.RoleChangeDecision{})
		wantCode("approving an invitation that needs none", err, rempart.ECONFLICT)
		if _, err := accept(w.Token, "Writer"); err != nil {
			t.Fatal(err)
		}

		// Every step and every refusal is in the audit log.
		es, err := d.AuditLog(ctx, audit.Query{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		want := []struct{ action, outcome, principal, reason string }{
			{"invitation.create", rempart.OutcomeSuccess, "sa_admin", "role auditor; pending approval by another person; no staff administrator yet: nobody else could approve"},
			{"invitation.create", rempart.OutcomeSuccess, "sa_admin", "role system_admin; pending approval by another person"},
			{"invitation.create", rempart.OutcomeSuccess, "sa_admin", "role system_admin; pending approval by another person; no staff administrator yet: nobody else could approve"},
			{"invitation.create", rempart.OutcomeSuccess, "sa_admin", "role auditor; pending approval by another person"},
			{"invitation.approve", rempart.OutcomeDenied, "sa_admin", "eve@example.com as auditor; the inviter cannot decide"},
			{"invitation.reject", rempart.OutcomeDenied, "sa_admin", "eve@example.com as auditor; the inviter cannot decide"},
			{"invitation.approve", rempart.OutcomeDenied, "sa_tadmin", "forbidden"},
			{"invitation.approve", rempart.OutcomeDenied, "usr_aud", "forbidden"},
			{"invitation.approve", rempart.OutcomeDenied, "sa_second", "mfa_required"},
			{"invitation.approve", rempart.OutcomeDenied, "sa_second", "not found"},
			{"invitation.approve", rempart.OutcomeDenied, "sa_second", "invalid"},
			{"invitation.approve", rempart.OutcomeSuccess, "sa_second", "eve@example.com as auditor"},
			{"invitation.approve", rempart.OutcomeDenied, "sa_second", "eve@example.com as auditor; already open"},
			{"invitation.approve", rempart.OutcomeDenied, "sa_badmin", "not_found"},
			{"invitation.reject", rempart.OutcomeSuccess, "sa_tadmin", "boss@a.example as admin"},
			{"invitation.approve", rempart.OutcomeDenied, "sa_second", "boss@a.example as admin; already rejected"},
			{"invitation.approve", rempart.OutcomeSuccess, "sa_admin", "boss2@a.example as admin"},
			{"invitation.approve", rempart.OutcomeDenied, "sa_second", "late@a.example as admin; expired"},
			{"invitation.approve", rempart.OutcomeDenied, "sa_second", "writer@a.example as writer; already open"},
		}
		for _, w := range want {
			found := false
			for _, e := range es {
				if e.Action == w.action && e.Outcome == w.outcome && e.PrincipalID == w.principal && e.Reason == w.reason {
					found = true
					break
				}
			}
			if !found {
				var got []string
				for _, e := range es {
					if strings.HasPrefix(e.Action, "invitation.") {
						got = append(got, e.Action+" "+e.Outcome+" "+e.PrincipalID+": "+e.Reason)
					}
				}
				t.Errorf("no audit entry %+v in:\n%s", w, strings.Join(got, "\n"))
			}
		}
	})
}
