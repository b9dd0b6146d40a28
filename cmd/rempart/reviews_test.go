package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/grants"
	"github.com/rempart/rempart/identity/totp"
	"github.com/rempart/rempart/jobs"
)

// TestQuarterlyReviewIsAScheduledJob: serve schedules the quarterly access
// review as a job, whose run opens the current quarter's staff campaign
// once (IAM-9), and the overdue reminders as another.
func TestQuarterlyReviewIsAScheduledJob(t *testing.T) {
	m, _ := startMain(t, filepath.Join(t.TempDir(), "data"), "--backup-schedule", "off", "--restore-test-schedule", "off")
	ctx := context.Background()
	admin := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", Role: rempart.RoleSystemAdmin}}
	now := time.Now().UTC()
	quarter := fmt.Sprintf("%d-Q%d", now.Year(), (int(now.Month())-1)/3+1)
	deadline := time.Now().Add(20 * time.Second)
	for {
		list, err := m.Jobs.List(ctx, admin, jobs.Query{Kind: jobReviewQuarterly})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Jobs) == 1 && list.Jobs[0].Status == "done" && strings.HasPrefix(list.Jobs[0].UniqueKey, jobReviewQuarterly+":") {
			break
		}
		if len(list.Jobs) > 1 || time.Now().After(deadline) {
			t.Fatalf("quarterly review jobs: got %+v, want the day's one, done", list.Jobs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cs, err := m.Reviews.Campaigns(ctx, admin, "")
	if err != nil || len(cs) != 1 || cs[0].Period != quarter || cs[0].CreatedBy != "system:reviews" {
		t.Fatalf("staff campaigns: got %+v, %v; want the quarter's", cs, err)
	}
	if n, err := m.Reviews.Quarterly(ctx); err != nil || n != 0 {
		t.Fatalf("a second run in the quarter opened %d, %v", n, err)
	}
	if list, err := m.Jobs.List(ctx, admin, jobs.Query{Kind: jobReviewRemind}); err != nil || len(list.Jobs) != 1 {
		t.Fatalf("reminder jobs: got %+v, %v; want the day's one", list, err)
	}
}

// TestReviewFacts: an access review item shows a person's real second
// factors and active grants, as serve wires them (IAM-9, IAM-4, IAM-7).
func TestReviewFacts(t *testing.T) {
	m, _ := startMain(t, filepath.Join(t.TempDir(), "data"), "--backup-schedule", "off", "--restore-test-schedule", "off")
	ctx := context.Background()
	admin := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", Role: rempart.RoleSystemAdmin}}
	ten, err := m.Vault.CreateTenant(ctx, admin, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := m.Identity.Invite(ctx, admin, "", rempart.InvitationCreate{Email: "sam@example.com", Role: rempart.RoleSupport})
	if err != nil {
		t.Fatal(err)
	}
	const pw = "Quartz-fjord-v1xen-walk"
	sam, err := m.Identity.AcceptInvitation(ctx, rempart.Caller{}, rempart.InvitationAccept{Token: inv.Token, Name: "Sam", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	facts := reviewFacts{m.DB}
	if on, err := facts.MFAEnrolled(ctx, sam.ID); err != nil || on {
		t.Fatalf("before enrolment: %v, %v; want no second factor", on, err)
	}
	sess, err := m.Identity.SignIn(ctx, rempart.Caller{}, rempart.SignIn{Email: "sam@example.com", Password: pw}, rempart.SessionAPI)
	if err != nil {
		t.Fatal(err)
	}
	me, err := m.Identity.Authenticate(ctx, rempart.Caller{}, sess.Token)
	if err != nil {
		t.Fatal(err)
	}
	en, err := m.Identity.StartTOTP(ctx, me, rempart.TOTPStart{Name: "phone"})
	if err != nil {
		t.Fatal(err)
	}
	if on, err := facts.MFAEnrolled(ctx, sam.ID); err != nil || on {
		t.Fatalf("an unconfirmed factor: %v, %v; want it not to count", on, err)
	}
	secret, err := totp.DecodeSecret(en.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Identity.ConfirmTOTP(ctx, me, en.ID, rempart.MFACode{Code: totp.Code(secret, time.Now())}); err != nil {
		t.Fatal(err)
	}
	if on, err := facts.MFAEnrolled(ctx, sam.ID); err != nil || !on {
		t.Fatalf("after enrolment: %v, %v; want a second factor", on, err)
	}
	support := rempart.Caller{Principal: rempart.Principal{ID: sam.ID, Role: rempart.RoleSupport}}
	g, err := m.Grants.Request(ctx, support, rempart.GrantCreate{TenantID: ten.ID, Reason: "ticket 9: a missing call", Scope: rempart.GrantRead, DurationMinutes: 60})
	if err != nil {
		t.Fatal(err)
	}
	if gs, err := facts.ActiveGrants(ctx, sam.ID, time.Now()); err != nil || len(gs) != 0 {
		t.Fatalf("a pending grant: %q, %v; want none active", gs, err)
	}
	if _, err := m.Grants.Approve(ctx, admin, g.ID); err != nil {
		t.Fatal(err)
	}
	gs, err := facts.ActiveGrants(ctx, sam.ID, time.Now())
	if err != nil || len(gs) != 1 || !strings.HasPrefix(gs[0], g.ID+" read on "+ten.ID+" until ") {
		t.Fatalf("an approved grant: %q, %v", gs, err)
	}
	// However many requests came after it, the active grant is listed.
	for i := range grants.MaxList {
		if _, err := m.Grants.Request(ctx, support, rempart.GrantCreate{TenantID: ten.ID, Reason: fmt.Sprintf("ticket %d: another look", i), Scope: rempart.GrantRead, DurationMinutes: 60}); err != nil {
			t.Fatal(err)
		}
	}
	if gs, err := facts.ActiveGrants(ctx, sam.ID, time.Now()); err != nil || len(gs) != 1 || !strings.HasPrefix(gs[0], g.ID+" ") {
		t.Fatalf("the approved grant behind %d newer requests: %q, %v", grants.MaxList, gs, err)
	}
	if gs, err := facts.ActiveGrants(ctx, sam.ID, time.Now().Add(2*time.Hour)); err != nil || len(gs) != 0 {
		t.Fatalf("after its expiry: %q, %v; want none", gs, err)
	}

	// Reminders go to the active system admins for staff, to the tenant's
	// active admins for a tenant: never to support, a reader or a
	// suspended admin.
	join := func(tenant, email, role string) rempart.User {
		t.Helper()
		inv, err := m.Identity.Invite(ctx, admin, tenant, rempart.InvitationCreate{Email: email, Role: role})
		if err == nil && inv.Status == rempart.InvitationPendingApproval { // a privileged role: a second person (IAM-10)
			second := rempart.Caller{Principal: rempart.Principal{ID: "sa_second", Role: rempart.RoleSystemAdmin}}
			inv, err = m.Identity.ApproveInvitation(ctx, second, tenant, inv.ID, rempart.RoleChangeDecision{})
		}
		if err != nil {
			t.Fatal(err)
		}
		u, err := m.Identity.AcceptInvitation(ctx, rempart.Caller{}, rempart.InvitationAccept{Token: inv.Token, Name: email, Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	join("", "ada@example.com", rempart.RoleSystemAdmin)
	gone := join("", "bob@example.com", rempart.RoleSystemAdmin)
	join(ten.ID, "tom@acme.example", rempart.RoleAdmin)
	join(ten.ID, "rita@acme.example", rempart.RoleReader)
	if err := m.Identity.SetUserStatus(ctx, admin, "", gone.ID, rempart.UserSuspended); err != nil {
		t.Fatal(err)
	}
	for tenant, want := range map[string]string{"": "ada@example.com", ten.ID: "tom@acme.example"} {
		if got, err := facts.Reviewers(ctx, tenant); err != nil || strings.Join(got, ",") != want {
			t.Errorf("reviewers of %q: got %q, %v; want %s", tenant, got, err, want)
		}
	}
}
