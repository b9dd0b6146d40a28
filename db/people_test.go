package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/identity"
	"github.com/rempart/rempart/internal/testclock"
)

// TestPeople runs the people store through the identity service on both
// dialects: invitation, sign-in, session use, password history and
// suspension (IAM-1, IAM-3, IAM-6, IAM-8).
func TestPeople(t *testing.T) {
	dialects(t, func(t *testing.T, open func(t *testing.T) *db.DB) {
		ctx := context.Background()
		d := open(t)
		clock := testclock.New(time.Now())
		id := identity.New(d, clock, identity.Config{})
		admin := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", Role: rempart.RoleSystemAdmin}}

		inv, err := id.Invite(ctx, admin, "", rempart.InvitationCreate{Email: "ada@example.com", Role: rempart.RoleAuditor})
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
		if _, err := id.Invite(ctx, admin, "", rempart.InvitationCreate{Email: "ada@example.com", Role: rempart.RoleAuditor}); err != nil {
			t.Fatalf("a second invitation before acceptance: %v", err)
		}
		pw := "First-passw0rd-ok"
		u, err := id.AcceptInvitation(ctx, rempart.Caller{}, rempart.InvitationAccept{Token: inv.Token, Name: "Ada", Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := id.Invite(ctx, admin, "", rempart.InvitationCreate{Email: "ada@example.com", Role: rempart.RoleAuditor}); rempart.ErrorCode(err) != rempart.ECONFLICT {
			t.Fatalf("inviting an existing user: got %v, want conflict", err)
		}
		invs, err := id.Invitations(ctx, admin, "")
		if err != nil || len(invs) != 2 || invs[1].AcceptedAt == nil || invs[0].AcceptedAt != nil {
			t.Fatalf("invitations: got %+v, %v", invs, err)
		}

		s, err := id.SignIn(ctx, rempart.Caller{IP: "192.0.2.1", UserAgent: "test"}, rempart.SignIn{Email: "ada@example.com", Password: pw}, rempart.SessionConsole)
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(2 * time.Minute)
		c, err := id.AuthenticateSession(ctx, rempart.Caller{}, s.Token, rempart.SessionConsole)
		if err != nil || c.Principal.ID != u.ID || c.Principal.Role != rempart.RoleAuditor || c.CredentialID != s.ID {
			t.Fatalf("session: got %+v, %v", c, err)
		}
		// The use two minutes later moved the idle deadline: 29 more
		// minutes keep it alive, 31 end it.
		clock.Advance(29 * time.Minute)
		if _, err := id.AuthenticateSession(ctx, rempart.Caller{}, s.Token, rempart.SessionConsole); err != nil {
			t.Fatalf("a session used within its idle timeout: %v", err)
		}
		list, err := id.Sessions(ctx, c)
		if err != nil || len(list) != 1 || list[0].IP != "192.0.2.1" || !list[0].Current {
			t.Fatalf("sessions: got %+v, %v", list, err)
		}
		clock.Advance(31 * time.Minute)
		if _, err := id.AuthenticateSession(ctx, rempart.Caller{}, s.Token, rempart.SessionConsole); rempart.ErrorCode(err) != rempart.EUNAUTHORIZED {
			t.Fatalf("an idle session: got %v, want unauthorized", err)
		}

		// Six changes: the last five passwords are refused, the first one
		// is allowed again.
		all := []string{pw}
		for i := range 5 {
			next := "Next-passw0rd-" + string(rune('a'+i)) + "-ok"
			if err := id.ChangePassword(ctx, rempart.Caller{}, rempart.PasswordChange{Email: "ada@example.com", Current: all[len(all)-1], New: next}); err != nil {
				t.Fatalf("change %d: %v", i, err)
			}
			all = append(all, next)
		}
		cur := all[len(all)-1]
		for _, old := range all[2:] {
			if err := id.ChangePassword(ctx, rempart.Caller{}, rempart.PasswordChange{Email: "ada@example.com", Current: cur, New: old}); rempart.ErrorCode(err) != rempart.EINVALID {
				t.Fatalf("reusing one of the last five: got %v, want invalid", err)
			}
		}
		if err := id.ChangePassword(ctx, rempart.Caller{}, rempart.PasswordChange{Email: "ada@example.com", Current: cur, New: all[0]}); err != nil {
			t.Fatalf("the sixth-newest password is allowed again: %v", err)
		}

		s2, err := id.SignIn(ctx, rempart.Caller{}, rempart.SignIn{Email: "ada@example.com", Password: all[0]}, rempart.SessionAPI)
		if err != nil {
			t.Fatal(err)
		}
		if err := id.SetUserStatus(ctx, admin, "", u.ID, rempart.UserSuspended); err != nil {
			t.Fatal(err)
		}
		if _, err := id.AuthenticateSession(ctx, rempart.Caller{}, s2.Token, rempart.SessionAPI); rempart.ErrorCode(err) != rempart.EUNAUTHORIZED {
			t.Fatalf("a suspended user's session: got %v, want unauthorized", err)
		}
		users, err := id.Users(ctx, admin, "")
		if err != nil || len(users) != 1 || users[0].Status != rempart.UserSuspended || users[0].LastLoginAt == nil {
			t.Fatalf("users: got %+v, %v", users, err)
		}
	})
}

// TestUserRead: one user is read through its own tenant ("" for staff) by
// someone who may manage that tenant's people; through another tenant, or
// by someone else, it is not there, and the refusal is audited (TEN-1).
func TestUserRead(t *testing.T) {
	dialects(t, func(t *testing.T, open func(t *testing.T) *db.DB) {
		ctx := context.Background()
		d := open(t)
		id := identity.New(d, testclock.New(time.Now()), identity.Config{})
		a, b := newTenant(t, d, "Read A").TenantID(), newTenant(t, d, "Read B").TenantID()
		sys := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", Role: rempart.RoleSystemAdmin}}
		inv, err := id.Invite(ctx, sys, a, rempart.InvitationCreate{Email: "wes@a.example", Role: rempart.RoleWriter})
		if err != nil {
			t.Fatal(err)
		}
		wes, err := id.AcceptInvitation(ctx, rempart.Caller{}, rempart.InvitationAccept{Token: inv.Token, Name: "Wes", Password: "Read-passw0rd-fine"})
		if err != nil {
			t.Fatal(err)
		}
		adminA := rempart.Caller{Principal: rempart.Principal{ID: "sa_a", TenantID: a, Role: rempart.RoleAdmin}}
		adminB := rempart.Caller{Principal: rempart.Principal{ID: "sa_b", TenantID: b, Role: rempart.RoleAdmin}}
		readerA := rempart.Caller{Principal: rempart.Principal{ID: "sa_r", TenantID: a, Role: rempart.RoleReader}}
		if u, err := id.User(ctx, adminA, a, wes.ID); err != nil || u.ID != wes.ID || u.Email != "wes@a.example" || u.PasswordExpiresAt == nil {
			t.Fatalf("through its tenant: %+v, %v", u, err)
		}
		for name, try := range map[string]func() error{
			"through another tenant": func() error { _, err := id.User(ctx, adminB, b, wes.ID); return err },
			"as staff":               func() error { _, err := id.User(ctx, sys, "", wes.ID); return err },
			"unknown":                func() error { _, err := id.User(ctx, adminA, a, "usr_nobody"); return err },
		} {
			if err := try(); rempart.ErrorCode(err) != rempart.ENOTFOUND {
				t.Errorf("%s: got %v, want not found", name, err)
			}
		}
		if _, err := id.User(ctx, readerA, a, wes.ID); rempart.ErrorCode(err) != rempart.EFORBIDDEN {
			t.Errorf("a reader: got %v, want forbidden", err)
		}
		es, err := d.AuditLog(ctx, audit.Query{Action: "user.read", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		denied := 0
		for _, e := range es {
			if e.Outcome == rempart.OutcomeDenied {
				denied++
			}
		}
		if len(es) != 5 || denied != 4 {
			t.Fatalf("user.read entries: %d, %d denied; want 5 with 4 denied", len(es), denied)
		}
	})
}
