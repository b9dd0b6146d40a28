package identity_test

import (
	"bytes"
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/identity"
	"github.com/rempart/rempart/identity/totp"
	"github.com/rempart/rempart/internal/testclock"
)

type notices []identity.AccountNotice

func (n *notices) NotifyAccount(_ context.Context, a identity.AccountNotice) error {
	*n = append(*n, a)
	return nil
}

// TestFactorChangesNoticed: adding a second factor, making new recovery
// codes and removing a factor each tell the person, with where the change
// came from (ASVS 2.5.5, IAM-4).
func TestFactorChangesNoticed(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, db.Config{DSN: "sqlite:" + filepath.Join(t.TempDir(), "r.db"), Clock: rempart.SystemClock{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	clock := testclock.New(time.Date(2026, 11, 24, 7, 0, 0, 0, time.UTC))
	var sent notices
	id := identity.New(d, clock, identity.Config{MFAKey: bytes.Repeat([]byte{7}, 32), Notices: &sent})
	admin := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", Role: rempart.RoleSystemAdmin}}
	inv, err := id.Invite(ctx, admin, "", rempart.InvitationCreate{Email: "ops@example.com", Role: rempart.RoleSystemAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := id.AcceptInvitation(ctx, rempart.Caller{}, rempart.InvitationAccept{Token: inv.Token, Name: "P", Password: "First-passw0rd-ok"}); err != nil {
		t.Fatal(err)
	}
	sc, _, err := id.StartSignIn(ctx, rempart.Caller{}, rempart.SignIn{Email: "ops@example.com", Password: "First-passw0rd-ok"})
	if err != nil {
		t.Fatal(err)
	}
	me, err := id.AuthenticateSession(ctx, rempart.Caller{IP: "192.0.2.44"}, sc.Token, rempart.SessionConsole)
	if err != nil {
		t.Fatal(err)
	}
	enrol := func(name string) string {
		t.Helper()
		en, err := id.StartTOTP(ctx, me, rempart.TOTPStart{Name: name})
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
		return en.ID
	}
	phone := enrol("phone")
	// A second factor needs the first proven recently (IAM-4): a stale
	// session cannot enrol one of its own and pass every step-up with it.
	if _, err := id.StartTOTP(ctx, me, rempart.TOTPStart{Name: "tablet"}); rempart.ErrorCode(err) != rempart.EMFAREQUIRED {
		t.Fatalf("a second factor without a recent first: got %v, want %s", err, rempart.EMFAREQUIRED)
	}
	me.RecentMFA = true
	enrol("tablet")
	if _, err := id.RegenerateRecoveryCodes(ctx, me); err != nil {
		t.Fatal(err)
	}
	if err := id.DeleteFactor(ctx, me, phone); err != nil {
		t.Fatal(err)
	}
	// The notices wait in the outbox until the sender runs.
	if len(sent) != 0 {
		t.Fatalf("notices sent before the sender ran: %+v", sent)
	}
	if n, err := id.SendNotices(ctx); err != nil || n != 4 {
		t.Fatalf("SendNotices: %d, %v; want 4", n, err)
	}
	wants := []string{`An authenticator app ("phone") was added`, `An authenticator app ("tablet") was added`, "New recovery codes were made", "A second factor was removed"}
	if len(sent) != len(wants) {
		t.Fatalf("notices %+v, want %d", sent, len(wants))
	}
	for i, w := range wants {
		if n := sent[i]; n.To != "ops@example.com" || n.IP != "192.0.2.44" || !strings.HasPrefix(n.What, w) || !n.At.Equal(clock.Now()) {
			t.Errorf("notice %d: %+v, want %q to ops@example.com from 192.0.2.44", i, n, w)
		}
	}
}

// TestSSOSignInNoticed: single sign-on opens sessions through the same
// path as passwords: a person provisioned at their first single sign-on
// gets no notice then, nor from the same network and browser again, and
// one from another network (ASVS 2.2.3, IAM-5, IAM-6).
func TestSSOSignInNoticed(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, db.Config{DSN: "sqlite:" + filepath.Join(t.TempDir(), "r.db"), Clock: rempart.SystemClock{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	op := &fakeOIDC{}
	var sent notices
	clock := testclock.New(time.Date(2026, 11, 24, 7, 0, 0, 0, time.UTC))
	id := identity.New(d, clock, identity.Config{MFAKey: bytes.Repeat([]byte{7}, 32), Notices: &sent,
		SSO: identity.SSOConfig{OIDC: op, Secrets: testSealer(t), RedirectURL: "https://rempart.example/sso/callback"}})
	staff := rempart.Caller{Principal: rempart.Principal{ID: "sa_staff", Role: rempart.RoleSystemAdmin}}
	const issuer = "https://login.example.com"
	if _, err := id.CreateSSOProvider(ctx, staff, "", rempart.SSOProviderInput{Name: "Staff", Issuer: issuer, ClientID: "c", ClientSecret: "s",
		EmailDomains: []string{"example.com"}, JITProvisioning: true, DefaultRole: rempart.RoleAuditor, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	verified := true
	signIn := func(ip string) {
		t.Helper()
		st, err := id.StartSSO(ctx, rempart.Caller{IP: ip}, "ada@example.com", "/")
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(st.URL)
		op.identity = identity.OIDCIdentity{Issuer: issuer, Subject: "u1", Email: "ada@example.com", EmailVerified: &verified, Name: "Ada", Nonce: op.nonce}
		c := rempart.Caller{IP: ip, UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"}
		if _, err := id.SSOCallback(ctx, c, u.Query().Get("state"), "code", st.Binding, ""); err != nil {
			t.Fatalf("single sign-on from %s: %v", ip, err)
		}
		clock.Advance(time.Minute)
	}
	signIn("192.0.2.10")
	signIn("192.0.2.11")
	if n, err := id.SendNotices(ctx); err != nil || n != 0 || len(sent) != 0 {
		t.Fatalf("first single sign-on and the same network again: %d sent (%+v), %v; want none", n, sent, err)
	}
	signIn("2001:db8:5::1")
	if n, err := id.SendNotices(ctx); err != nil || n != 1 || len(sent) != 1 {
		t.Fatalf("another network: %d sent, %v; want 1", n, err)
	}
	if n := sent[0]; n.Kind != identity.NoticeSignIn || n.To != "ada@example.com" || n.IP != "2001:db8:5::1" || n.Agent != "Firefox on Linux" || !strings.Contains(n.What, "signed in to the console") {
		t.Errorf("notice %+v", n)
	}
}
