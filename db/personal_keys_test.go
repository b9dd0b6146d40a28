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

// TestPersonalKeys: a person's API keys are stored as hashes, listed while
// they work, expire at their instant, are revoked at once, are limited in
// number, and an offboarding revokes them with the rest and counts them in
// its evidence, on both dialects (IAM-6, IAM-8).
func TestPersonalKeys(t *testing.T) {
	places(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		clock := testclock.New(time.Now())
		d, err := db.Open(ctx, db.Config{DSN: dsn, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		id := identity.New(d, clock, identity.Config{})
		ten := newTenant(t, d, "Acme").TenantID()
		admin := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", TenantID: ten, Role: rempart.RoleAdmin}}
		callers := map[string]rempart.Caller{}
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
			s, err := id.SignIn(ctx, rempart.Caller{}, rempart.SignIn{Email: email, Password: "Quartz-fjord-v1xen-walk"}, rempart.SessionAPI)
			if err != nil {
				t.Fatal(err)
			}
			c, err := id.Authenticate(ctx, rempart.Caller{}, s.Token)
			if err != nil {
				t.Fatal(err)
			}
			users[email], callers[email] = u, c
		}
		ann, annC, benC := users["ann@acme.example"], callers["ann@acme.example"], callers["ben@acme.example"]
		create := func(c rempart.Caller, name string, days int) rempart.PersonalKeyCreated {
			t.Helper()
			k, err := id.CreatePersonalKey(ctx, c, rempart.PersonalKeyCreate{Name: name, ExpiresInDays: days})
			if err != nil {
				t.Fatalf("create %s: %v", name, err)
			}
			return k
		}
		long, short, gone := create(annC, "deploy script", 90), create(annC, "one day", 1), create(annC, "to revoke", 30)
		bens := create(benC, "ben's", 30)
		if !strings.HasPrefix(long.ID, "pak_") || !strings.HasPrefix(long.Secret, "rpk_") || long.ExpiresAt != long.CreatedAt.Add(90*24*time.Hour) {
			t.Fatalf("the key: %+v", long.PersonalKey)
		}
		stored, err := d.PersonalKey(ctx, long.ID)
		if err != nil || len(stored.Hash) != 32 || strings.Contains(string(stored.Hash), long.Secret[strings.Index(long.Secret, ".")+1:]) || stored.UserStatus != rempart.UserActive || stored.Principal.Role != rempart.RoleWriter {
			t.Fatalf("stored: %+v, %v", stored, err)
		}
		if _, err := id.CreatePersonalKey(ctx, annC, rempart.PersonalKeyCreate{Name: "too long", ExpiresInDays: 91}); rempart.ErrorCode(err) != rempart.EINVALID {
			t.Fatalf("91 days: got %v, want invalid", err)
		}
		if err := id.RevokePersonalKey(ctx, benC, gone.ID); rempart.ErrorCode(err) != rempart.ENOTFOUND {
			t.Fatalf("ben revokes ann's key: got %v, want not found", err)
		}
		if err := id.RevokePersonalKey(ctx, annC, gone.ID); err != nil {
			t.Fatal(err)
		}
		if err := id.RevokePersonalKey(ctx, annC, gone.ID); rempart.ErrorCode(err) != rempart.ENOTFOUND {
			t.Fatalf("revoked twice: got %v, want not found", err)
		}
		if _, err := id.Authenticate(ctx, rempart.Caller{}, gone.Secret); rempart.ErrorCode(err) != rempart.EUNAUTHORIZED {
			t.Fatalf("a revoked key: got %v, want unauthorized", err)
		}
		list, err := d.PersonalKeys(ctx, ann.ID, clock.Now())
		if err != nil || len(list) != 2 || list[0].ID == list[1].ID || list[0].ID != short.ID && list[0].ID != long.ID || list[1].ID != short.ID && list[1].ID != long.ID {
			t.Fatalf("ann's keys: %+v, %v", list, err)
		}

		// The expiry is an instant: valid just before, refused at it.
		clock.Advance(short.ExpiresAt.Add(-time.Second).Sub(clock.Now()))
		c, err := id.Authenticate(ctx, rempart.Caller{}, short.Secret)
		if err != nil || c.Principal.ID != ann.ID || c.CredentialID != short.ID || c.RecentMFA {
			t.Fatalf("a second before expiry: %+v, %v", c, err)
		}
		if k, _ := d.PersonalKey(ctx, short.ID); k.LastUsedAt == nil || !k.LastUsedAt.Equal(clock.Now()) {
			t.Fatalf("last use not recorded: %+v", k.LastUsedAt)
		}
		clock.Advance(short.ExpiresAt.Sub(clock.Now()))
		if _, err := id.Authenticate(ctx, rempart.Caller{}, short.Secret); rempart.ErrorCode(err) != rempart.EUNAUTHORIZED {
			t.Fatalf("at expiry: got %v, want unauthorized", err)
		}
		if list, _ := d.PersonalKeys(ctx, ann.ID, clock.Now()); len(list) != 1 || list[0].ID != long.ID {
			t.Fatalf("after the expiry: %+v", list)
		}

		// The limit of keys that still work.
		for i := 0; i < 19; i++ {
			if err := d.CreatePersonalKey(ctx, entry("personal_key.create"), identity.PersonalKeyRow{PersonalKey: rempart.PersonalKey{ID: rempart.NewID("pak"), Name: "k", UserID: ann.ID, TenantID: ten,
				CreatedAt: clock.Now(), ExpiresAt: clock.Now().Add(time.Hour)}, Hash: make([]byte, 32)}, 20); err != nil {
				t.Fatalf("key %d: %v", i+2, err)
			}
		}
		if err := d.CreatePersonalKey(ctx, entry("personal_key.create"), identity.PersonalKeyRow{PersonalKey: rempart.PersonalKey{ID: rempart.NewID("pak"), Name: "k", UserID: ann.ID, TenantID: ten,
			CreatedAt: clock.Now(), ExpiresAt: clock.Now().Add(time.Hour)}, Hash: make([]byte, 32)}, 20); rempart.ErrorCode(err) != rempart.EINVALID {
			t.Fatalf("the 21st key: got %v, want invalid", err)
		}

		// Offboarding revokes ann's 20 working keys (not the revoked or
		// expired ones, nor ben's) and says so.
		e := rempart.AuditEntry{TenantID: ten, PrincipalID: "sa_admin", Action: "user.offboard", Resource: "tenants/" + ten + "/users/" + ann.ID, Outcome: rempart.OutcomeSuccess, Reason: "left"}
		if list, _ := d.PersonalKeys(ctx, ann.ID, clock.Now()); len(list) != 20 {
			t.Fatalf("ann's working keys before offboarding: %d", len(list))
		}
		r, err := d.RevokeAccess(ctx, e, ten, ann.ID, true)
		if err != nil || r.PersonalKeys != 20 {
			t.Fatalf("revocation: %+v, %v", r, err)
		}
		if _, err := id.Authenticate(ctx, rempart.Caller{}, long.Secret); rempart.ErrorCode(err) != rempart.EUNAUTHORIZED {
			t.Fatalf("ann's key after offboarding: got %v, want unauthorized", err)
		}
		if c, err := id.Authenticate(ctx, rempart.Caller{}, bens.Secret); err != nil || c.Principal.ID != users["ben@acme.example"].ID {
			t.Fatalf("ben's key after ann's offboarding: %+v, %v", c, err)
		}
		// A suspension revokes the keys too: a reactivation does not bring
		// them back.
		benID := users["ben@acme.example"].ID
		if err := d.SetUserStatus(ctx, entry("user.suspend"), ten, benID, rempart.UserSuspended); err != nil {
			t.Fatal(err)
		}
		if err := d.SetUserStatus(ctx, entry("user.reactivate"), ten, benID, rempart.UserActive); err != nil {
			t.Fatal(err)
		}
		if k, err := d.PersonalKey(ctx, bens.ID); err != nil || k.RevokedAt == nil || k.UserStatus != rempart.UserActive {
			t.Fatalf("ben's key after a suspension: %+v, %v", k, err)
		}
		es, err := d.AuditLog(ctx, audit.Query{Action: "user.offboard", Limit: 10})
		if err != nil || len(es) != 1 || !strings.Contains(es[0].Reason, "0 grants, 20 personal API keys") {
			t.Fatalf("the evidence: %+v, %v", es, err)
		}
	})
}
