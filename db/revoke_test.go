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

// TestRevokeAccess: one transaction suspends the user, revokes every live
// session of that user and no one else's, removes the password when asked,
// and counts all of it into the audit entry, on both dialects (IAM-8).
func TestRevokeAccess(t *testing.T) {
	dialects(t, func(t *testing.T, open func(t *testing.T) *db.DB) {
		ctx := context.Background()
		d := open(t)
		clock := testclock.New(time.Now())
		id := identity.New(d, clock, identity.Config{})
		ten := newTenant(t, d, "Acme").TenantID()
		admin := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", TenantID: ten, Role: rempart.RoleAdmin}}
		users := map[string]rempart.User{}
		for _, email := range []string{"ann@acme.example", "ben@acme.example"} {
			inv, err := id.Invite(ctx, admin, ten, rempart.InvitationCreate{Email: email, Role: rempart.RoleWriter})
			if err != nil {
				t.Fatal(err)
			}
			u, err := id.AcceptInvitation(ctx, rempart.Caller{}, rempart.InvitationAccept{Token: inv.Token, Name: email, Password: "Quartz-fjord-v1xen-walk"})
			if err != nil {
				t.Fatal(err)
			}
			users[email] = u
		}
		var tokens []string
		for _, email := range []string{"ann@acme.example", "ann@acme.example", "ben@acme.example"} {
			s, err := id.SignIn(ctx, rempart.Caller{}, rempart.SignIn{Email: email, Password: "Quartz-fjord-v1xen-walk"}, rempart.SessionAPI)
			if err != nil {
				t.Fatal(err)
			}
			tokens = append(tokens, s.Token)
		}
		ann := users["ann@acme.example"]
		e := rempart.AuditEntry{TenantID: ten, PrincipalID: "sa_admin", Action: "user.offboard", Resource: "tenants/" + ten + "/users/" + ann.ID, Outcome: rempart.OutcomeSuccess, Reason: "left"}
		if _, err := d.RevokeAccess(ctx, e, "ten_other", ann.ID, true); rempart.ErrorCode(err) != rempart.ENOTFOUND {
			t.Fatalf("through another tenant: got %v, want not found", err)
		}
		r, err := d.RevokeAccess(ctx, e, ten, ann.ID, true)
		if err != nil || r.Sessions != 2 || r.Factors != 0 || r.Grants != 0 || !r.PasswordCleared {
			t.Fatalf("revocation: %+v, %v", r, err)
		}
		for i, tok := range tokens {
			_, err := id.Authenticate(ctx, rempart.Caller{}, tok)
			if revoked := i < 2; revoked != (rempart.ErrorCode(err) == rempart.EUNAUTHORIZED) {
				t.Errorf("token %d: %v (ann's are revoked, ben's is not)", i, err)
			}
		}
		u, err := d.User(ctx, ann.ID)
		if err != nil || u.Status != rempart.UserSuspended || u.PasswordHash != "" {
			t.Fatalf("ann after: %+v, %v", u, err)
		}
		es, err := d.AuditLog(ctx, audit.Query{Action: "user.offboard", Limit: 10})
		if err != nil || len(es) != 2 || es[0].Outcome != rempart.OutcomeFailure {
			t.Fatalf("entries: %+v, %v", es, err)
		}
		if got := es[1].Reason; !strings.HasPrefix(got, "left; revoked 2 sessions, 0 second factors") || !strings.HasSuffix(got, "the password") {
			t.Fatalf("the entry's evidence: %q", got)
		}
	})
}
