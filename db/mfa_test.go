package db_test

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/identity"
	"github.com/rempart/rempart/identity/totp"
	"github.com/rempart/rempart/internal/testclock"
)

var mfaKey = bytes.Repeat([]byte{7}, 32)

// oathtool returns the TOTP code of a base32 secret at t from Debian's
// oathtool, an implementation independent of identity/totp.
func oathtool(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	out, err := exec.Command("oathtool", "--totp", "-b", "--now", at.UTC().Format("2006-01-02 15:04:05 UTC"), secret).Output()
	if err != nil {
		t.Fatalf("oathtool (apt-get install oathtool): %v", err)
	}
	return strings.TrimSpace(string(out))
}

// invitePerson makes a person of tenant ("" staff) with a password.
func invitePerson(t *testing.T, id *identity.Service, tenant, email, role string) {
	t.Helper()
	admin := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", Role: rempart.RoleSystemAdmin}}
	if tenant != "" {
		admin.Principal = rempart.Principal{ID: "sa_tadmin", TenantID: tenant, Role: rempart.RoleAdmin}
	}
	inv, err := id.Invite(ctx, admin, tenant, rempart.InvitationCreate{Email: email, Role: role})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := id.AcceptInvitation(ctx, rempart.Caller{}, rempart.InvitationAccept{Token: inv.Token, Name: "P", Password: "First-passw0rd-ok"}); err != nil {
		t.Fatal(err)
	}
}

func signIn(id *identity.Service, email, code string) (rempart.SessionCreated, error) {
	return id.SignIn(ctx, rempart.Caller{IP: "192.0.2.9"}, rempart.SignIn{Email: email, Password: "First-passw0rd-ok", Code: code}, rempart.SessionAPI)
}

// TestMFA runs second factors through the identity service on both
// dialects (IAM-4): a staff member without a factor gets an enrolment-only
// session; TOTP enrolment checked with oathtool's codes; the secret is
// sealed in the database; a code is not accepted twice; recovery codes work
// once; step-up; a tenant's requirement.
func TestMFA(t *testing.T) {
	dialects(t, func(t *testing.T, open func(t *testing.T) *db.DB) {
		d := open(t)
		clock := testclock.New(time.Date(2026, 11, 24, 7, 0, 0, 0, time.UTC))
		id := identity.New(d, clock, identity.Config{MFAKey: mfaKey})
		invitePerson(t, id, "", "ops@example.com", rempart.RoleSystemAdmin)

		// Staff without a factor: an enrolment-only session that guard
		// refuses everything.
		s, err := signIn(id, "ops@example.com", "")
		if err != nil || !s.EnrolOnly {
			t.Fatalf("staff sign-in without a factor: %+v, %v; want an enrolment-only session", s, err)
		}
		c, err := id.AuthenticateSession(ctx, rempart.Caller{}, s.Token, rempart.SessionAPI)
		if err != nil || !c.EnrolOnly {
			t.Fatalf("enrolment-only caller: %+v, %v", c, err)
		}
		if _, err := id.Invitations(ctx, c, ""); rempart.ErrorCode(err) != rempart.EMFAREQUIRED {
			t.Fatalf("an enrolment-only session listing staff invitations: %v, want mfa_required", err)
		}

		en, err := id.StartTOTP(ctx, c, rempart.TOTPStart{Name: "phone"})
		if err != nil || !strings.HasPrefix(en.URI, "otpauth://totp/rempart:ops%40example.com?secret="+en.Secret) || !strings.HasPrefix(en.QRSVG, "<svg") {
			t.Fatalf("start: %+v, %v", en, err)
		}
		// The secret is sealed in the database.
		rows, err := d.Factors(ctx, c.Principal.ID)
		raw, _ := totp.DecodeSecret(en.Secret)
		if err != nil || len(rows) != 1 || rows[0].Confirmed || len(rows[0].Secret) < len(raw)+16 ||
			bytes.Contains(rows[0].Secret, raw) || bytes.Contains(rows[0].Secret, []byte(en.Secret)) {
			t.Fatalf("stored factor: %+v, %v; want one unconfirmed with a sealed secret", rows, err)
		}
		// Not a factor until confirmed: sign-in still needs no code.
		if _, err := id.ConfirmTOTP(ctx, c, en.ID, rempart.MFACode{Code: "000000"}); rempart.ErrorCode(err) != rempart.EUNAUTHORIZED {
			t.Fatalf("confirm with a wrong code: %v", err)
		}
		code := oathtool(t, en.Secret, clock.Now())
		conf, err := id.ConfirmTOTP(ctx, c, en.ID, rempart.MFACode{Code: code})
		if err != nil || len(conf.RecoveryCodes) != 10 {
			t.Fatalf("confirm with oathtool's code: %+v, %v", conf, err)
		}
		if c, err = id.AuthenticateSession(ctx, rempart.Caller{}, s.Token, rempart.SessionAPI); err != nil || c.EnrolOnly || !c.RecentMFA {
			t.Fatalf("after enrolment the session is a full one with a recent second factor: %+v, %v", c, err)
		}
		codes, err := d.RecoveryCodes(ctx, c.Principal.ID)
		if err != nil || len(codes) != 10 || bytes.Contains(codes[0].Hash, []byte(conf.RecoveryCodes[0])) {
			t.Fatalf("stored recovery codes: %d, %v", len(codes), err)
		}

		// Sign-in now needs the code; the code used to confirm (same step)
		// is refused: no code is accepted twice.
		if _, err := signIn(id, "ops@example.com", ""); rempart.ErrorCode(err) != rempart.EMFAREQUIRED {
			t.Fatalf("sign-in without the code: %v, want mfa_required", err)
		}
		if _, err := signIn(id, "ops@example.com", code); rempart.ErrorCode(err) != rempart.EUNAUTHORIZED {
			t.Fatalf("the confirmation code again: %v, want unauthorized", err)
		}
		clock.Advance(30 * time.Second)
		code2 := oathtool(t, en.Secret, clock.Now())
		s2, err := signIn(id, "ops@example.com", code2)
		if err != nil || s2.EnrolOnly || s2.MFAAt == nil {
			t.Fatalf("sign-in with the next code: %+v, %v", s2, err)
		}
		if _, err := signIn(id, "ops@example.com", code2); rempart.ErrorCode(err) != rempart.EUNAUTHORIZED {
			t.Fatalf("the same code within its window: %v, want unauthorized", err)
		}
		// Recovery codes work once.
		if _, err := signIn(id, "ops@example.com", strings.ToUpper(conf.RecoveryCodes[3])); err != nil {
			t.Fatalf("sign-in with a recovery code: %v", err)
		}
		if _, err := signIn(id, "ops@example.com", conf.RecoveryCodes[3]); rempart.ErrorCode(err) != rempart.EUNAUTHORIZED {
			t.Fatalf("a recovery code twice: %v, want unauthorized", err)
		}
		if codes, _ := d.RecoveryCodes(ctx, c.Principal.ID); len(codes) != 9 {
			t.Fatalf("recovery codes left: %d, want 9", len(codes))
		}

		// Step-up: eleven minutes later a sensitive action is refused until
		// a new code is proved.
		clock.Advance(11 * time.Minute)
		c2, err := id.AuthenticateSession(ctx, rempart.Caller{}, s2.Token, rempart.SessionAPI)
		if err != nil || c2.RecentMFA {
			t.Fatalf("after 11 minutes: %+v, %v; want no recent second factor", c2, err)
		}
		if _, err := id.RegenerateRecoveryCodes(ctx, c2); rempart.ErrorCode(err) != rempart.EMFAREQUIRED {
			t.Fatalf("new recovery codes without step-up: %v, want mfa_required", err)
		}
		if _, err := id.Invite(ctx, c2, "", rempart.InvitationCreate{Email: "x@example.com", Role: rempart.RoleAuditor}); rempart.ErrorCode(err) != rempart.EMFAREQUIRED {
			t.Fatalf("a staff invitation without step-up: %v, want mfa_required", err)
		}
		if err := id.VerifyMFA(ctx, c2, rempart.MFACode{Code: oathtool(t, en.Secret, clock.Now())}); err != nil {
			t.Fatalf("step-up: %v", err)
		}
		c2, _ = id.AuthenticateSession(ctx, rempart.Caller{}, s2.Token, rempart.SessionAPI)
		rc, err := id.RegenerateRecoveryCodes(ctx, c2)
		if err != nil || len(rc.Codes) != 10 {
			t.Fatalf("new recovery codes after step-up: %v", err)
		}
		if _, err := signIn(id, "ops@example.com", conf.RecoveryCodes[4]); rempart.ErrorCode(err) != rempart.EUNAUTHORIZED {
			t.Fatalf("an old recovery code after regeneration: %v", err)
		}
		// Staff cannot remove their last factor.
		if err := id.DeleteFactor(ctx, c2, en.ID); rempart.ErrorCode(err) != rempart.EFORBIDDEN {
			t.Fatalf("staff removing the last factor: %v, want forbidden", err)
		}
		list, err := id.Factors(ctx, c2)
		if err != nil || len(list.Factors) != 1 || list.RecoveryCodesLeft != 10 {
			t.Fatalf("factors: %+v, %v", list, err)
		}

		// A tenant that requires MFA: its user without a factor gets an
		// enrolment-only session; one of a tenant that does not, a full one.
		ten := newTenant(t, d, "acme").TenantID()
		invitePerson(t, id, ten, "u@acme.example", rempart.RoleReader)
		if s, err := signIn(id, "u@acme.example", ""); err != nil || s.EnrolOnly {
			t.Fatalf("tenant user, no requirement: %+v, %v", s, err)
		}
		tadmin := rempart.Caller{Principal: rempart.Principal{ID: "sa_tadmin", TenantID: ten, Role: rempart.RoleAdmin}}
		if err := id.SetMFAPolicy(ctx, tadmin, ten, rempart.MFAPolicy{Required: true}); err != nil {
			t.Fatal(err)
		}
		if p, err := id.MFAPolicy(ctx, tadmin, ten); err != nil || !p.Required {
			t.Fatalf("policy: %+v, %v", p, err)
		}
		if s, err := signIn(id, "u@acme.example", ""); err != nil || !s.EnrolOnly {
			t.Fatalf("tenant user, MFA required: %+v, %v; want enrolment only", s, err)
		}
		// A tenant user who removes a factor while allowed to.
		reader := rempart.Caller{Principal: rempart.Principal{ID: "sa_r", TenantID: ten, Role: rempart.RoleReader}}
		if err := id.SetMFAPolicy(ctx, reader, ten, rempart.MFAPolicy{}); rempart.ErrorCode(err) != rempart.EFORBIDDEN {
			t.Fatalf("a reader changing the policy: %v, want forbidden", err)
		}
	})
}

// TestWebAuthnCounter: a security key's signature counter only moves
// forward (clone detection), but for keys that keep none (always 0); a
// ceremony issued before the key's last use is refused, counter or not
// (replay); a credential is registered once (IAM-4).
func TestWebAuthnCounter(t *testing.T) {
	dialects(t, func(t *testing.T, open func(t *testing.T) *db.DB) {
		d := open(t)
		clock := testclock.New(time.Now())
		id := identity.New(d, clock, identity.Config{MFAKey: mfaKey})
		invitePerson(t, id, "", "ops@example.com", rempart.RoleSystemAdmin)
		u, err := d.UserByEmail(ctx, "ops@example.com")
		if err != nil {
			t.Fatal(err)
		}
		e := rempart.AuditEntry{Action: "mfa.webauthn.register", Outcome: rempart.OutcomeSuccess}
		now := clock.Now()
		for i, f := range []identity.FactorRow{
			{Factor: rempart.Factor{ID: "mfa_counting", Kind: rempart.FactorWebAuthn, Name: "a", CreatedAt: now}, UserID: u.ID, CredentialID: []byte("cred-a"), WebAuthn: []byte(`{}`), SignCount: 4},
			{Factor: rempart.Factor{ID: "mfa_zero", Kind: rempart.FactorWebAuthn, Name: "b", CreatedAt: now}, UserID: u.ID, CredentialID: []byte("cred-b"), WebAuthn: []byte(`{}`)},
		} {
			if err := d.CreateFactor(ctx, e, f, now); err != nil {
				t.Fatal(i, err)
			}
			if err := d.ConfirmFactor(ctx, e, u.ID, f.ID, 0, nil, "", now); err != nil {
				t.Fatal(i, err)
			}
		}
		dup := identity.FactorRow{Factor: rempart.Factor{ID: "mfa_dup", Kind: rempart.FactorWebAuthn, Name: "c", CreatedAt: now}, UserID: u.ID, CredentialID: []byte("cred-a"), WebAuthn: []byte(`{}`)}
		if err := d.CreateFactor(ctx, e, dup, now); rempart.ErrorCode(err) != rempart.ECONFLICT {
			t.Fatal("the same credential registered twice")
		}
		// Each use is of a ceremony issued a second after the one before,
		// but for a stale one, issued before the key's last use (a
		// replayed answer): refused, counter or not.
		for _, tc := range []struct {
			id    string
			count uint32
			stale bool
			ok    bool
		}{{"mfa_counting", 5, false, true}, {"mfa_counting", 5, false, false}, {"mfa_counting", 3, false, false}, {"mfa_counting", 9, false, true},
			{"mfa_counting", 10, true, false}, {"mfa_counting", 10, false, true},
			{"mfa_zero", 0, false, true}, {"mfa_zero", 0, false, true}, {"mfa_zero", 0, true, false}, {"mfa_zero", 2, false, true}, {"mfa_zero", 0, false, false}} {
			clock.Advance(time.Second)
			issued := clock.Now()
			if tc.stale {
				issued = issued.Add(-2 * time.Second)
			}
			err := d.UseWebAuthn(ctx, e, u.ID, tc.id, tc.count, issued, clock.Now())
			if tc.ok != (err == nil) || err != nil && rempart.ErrorCode(err) != rempart.EUNAUTHORIZED {
				t.Errorf("%s counter %d (stale %v): got %v, want ok=%v", tc.id, tc.count, tc.stale, err, tc.ok)
			}
		}
	})
}
