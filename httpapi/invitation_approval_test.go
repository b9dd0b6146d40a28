package httpapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/client"
	"github.com/rempart/rempart/identity/totp"
)

// TestInvitationApprovalOverTheAPI: an invitation for a privileged role
// has no token until another administrator approves it over the API; the
// inviter cannot, another tenant's path cannot, a staff approver needs a
// recent second factor; the approver alone gets the token, which then makes
// the invitee an auditor; a rejected tenant admin's invitation is never
// approved; a reader's invitation is as before (IAM-10).
func TestInvitationApprovalOverTheAPI(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	rootCaller, rootKey := s.admin()
	root := client.New(s.srv.URL, client.WithAPIKey(rootKey))
	acme, other := s.tenant(rootCaller, "Acme"), s.tenant(rootCaller, "Other")
	// The first staff member: nobody else could approve them.
	secU, sec := person(t, s, root, "", "sec@example.com", rempart.RoleSystemAdmin)

	held, err := root.Invite(ctx, "", rempart.InvitationCreate{Email: "aud@example.com", Role: rempart.RoleAuditor})
	if err != nil || held.Status != rempart.InvitationPendingApproval || held.Approval != rempart.ApprovalPending || held.Token != "" || held.Mailed ||
		held.InvitedBy != rootCaller.Principal.ID {
		t.Fatalf("privileged invitation: %+v, %v", held, err)
	}
	if _, err := root.ApproveInvitation(ctx, "", held.ID, rempart.RoleChangeDecision{}); code(err) != rempart.EFORBIDDEN {
		t.Fatalf("the inviter approving: got %v, want forbidden", err)
	}
	if _, err := sec.ApproveInvitation(ctx, acme, held.ID, rempart.RoleChangeDecision{}); code(err) != rempart.ENOTFOUND {
		t.Fatalf("a staff invitation through a tenant's path: got %v, want not_found", err)
	}
	s.clock.Advance(11 * time.Minute) // past the step-up window
	if _, err := sec.ApproveInvitation(ctx, "", held.ID, rempart.RoleChangeDecision{}); code(err) != rempart.EMFAREQUIRED {
		t.Fatalf("a staff approval without a recent second factor: got %v, want mfa_required", err)
	}
	if err := sec.VerifyMFA(ctx, totp.Code(s.totp["sec@example.com"], s.clock.Now())); err != nil {
		t.Fatal(err)
	}
	ok, err := sec.ApproveInvitation(ctx, "", held.ID, rempart.RoleChangeDecision{Note: "new auditor, ticket 42"})
	if err != nil || ok.Token == "" || ok.Status != rempart.InvitationOpen || ok.DecidedBy != secU.ID || ok.Note != "new auditor, ticket 42" {
		t.Fatalf("approval: %+v, %v", ok, err)
	}
	if _, err := sec.ApproveInvitation(ctx, "", held.ID, rempart.RoleChangeDecision{}); code(err) != rempart.ECONFLICT {
		t.Fatalf("approving twice: got %v, want conflict", err)
	}
	invs, err := root.Invitations(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var listed rempart.Invitation
	for _, inv := range invs {
		if inv.ID == held.ID {
			listed = inv
		}
	}
	if listed.Status != rempart.InvitationOpen || listed.Approval != rempart.ApprovalApproved || listed.InvitedBy != rootCaller.Principal.ID || listed.DecidedBy != secU.ID {
		t.Fatalf("listed: %+v", listed)
	}
	anon := client.New(s.srv.URL)
	u, err := anon.AcceptInvitation(ctx, rempart.InvitationAccept{Token: ok.Token, Name: "Aud", Password: goodPassword})
	if err != nil || u.Role != rempart.RoleAuditor {
		t.Fatalf("accepting the approved invitation: %+v, %v", u, err)
	}

	// A tenant's admin, rejected by another administrator: never usable.
	boss, err := root.Invite(ctx, acme, rempart.InvitationCreate{Email: "boss@acme.example", Role: rempart.RoleAdmin})
	if err != nil || boss.Status != rempart.InvitationPendingApproval || boss.Token != "" {
		t.Fatalf("tenant admin invitation: %+v, %v", boss, err)
	}
	if _, err := sec.RejectInvitation(ctx, other, boss.ID, rempart.RoleChangeDecision{}); code(err) != rempart.ENOTFOUND {
		t.Fatalf("rejecting through another tenant: got %v, want not_found", err)
	}
	rej, err := sec.RejectInvitation(ctx, acme, boss.ID, rempart.RoleChangeDecision{Note: "unknown person"})
	if err != nil || rej.Status != rempart.InvitationRejected || rej.DecidedBy != secU.ID {
		t.Fatalf("rejection: %+v, %v", rej, err)
	}
	if _, err := sec.ApproveInvitation(ctx, acme, boss.ID, rempart.RoleChangeDecision{}); code(err) != rempart.ECONFLICT {
		t.Fatalf("approving a rejected invitation: got %v, want conflict", err)
	}

	// A reader: open at once, with its token, as before.
	rd, err := root.Invite(ctx, acme, rempart.InvitationCreate{Email: "reader@acme.example", Role: rempart.RoleReader})
	if err != nil || rd.Status != rempart.InvitationOpen || rd.Approval != rempart.ApprovalNotRequired || rd.Token == "" {
		t.Fatalf("reader invitation: %+v, %v", rd, err)
	}

	es, err := s.db.AuditLog(ctx, audit.Query{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range es {
		count[e.Action+"/"+e.Outcome]++
	}
	for k, n := range map[string]int{"invitation.approve/denied": 5, "invitation.approve/success": 1, "invitation.reject/denied": 1, "invitation.reject/success": 1} {
		if count[k] != n {
			t.Errorf("%s: %d audit entries, want %d", k, count[k], n)
		}
	}
}
