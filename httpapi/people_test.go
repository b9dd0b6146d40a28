package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/rempart/rempart/identity/totp"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/client"
)

const goodPassword = "Tr0ub4dor&3-horse-staple"

// person invites a user to tenant ("" for staff) with the admin's client,
// accepts the invitation and signs in; it returns the user and a client
// holding the user's access token.
func person(t *testing.T, s *stack, admin *client.Client, tenant, email, role string) (rempart.User, *client.Client) {
	t.Helper()
	ctx := context.Background()
	inv := invite(t, s, admin, tenant, email, role)
	anon := client.New(s.srv.URL)
	u, err := anon.AcceptInvitation(ctx, rempart.InvitationAccept{Token: inv.Token, Name: "Ada Lovelace", Password: goodPassword})
	if err != nil {
		t.Fatalf("accept %s: %v", email, err)
	}
	sess, err := anon.SignIn(ctx, rempart.SignIn{Email: email, Password: goodPassword})
	if err != nil {
		t.Fatalf("sign in %s: %v", email, err)
	}
	c := anon.WithKey(sess.Token)
	if tenant == "" {
		// Staff must have a second factor (IAM-4): enrol one, which makes
		// the session a full one.
		if !sess.EnrolOnly {
			t.Fatalf("staff %s without a second factor: got a full session", email)
		}
		en, err := c.StartTOTP(ctx, rempart.TOTPStart{Name: "phone"})
		if err != nil {
			t.Fatal(err)
		}
		secret, _ := totp.DecodeSecret(en.Secret)
		s.totp[email] = secret
		if _, err := c.ConfirmFactor(ctx, en.ID, totp.Code(secret, s.clock.Now())); err != nil {
			t.Fatal(err)
		}
	}
	return u, c
}

// invite invites a person with the admin's client; an invitation for a
// privileged role is then approved by secondAdmin (IAM-10), whose answer
// carries the token. TestInvitationApprovalOverTheAPI plays that step over
// HTTP.
func invite(t *testing.T, s *stack, admin *client.Client, tenant, email, role string) rempart.InvitationCreated {
	t.Helper()
	ctx := context.Background()
	inv, err := admin.Invite(ctx, tenant, rempart.InvitationCreate{Email: email, Role: role})
	if err == nil && inv.Status == rempart.InvitationPendingApproval {
		inv, err = s.identity.ApproveInvitation(ctx, secondAdmin, tenant, inv.ID, rempart.RoleChangeDecision{})
	}
	if err != nil || inv.Token == "" {
		t.Fatalf("invite %s: %+v, %v", email, inv, err)
	}
	return inv
}

// secondAdmin is the second person who approves the invitations that
// person() makes for privileged roles.
var secondAdmin = rempart.Caller{Principal: rempart.Principal{ID: "sa_second_admin", Role: rempart.RoleSystemAdmin}}

func code(err error) string {
	var e *client.Error
	if errors.As(err, &e) {
		return e.Problem.Code
	}
	return ""
}

// TestPeopleLifecycle: an invitation works once, the password policy holds,
// sign-in failures look the same whether the account exists or not and are
// audited, a person's token reaches only its tenant, suspension ends it at
// once (IAM-1, IAM-3, IAM-6, IAM-8).
func TestPeopleLifecycle(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	adminCaller, adminKey := s.admin()
	acme, other := s.tenant(adminCaller, "Acme"), s.tenant(adminCaller, "Other")
	admin := client.New(s.srv.URL, client.WithAPIKey(adminKey))
	anon := client.New(s.srv.URL)

	inv, err := admin.Invite(ctx, acme, rempart.InvitationCreate{Email: " Ada@Example.COM ", Role: rempart.RoleWriter})
	if err != nil || inv.Email != "ada@example.com" || !strings.HasPrefix(inv.Token, "ri_") || inv.TenantID != acme {
		t.Fatalf("invite: got %+v, %v", inv, err)
	}
	if _, err := admin.Invite(ctx, acme, rempart.InvitationCreate{Email: "x@example.com", Role: rempart.RoleSystemAdmin}); code(err) != rempart.EINVALID {
		t.Fatalf("a staff role in a tenant: got %v, want invalid", err)
	}
	// A weak password is refused with every broken rule, and the
	// invitation still works afterwards.
	_, err = anon.AcceptInvitation(ctx, rempart.InvitationAccept{Token: inv.Token, Name: "Ada", Password: "password"})
	if code(err) != rempart.EINVALID {
		t.Fatalf("weak password: got %v, want invalid", err)
	}
	u, err := anon.AcceptInvitation(ctx, rempart.InvitationAccept{Token: inv.Token, Name: "Ada Lovelace", Password: goodPassword})
	if err != nil || u.Email != "ada@example.com" || u.Role != rempart.RoleWriter || u.TenantID != acme || u.Status != rempart.UserActive || u.PasswordExpiresAt == nil {
		t.Fatalf("accept: got %+v, %v", u, err)
	}
	if _, err := anon.AcceptInvitation(ctx, rempart.InvitationAccept{Token: inv.Token, Name: "Eve", Password: goodPassword + "x"}); code(err) != rempart.EUNAUTHORIZED {
		t.Fatalf("second use of an invitation: got %v, want unauthorized", err)
	}
	// Inviting the same email to the same tenant conflicts; to another
	// tenant it does not tell that the address has an account elsewhere
	// (TEN-1), and that invitation cannot be used.
	if _, err := admin.Invite(ctx, acme, rempart.InvitationCreate{Email: "ada@example.com", Role: rempart.RoleReader}); code(err) != rempart.ECONFLICT {
		t.Fatalf("inviting a user of the same tenant: got %v, want conflict", err)
	}
	elsewhere, err := admin.Invite(ctx, other, rempart.InvitationCreate{Email: "ada@example.com", Role: rempart.RoleReader})
	if err != nil {
		t.Fatalf("inviting an email that has an account in another tenant: %v", err)
	}
	if _, err := anon.AcceptInvitation(ctx, rempart.InvitationAccept{Token: elsewhere.Token, Name: "Ada", Password: goodPassword}); code(err) != rempart.EUNAUTHORIZED {
		t.Fatalf("accepting an invitation for an email taken elsewhere: got %v, want unauthorized", err)
	}

	// Wrong password and unknown account: the same answer.
	_, errWrong := anon.SignIn(ctx, rempart.SignIn{Email: "ada@example.com", Password: goodPassword + "!"})
	_, errUnknown := anon.SignIn(ctx, rempart.SignIn{Email: "nobody@example.com", Password: goodPassword})
	var ew, eu *client.Error
	if !errors.As(errWrong, &ew) || !errors.As(errUnknown, &eu) || ew.Problem.Code != rempart.EUNAUTHORIZED || ew.Status != eu.Status || ew.Problem.Detail != eu.Problem.Detail || ew.Problem.Code != eu.Problem.Code {
		t.Fatalf("wrong password %v and unknown account %v must answer alike", errWrong, errUnknown)
	}
	if _, err := anon.SignIn(ctx, rempart.SignIn{Email: "ada@example.com", Password: goodPassword, Code: "123456"}); code(err) != rempart.EINVALID {
		t.Fatalf("a second-factor code with no factor enrolled: got %v, want invalid, not ignored", err)
	}
	sess, err := anon.SignIn(ctx, rempart.SignIn{Email: "ADA@example.com", Password: goodPassword})
	if err != nil || !strings.HasPrefix(sess.Token, "rs_") || sess.Kind != rempart.SessionAPI || sess.ExpiresAt.Sub(sess.CreatedAt) != time.Hour {
		t.Fatalf("sign in: got %+v, %v", sess, err)
	}
	ada := anon.WithKey(sess.Token)
	if me, err := ada.Me(ctx); err != nil || me.ID != u.ID || me.LastLoginAt == nil {
		t.Fatalf("me: got %+v, %v", me, err)
	}
	if _, err := ada.CreateRecord(ctx, acme, "notes", map[string]string{"n": "1"}, ""); err != nil {
		t.Fatalf("a writer writes its tenant's records: %v", err)
	}
	if _, err := ada.CreateRecord(ctx, other, "notes", map[string]string{"n": "1"}, ""); code(err) != rempart.ENOTFOUND {
		t.Fatalf("another tenant: got %v, want not_found", err)
	}
	if _, err := ada.Users(ctx, acme); code(err) != rempart.EFORBIDDEN {
		t.Fatalf("a writer lists users: got %v, want forbidden", err)
	}
	list, err := ada.Sessions(ctx)
	if err != nil || len(list) != 1 || !list[0].Current || list[0].ID != sess.ID {
		t.Fatalf("sessions: got %+v, %v", list, err)
	}
	invs, err := admin.Invitations(ctx, acme)
	if err != nil || len(invs) != 1 || invs[0].ID != inv.ID || invs[0].AcceptedAt == nil {
		t.Fatalf("invitations: got %+v, %v", invs, err)
	}

	// A person revokes their own other session, never someone else's
	// (IAM-6): another user's session ID is not found, and keeps working.
	_, bob := person(t, s, admin, acme, "bob@example.com", rempart.RoleReader)
	bobSessions, err := bob.Sessions(ctx)
	if err != nil || len(bobSessions) != 1 {
		t.Fatalf("bob's sessions: got %+v, %v", bobSessions, err)
	}
	if err := ada.RevokeSession(ctx, bobSessions[0].ID); code(err) != rempart.ENOTFOUND {
		t.Fatalf("revoking another user's session: got %v, want not_found", err)
	}
	if _, err := bob.Me(ctx); err != nil {
		t.Fatalf("bob's session after ada's attempt: %v", err)
	}
	second, err := anon.SignIn(ctx, rempart.SignIn{Email: "ada@example.com", Password: goodPassword})
	if err != nil {
		t.Fatal(err)
	}
	if err := ada.RevokeSession(ctx, second.ID); err != nil {
		t.Fatalf("revoking my other session: %v", err)
	}
	if _, err := anon.WithKey(second.Token).Me(ctx); code(err) != rempart.EUNAUTHORIZED {
		t.Fatalf("a revoked session: got %v, want unauthorized", err)
	}
	if _, err := ada.Me(ctx); err != nil {
		t.Fatalf("the session in use after revoking another: %v", err)
	}
	if err := admin.RevokeSession(ctx, second.ID); code(err) != rempart.ENOTFOUND {
		t.Fatalf("an API key revoking a session: got %v, want not_found", err)
	}

	// The audit trail has the failures with their reasons, and never a
	// password.
	entries, err := admin.AuditEntries(ctx, client.AuditOptions{Limit: 1000, Action: "auth.sign_in"})
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]int{}
	for _, e := range entries.Entries {
		reasons[e.Outcome+":"+e.Reason]++
	}
	if reasons["denied:wrong password"] != 1 || reasons["denied:unknown account"] != 1 || reasons["denied:second factor given"] != 1 || reasons["success:api"] != 3 {
		t.Fatalf("audit of sign-ins: got %v", reasons)
	}
	var raw strings.Builder
	if err := admin.Export(ctx, &raw); err != nil || strings.Contains(raw.String(), goodPassword) || !strings.Contains(raw.String(), "auth.sign_in") {
		t.Fatalf("export: %v, or a password is in the audit log", err)
	}

	// Suspension ends the session at once; reactivation does not bring it back.
	// A user is found only under its own tenant (TEN-1).
	for _, wrong := range []string{other, ""} {
		if err := admin.SuspendUser(ctx, wrong, u.ID); code(err) != rempart.ENOTFOUND {
			t.Fatalf("suspending acme's user under %q: got %v, want not_found", wrong, err)
		}
	}
	if _, err := ada.Me(ctx); err != nil {
		t.Fatalf("a refused suspension still ended the session: %v", err)
	}
	if err := admin.SuspendUser(ctx, acme, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ada.Me(ctx); code(err) != rempart.EUNAUTHORIZED {
		t.Fatalf("after suspension: got %v, want unauthorized", err)
	}
	if _, err := anon.SignIn(ctx, rempart.SignIn{Email: "ada@example.com", Password: goodPassword}); code(err) != rempart.EUNAUTHORIZED {
		t.Fatalf("a suspended user signs in: got %v, want unauthorized", err)
	}
	if err := admin.ReactivateUser(ctx, acme, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ada.Me(ctx); code(err) != rempart.EUNAUTHORIZED {
		t.Fatalf("a revoked session after reactivation: got %v, want unauthorized", err)
	}
	users, err := admin.Users(ctx, acme)
	emails := map[string]string{}
	for _, x := range users {
		emails[x.Email] = x.ID
	}
	if err != nil || len(users) != 2 || emails["ada@example.com"] != u.ID || emails["bob@example.com"] == "" {
		t.Fatalf("users: got %+v, %v", users, err)
	}
	if staff, err := admin.Users(ctx, ""); err != nil || len(staff) != 0 {
		t.Fatalf("staff users: got %+v, %v", staff, err)
	}
}

// TestSessionLifetimes: an API access token lives an hour; a console session
// is not an API token; passwords expire and cannot be reused (IAM-3, IAM-6).
func TestSessionLifetimes(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	_, adminKey := s.admin()
	admin := client.New(s.srv.URL, client.WithAPIKey(adminKey))
	u, ada := person(t, s, admin, "", "ada@example.com", rempart.RoleAuditor)
	if u.TenantID != "" || u.Role != rempart.RoleAuditor {
		t.Fatalf("staff user: got %+v", u)
	}
	if _, err := ada.AuditEntries(ctx, client.AuditOptions{Limit: 10}); err != nil {
		t.Fatalf("an auditor reads the audit log: %v", err)
	}
	if _, err := ada.CreateTenant(ctx, rempart.TenantCreate{Name: "Nope"}); code(err) != rempart.EFORBIDDEN {
		t.Fatalf("an auditor creates a tenant: got %v, want forbidden", err)
	}

	late := invite(t, s, admin, "", "late@example.com", rempart.RoleAuditor)
	// A withdrawn invitation's link stops working at once (IAM-8); an
	// accepted one cannot be withdrawn.
	typo := invite(t, s, admin, "", "typo@exmaple.com", rempart.RoleSystemAdmin)
	if err := admin.RevokeInvitation(ctx, "", typo.ID); err != nil {
		t.Fatalf("withdraw an invitation: %v", err)
	}
	anon := client.New(s.srv.URL)
	if _, err := anon.AcceptInvitation(ctx, rempart.InvitationAccept{Token: typo.Token, Name: "Typo", Password: goodPassword}); code(err) != rempart.EUNAUTHORIZED {
		t.Fatalf("a withdrawn invitation: got %v, want unauthorized", err)
	}
	staffInvs, err := admin.Invitations(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range staffInvs {
		if i.ID == typo.ID && i.RevokedAt == nil {
			t.Fatalf("the withdrawn invitation is listed as pending: %+v", i)
		}
		if i.AcceptedAt != nil {
			if err := admin.RevokeInvitation(ctx, "", i.ID); code(err) != rempart.ENOTFOUND {
				t.Fatalf("withdrawing an accepted invitation: got %v, want not_found", err)
			}
		}
	}
	s.clock.Advance(30 * time.Second) // the next TOTP step: a code is accepted once
	console, err := s.identity.SignIn(ctx, rempart.Caller{IP: "192.0.2.1"}, rempart.SignIn{Email: "ada@example.com", Password: goodPassword, Code: totp.Code(s.totp["ada@example.com"], s.clock.Now())}, rempart.SessionConsole)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.WithKey(console.Token).Me(ctx); code(err) != rempart.EUNAUTHORIZED {
		t.Fatalf("a console session on the API: got %v, want unauthorized", err)
	}

	s.clock.Advance(61 * time.Minute)
	if _, err := ada.Me(ctx); code(err) != rempart.EUNAUTHORIZED {
		t.Fatalf("an access token after an hour: got %v, want unauthorized", err)
	}

	s.clock.Advance(90 * 24 * time.Hour)
	anon = client.New(s.srv.URL)
	if _, err := anon.SignIn(ctx, rempart.SignIn{Email: "ada@example.com", Password: goodPassword}); code(err) != rempart.EFORBIDDEN || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("an expired password: got %v, want forbidden", err)
	}
	if err := anon.ChangePassword(ctx, rempart.PasswordChange{Email: "ada@example.com", Current: goodPassword, New: goodPassword}); code(err) != rempart.EINVALID {
		t.Fatalf("reusing the password: got %v, want invalid", err)
	}
	if err := anon.ChangePassword(ctx, rempart.PasswordChange{Email: "ada@example.com", Current: "Wr0ng-password!x", New: "N3w-and-unguessable!"}); code(err) != rempart.EUNAUTHORIZED {
		t.Fatalf("a wrong current password: got %v, want unauthorized", err)
	}
	if err := anon.ChangePassword(ctx, rempart.PasswordChange{Email: "ada@example.com", Current: goodPassword, New: "N3w-and-unguessable!"}); err != nil {
		t.Fatalf("change password: %v", err)
	}
	fresh, err := anon.SignIn(ctx, rempart.SignIn{Email: "ada@example.com", Password: "N3w-and-unguessable!", Code: totp.Code(s.totp["ada@example.com"], s.clock.Now())})
	if err != nil {
		t.Fatalf("sign in with the new password: %v", err)
	}
	// A change of password ends every session of the user (IAM-8).
	if err := anon.ChangePassword(ctx, rempart.PasswordChange{Email: "ada@example.com", Current: "N3w-and-unguessable!", New: "Th1rd-passw0rd-here"}); err != nil {
		t.Fatal(err)
	}
	if _, err := anon.WithKey(fresh.Token).Me(ctx); code(err) != rempart.EUNAUTHORIZED {
		t.Fatalf("a session opened before the password change: got %v, want unauthorized", err)
	}

	// An invitation works for its lifetime only (72 hours; this one is
	// 90 days old).
	if _, err := anon.AcceptInvitation(ctx, rempart.InvitationAccept{Token: late.Token, Name: "Late", Password: goodPassword}); code(err) != rempart.EUNAUTHORIZED {
		t.Fatalf("an expired invitation: got %v, want unauthorized", err)
	}
}

// TestSignInThrottled: repeated failures are slowed down with 429 and
// Retry-After, for an unknown account as for a known one (IAM-3).
func TestSignInThrottled(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	_, adminKey := s.admin()
	admin := client.New(s.srv.URL, client.WithAPIKey(adminKey))
	person(t, s, admin, "", "ada@example.com", rempart.RoleAuditor)
	anon := client.New(s.srv.URL)
	for _, email := range []string{"ada@example.com", "nobody@example.com"} {
		var last error
		for i := 0; i < 20; i++ {
			_, last = anon.SignIn(ctx, rempart.SignIn{Email: email, Password: "Wr0ng-password!x"})
			if code(last) == rempart.ERATELIMIT {
				break
			}
		}
		var e *client.Error
		if !errors.As(last, &e) || e.Problem.Code != rempart.ERATELIMIT || e.RetryAfter <= 0 || e.Status != http.StatusTooManyRequests {
			t.Fatalf("%s: after 20 failures got %v, want rate_limited with Retry-After", email, last)
		}
		// Waiting out each delay, the failures go on until the lockout.
		for failures := 0; failures < 20; {
			_, last = anon.SignIn(ctx, rempart.SignIn{Email: email, Password: "Wr0ng-password!x"})
			if errors.As(last, &e) && e.Problem.Code == rempart.ERATELIMIT {
				s.clock.Advance(e.RetryAfter)
				continue
			}
			failures++
		}
	}
	// The lockout is a security event of its own in the audit log (AUD-1),
	// for the known account as for the unknown one.
	list, err := admin.AuditEntries(ctx, client.AuditOptions{Limit: 1000, Action: "password.account_lockout"})
	per := map[string]int{}
	for _, e := range list.Entries {
		per[e.Reason]++
	}
	if err != nil || per["wrong password"] == 0 || per["unknown account"] == 0 || len(per) != 2 {
		t.Fatalf("lockout events: got %v, %v; want events for both accounts", per, err)
	}
}

// TestPasswordSpraying: one address trying one password across many
// accounts (spraying) or known pairs (credential stuffing) is refused for
// every account, whether it exists or not, the moment it is recognised, and
// a password.spraying security event is recorded for monitoring (IAM-3,
// AUD-1).
func TestPasswordSpraying(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	_, adminKey := s.admin()
	admin := client.New(s.srv.URL, client.WithAPIKey(adminKey))
	person(t, s, admin, "", "ada@example.com", rempart.RoleAuditor)
	anon := client.New(s.srv.URL)
	throttled := 0
	for i := 0; i < 12; i++ {
		_, err := anon.SignIn(ctx, rempart.SignIn{Email: fmt.Sprintf("user%d@example.com", i), Password: "Summer2026!x"})
		switch code(err) {
		case rempart.EUNAUTHORIZED:
		case rempart.ERATELIMIT:
			throttled++
		default:
			t.Fatalf("attempt %d: got %v, want unauthorized or rate limited", i, err)
		}
	}
	// The sprayer's right password for a real account is refused too.
	if _, err := anon.SignIn(ctx, rempart.SignIn{Email: "ada@example.com", Password: goodPassword}); code(err) != rempart.ERATELIMIT {
		t.Fatalf("a right password from the spraying address: got %v, want rate limited", err)
	}
	if throttled == 0 {
		t.Error("twelve accounts tried from one address, none throttled")
	}
	list, err := admin.AuditEntries(ctx, client.AuditOptions{Limit: 1000, Action: "password.spraying"})
	if err != nil || len(list.Entries) == 0 || list.Entries[0].Outcome != rempart.OutcomeDenied {
		t.Fatalf("spraying events: got %+v, %v; want one", list.Entries, err)
	}
}
