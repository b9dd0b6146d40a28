package db_test

import (
	"context"
	"fmt"
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

// TestRevokeAccessGrantBoundaries pins the grants RevokeAccess revokes to
// rempart.Grant.StatusAt at the instant of revocation: grants active or
// pending then are revoked, those lapsed by a nanosecond, denied or
// already revoked are left as they were (IAM-7, IAM-8).
func TestRevokeAccessGrantBoundaries(t *testing.T) {
	places(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
		clock := testclock.New(now)
		d, err := db.Open(ctx, db.Config{DSN: dsn, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		id := identity.New(d, clock, identity.Config{})
		ten := newTenant(t, d, "Acme").TenantID()
		sys := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", Role: rempart.RoleSystemAdmin}}
		inv, err := id.Invite(ctx, sys, "", rempart.InvitationCreate{Email: "sam@vendor.example", Role: rempart.RoleAuditor})
		if err != nil {
			t.Fatal(err)
		}
		sam, err := id.AcceptInvitation(ctx, rempart.Caller{}, rempart.InvitationAccept{Token: inv.Token, Name: "Sam", Password: "Quartz-fjord-v1xen-walk"})
		if err != nil {
			t.Fatal(err)
		}
		at := func(d time.Duration) *time.Time { x := now.Add(d); return &x }
		cases := []struct {
			name string
			g    rempart.Grant
		}{
			{"active, ends a nanosecond after", rempart.Grant{CreatedAt: now.Add(-time.Hour), ApprovedAt: at(-time.Hour), ActiveFrom: at(-time.Hour), ExpiresAt: at(time.Nanosecond)}},
			{"active, ends now", rempart.Grant{CreatedAt: now.Add(-time.Hour), ApprovedAt: at(-time.Hour), ActiveFrom: at(-time.Hour), ExpiresAt: at(0)}},
			{"pending, lapses a nanosecond after", rempart.Grant{CreatedAt: now.Add(-rempart.GrantRequestTTL + time.Nanosecond)}},
			{"pending, lapses now", rempart.Grant{CreatedAt: now.Add(-rempart.GrantRequestTTL)}},
			{"approved by staff, awaiting the tenant", rempart.Grant{CreatedAt: now.Add(-time.Hour), TenantApprovalRequired: true, ApprovedAt: at(-time.Minute)}},
			{"denied", rempart.Grant{CreatedAt: now.Add(-time.Hour), DeniedAt: at(-time.Minute)}},
			{"revoked before", rempart.Grant{CreatedAt: now.Add(-time.Hour), ApprovedAt: at(-time.Hour), ActiveFrom: at(-time.Hour), ExpiresAt: at(time.Hour), RevokedAt: at(-time.Minute)}},
		}
		want := map[string]bool{}
		for i, c := range cases {
			g := c.g
			g.ID, g.TenantID, g.RequesterID, g.Reason, g.Scope, g.DurationMinutes = fmt.Sprintf("grt_%d", i), ten, sam.ID, "ticket 1: "+c.name, rempart.GrantRead, 60
			e := rempart.AuditEntry{PrincipalID: sam.ID, Action: "grant.request", Resource: "grants/" + g.ID, Outcome: rempart.OutcomeSuccess}
			if err := d.CreateGrant(ctx, e, g); err != nil {
				t.Fatal(err)
			}
			if _, err := d.UpdateGrant(ctx, e, g.ID, func(s *rempart.Grant) error {
				s.ApprovedAt, s.DeniedAt, s.RevokedAt, s.ActiveFrom, s.ExpiresAt = g.ApprovedAt, g.DeniedAt, g.RevokedAt, g.ActiveFrom, g.ExpiresAt
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			st := g.StatusAt(now)
			want[g.ID] = st == rempart.GrantActive || st == rempart.GrantPending
		}
		e := rempart.AuditEntry{PrincipalID: "sa_admin", Action: "user.offboard", Resource: "users/" + sam.ID, Outcome: rempart.OutcomeSuccess, Reason: "left"}
		r, err := d.RevokeAccess(ctx, e, "", sam.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		revoked := 0
		for i, c := range cases {
			g, err := d.Grant(ctx, fmt.Sprintf("grt_%d", i))
			if err != nil {
				t.Fatal(err)
			}
			byRevocation := g.RevokedAt != nil && g.RevokedAt.Equal(now)
			if byRevocation != want[g.ID] {
				t.Errorf("%s: revoked by the offboarding %v, want %v (status %s at the time)", c.name, byRevocation, want[g.ID], c.g.StatusAt(now))
			}
			if byRevocation {
				revoked++
			}
		}
		if revoked != 3 || r.Grants != revoked {
			t.Fatalf("revoked %d grants, counted %d; want 3 (the active one, the pending one, the half-approved one)", revoked, r.Grants)
		}
	})
}
