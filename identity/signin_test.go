package identity_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/identity"
	"github.com/rempart/rempart/identity/totp"
	"github.com/rempart/rempart/internal/testclock"
)

// TestSecondStepRefusals: the console's second step, by code or by
// security key, refuses a forged challenge, and a valid challenge of a
// person suspended since the first step even with a good code, each denied
// and audited with its reason and, once known, the person (IAM-4, IAM-8).
func TestSecondStepRefusals(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, db.Config{DSN: "sqlite:" + filepath.Join(t.TempDir(), "r.db"), Clock: rempart.SystemClock{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	clock := testclock.New(time.Date(2026, 11, 24, 7, 0, 0, 0, time.UTC))
	id := identity.New(d, clock, identity.Config{MFAKey: bytes.Repeat([]byte{7}, 32)})
	admin := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", Role: rempart.RoleSystemAdmin}}
	inv, err := id.Invite(ctx, admin, "", rempart.InvitationCreate{Email: "ops@example.com", Role: rempart.RoleSystemAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := id.AcceptInvitation(ctx, rempart.Caller{}, rempart.InvitationAccept{Token: inv.Token, Name: "P", Password: "First-passw0rd-ok"}); err != nil {
		t.Fatal(err)
	}
	signIn := rempart.SignIn{Email: "ops@example.com", Password: "First-passw0rd-ok"}
	first, _, err := id.StartSignIn(ctx, rempart.Caller{}, signIn)
	if err != nil {
		t.Fatal(err)
	}
	me, err := id.AuthenticateSession(ctx, rempart.Caller{}, first.Token, rempart.SessionConsole)
	if err != nil {
		t.Fatal(err)
	}
	en, err := id.StartTOTP(ctx, me, rempart.TOTPStart{Name: "phone"})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := totp.DecodeSecret(en.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := id.ConfirmTOTP(ctx, me, en.ID, rempart.MFACode{Code: totp.Code(secret, clock.Now())}); err != nil {
		t.Fatal(err)
	}
	_, challenge, err := id.StartSignIn(ctx, rempart.Caller{}, signIn)
	if err != nil || challenge == "" {
		t.Fatalf("sign-in with a second factor: %q, %v; want a challenge", challenge, err)
	}
	clock.Advance(30 * time.Second)
	code := totp.Code(secret, clock.Now())

	steps := map[string]func(challenge string) (rempart.SessionCreated, error){
		"code": func(ch string) (rempart.SessionCreated, error) {
			return id.CompleteSignIn(ctx, rempart.Caller{}, ch, code, rempart.SessionConsole)
		},
		"security key": func(ch string) (rempart.SessionCreated, error) {
			return id.CompleteSignInWebAuthn(ctx, rempart.Caller{}, ch, "state", []byte("{}"), rempart.SessionConsole)
		},
	}
	refused := func(what, reason, principal string, sc rempart.SessionCreated, err error) {
		t.Helper()
		if rempart.ErrorCode(err) != rempart.EUNAUTHORIZED || sc.Token != "" {
			t.Errorf("%s: %+v, %v; want EUNAUTHORIZED and no session", what, sc, err)
			return
		}
		es, err := d.AuditLog(ctx, audit.Query{Action: "auth.sign_in", Limit: 1000})
		if err != nil || len(es) == 0 {
			t.Fatalf("%s: audit %v, %v", what, es, err)
		}
		if last := es[len(es)-1]; last.Outcome != rempart.OutcomeDenied || last.Reason != reason || last.PrincipalID != principal {
			t.Errorf("%s: audited %+v, want denied %q of %q", what, last, reason, principal)
		}
	}
	for name, step := range steps {
		sc, err := step(challenge + "x")
		refused(name+", forged challenge", "bad or expired sign-in challenge", "", sc, err)
	}
	if err := id.SetUserStatus(ctx, admin, "", me.Principal.ID, rempart.UserSuspended); err != nil {
		t.Fatal(err)
	}
	for name, step := range steps {
		sc, err := step(challenge)
		refused(name+", suspended since the first step", "user gone or not active", me.Principal.ID, sc, err)
	}
}
