package db_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/identity"
	"github.com/rempart/rempart/identity/oidc"
	"github.com/rempart/rempart/identity/totp"
	"github.com/rempart/rempart/internal/oidctest"
	"github.com/rempart/rempart/internal/testclock"
	"github.com/rempart/rempart/keys"
)

const ssoRedirect = "http://127.0.0.1:1/sso/callback" // never followed: the test hands the code to the service

// TestSSO runs single sign-on (IAM-5) through the identity service and the
// store on both dialects, against a real OpenID provider: JIT provisioning
// with claim-to-role mapping, linking by (issuer, subject) and by email,
// and each refusal, audited with its reason.
func TestSSO(t *testing.T) {
	op := oidctest.Start(t, oidctest.Client{ID: "rempart", Secret: "rp-Secret-0123456789", RedirectURI: ssoRedirect})
	dialects(t, func(t *testing.T, open func(t *testing.T) *db.DB) {
		ctx := context.Background()
		d := open(t)
		clock := testclock.New(time.Now())
		id := identity.New(d, clock, identity.Config{MFAKey: bytes.Repeat([]byte{7}, 32), SSO: identity.SSOConfig{OIDC: &oidc.Client{}, Secrets: testSealer(t), RedirectURL: ssoRedirect, LoopbackHTTP: true}})
		ten := newTenant(t, d, "Bad Wolf").TenantID()
		admin := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", TenantID: ten, Role: rempart.RoleAdmin}}
		staff := rempart.Caller{Principal: rempart.Principal{ID: "sa_staff", Role: rempart.RoleSystemAdmin}}

		in := rempart.SSOProviderInput{Name: "Bad Wolf login", Issuer: op.Issuer, ClientID: "rempart", ClientSecret: "rp-Secret-0123456789",
			EmailDomains: []string{"BadWolf.org"}, JITProvisioning: true, RoleClaim: "groups", RoleMap: map[string]string{"timelords": rempart.RoleAdmin}, Enabled: true}
		bad := in
		bad.Issuer = "http://127.0.0.1:1"
		if _, err := id.CreateSSOProvider(ctx, admin, ten, bad); rempart.ErrorCode(err) != rempart.EINVALID {
			t.Fatalf("an issuer without discovery: got %v, want invalid", err)
		}
		bad = in
		bad.RoleMap = map[string]string{"timelords": rempart.RoleSystemAdmin}
		if _, err := id.CreateSSOProvider(ctx, admin, ten, bad); rempart.ErrorCode(err) != rempart.EINVALID {
			t.Fatalf("a staff role for a tenant: got %v, want invalid", err)
		}
		p, err := id.CreateSSOProvider(ctx, admin, ten, in)
		if err != nil {
			t.Fatal(err)
		}
		if !p.ClientSecretSet || !slices.Equal(p.EmailDomains, []string{"badwolf.org"}) {
			t.Fatalf("provider: %+v", p)
		}
		if _, err := id.SSOProviders(ctx, rempart.Caller{Principal: rempart.Principal{ID: "sa_other", TenantID: "ten_other", Role: rempart.RoleAdmin}}, ten); err == nil {
			t.Fatal("another tenant's admin listed the providers")
		}
		// The client secret is sealed: not in the row in clear.
		stored, err := d.SSOProvider(ctx, p.ID)
		if err != nil || len(stored.SealedSecret) == 0 || bytes.Contains(stored.SealedSecret, []byte("rp-Secret-0123456789")) {
			t.Fatalf("stored secret: %q, %v", stored.SealedSecret, err)
		}
		dup := in
		dup.RoleMap, dup.DefaultRole = nil, rempart.RoleAuditor
		// A staff provider can make staff accounts: changing one from a
		// console session needs a second factor proven in the last minutes,
		// like every staff change (IAM-4, IAM-5).
		stale := rempart.Caller{Principal: staff.Principal, CredentialID: "ses_stale"}
		if _, err := id.CreateSSOProvider(ctx, stale, "", dup); rempart.ErrorCode(err) != rempart.EMFAREQUIRED {
			t.Fatalf("a staff provider from a session without a recent second factor: got %v, want mfa_required", err)
		}
		if err := id.DeleteSSOProvider(ctx, stale, "", "sso_any"); rempart.ErrorCode(err) != rempart.EMFAREQUIRED {
			t.Fatalf("deleting a staff provider without a recent second factor: got %v, want mfa_required", err)
		}
		if _, err := id.UpdateSSOProvider(ctx, stale, "", "sso_any", dup); rempart.ErrorCode(err) != rempart.EMFAREQUIRED {
			t.Fatalf("updating a staff provider without a recent second factor: got %v, want mfa_required", err)
		}
		if _, err := id.CreateSSOProvider(ctx, staff, "", dup); rempart.ErrorCode(err) != rempart.ECONFLICT {
			t.Fatalf("a second provider for a claimed domain: got %v, want conflict", err)
		}

		type login struct {
			start identity.SSOStart
			back  map[string]string
		}
		begin := func(email, user string) login {
			t.Helper()
			st, err := id.StartSSO(ctx, rempart.Caller{IP: "192.0.2.9"}, email, "/tenants/"+ten)
			if err != nil {
				t.Fatalf("start for %s: %v", email, err)
			}
			jar, _ := cookiejar.New(nil)
			u, err := op.LogIn(ctx, &http.Client{Jar: jar}, st.URL, user, user)
			if err != nil {
				t.Fatal(err)
			}
			return login{st, map[string]string{"state": u.Query().Get("state"), "code": u.Query().Get("code")}}
		}
		finish := func(l login) (identity.SSOSignedIn, error) {
			return id.SSOCallback(ctx, rempart.Caller{IP: "192.0.2.9"}, l.back["state"], l.back["code"], l.start.Binding, "")
		}
		lastReason := func(action string) string {
			t.Helper()
			es, err := d.AuditLog(ctx, audit.Query{Action: action, Limit: 1000})
			if err != nil || len(es) == 0 {
				t.Fatalf("audit %s: %v", action, err)
			}
			return es[len(es)-1].Reason
		}
		refused := func(what string, err error, reason string) {
			t.Helper()
			if rempart.ErrorCode(err) != rempart.EUNAUTHORIZED {
				t.Fatalf("%s: got %v, want refused", what, err)
			}
			if got := lastReason("auth.sso"); !strings.Contains(got, reason) {
				t.Fatalf("%s: audited reason %q, want %q", what, got, reason)
			}
		}

		// Just-in-time provisioning with the mapped role.
		l := begin("dwho@badwolf.org", "dwho")
		in1, err := finish(l)
		if err != nil {
			t.Fatal(err)
		}
		if in1.ReturnTo != "/tenants/"+ten {
			t.Fatalf("return to %q", in1.ReturnTo)
		}
		c, err := id.AuthenticateSession(ctx, rempart.Caller{}, in1.Session.Token, rempart.SessionConsole)
		if err != nil || c.Principal.TenantID != ten || c.Principal.Role != rempart.RoleAdmin {
			t.Fatalf("provisioned session: %+v, %v", c.Principal, err)
		}
		dwho, err := d.UserByEmail(ctx, "dwho@badwolf.org")
		if err != nil || dwho.ID != c.Principal.ID || dwho.PasswordHash != "" || dwho.Name != "Doctor Who" {
			t.Fatalf("provisioned user: %+v, %v", dwho, err)
		}
		if r := lastReason("user.provision"); r != "role admin by "+op.Issuer {
			t.Fatalf("provision audited as %q", r)
		}
		// The same callback again is a replay.
		_, err = finish(l)
		refused("replayed callback", err, "callback replayed")

		// A second sign-in finds the same user by (issuer, subject).
		in2, err := finish(begin("dwho@badwolf.org", "dwho"))
		if err != nil || in2.Session.UserID != dwho.ID {
			t.Fatalf("second sign-in: %+v, %v", in2.Session, err)
		}

		// Tampering: another browser's binding, an unknown state, and a
		// code spliced into another sign-in (its PKCE verifier differs).
		l = begin("dwho@badwolf.org", "dwho")
		_, err = id.SSOCallback(ctx, rempart.Caller{}, l.back["state"], l.back["code"], "someone-else", "")
		refused("wrong binding", err, "not started by this browser")
		_, err = id.SSOCallback(ctx, rempart.Caller{}, l.back["state"]+"x", l.back["code"], l.start.Binding, "")
		refused("unknown state", err, "unknown state")
		other := begin("dwho@badwolf.org", "dwho")
		_, err = id.SSOCallback(ctx, rempart.Caller{}, other.back["state"], l.back["code"], other.start.Binding, "")
		refused("spliced code", err, "code or ID token refused")
		_, err = id.SSOCallback(ctx, rempart.Caller{}, begin("dwho@badwolf.org", "dwho").back["state"], "", "", "access_denied")
		refused("an error from the provider without binding", err, "not started by this browser")

		// No mapped role, and no default: refused.
		_, err = finish(begin("rtyler@badwolf.org", "rtyler"))
		refused("no mapped role", err, "no mapped role")

		// An existing account of the tenant is linked, keeping its role.
		inv, err := id.Invite(ctx, admin, ten, rempart.InvitationCreate{Email: "msmith@badwolf.org", Role: rempart.RoleReader})
		if err != nil {
			t.Fatal(err)
		}
		ms, err := id.AcceptInvitation(ctx, rempart.Caller{}, rempart.InvitationAccept{Token: inv.Token, Name: "Mickey", Password: "Quartz-fjord-v1xen-walk"})
		if err != nil {
			t.Fatal(err)
		}
		in.ClientSecret, in.JITProvisioning, in.DefaultRole = "", false, rempart.RoleWriter // keep the secret
		if _, err := id.UpdateSSOProvider(ctx, admin, ten, p.ID, in); err != nil {
			t.Fatal(err)
		}
		in3, err := finish(begin("msmith@badwolf.org", "msmith"))
		if err != nil || in3.Session.UserID != ms.ID {
			t.Fatalf("linking an existing user: %+v, %v", in3.Session, err)
		}
		if c, err := id.AuthenticateSession(ctx, rempart.Caller{}, in3.Session.Token, rempart.SessionConsole); err != nil || c.Principal.Role != rempart.RoleReader {
			t.Fatalf("linked session: %+v, %v", c.Principal, err)
		}
		// Single sign-on does not replace a second factor (IAM-4): with one
		// enrolled, the callback opens no session but leaves the second
		// step due, which a code completes.
		me, err := id.AuthenticateSession(ctx, rempart.Caller{}, in3.Session.Token, rempart.SessionConsole)
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
		in4, err := finish(begin("msmith@badwolf.org", "msmith"))
		if err != nil || in4.Challenge == "" || in4.Session.Token != "" {
			t.Fatalf("single sign-on of a person with a second factor: %+v, %v; want a challenge and no session", in4, err)
		}
		if r := lastReason("auth.sso.identified"); r != "second factor due" {
			t.Fatalf("identified audited as %q", r)
		}
		clock.Advance(30 * time.Second)
		done, err := id.CompleteSignIn(ctx, rempart.Caller{}, in4.Challenge, totp.Code(secret, clock.Now()), rempart.SessionConsole)
		if err != nil || done.UserID != ms.ID {
			t.Fatalf("second step after single sign-on: %+v, %v", done, err)
		}

		// With provisioning off, someone without an account is refused.
		_, err = finish(begin("rtyler@badwolf.org", "rtyler"))
		refused("provisioning off", err, "no account and provisioning off")

		// A suspended user is refused.
		if err := id.SetUserStatus(ctx, admin, ten, dwho.ID, rempart.UserSuspended); err != nil {
			t.Fatal(err)
		}
		_, err = finish(begin("dwho@badwolf.org", "dwho"))
		refused("suspended user", err, "user suspended")

		// A disabled provider: a started sign-in fails, a new one cannot start.
		l = begin("msmith@badwolf.org", "msmith")
		in.Enabled = false
		if _, err := id.UpdateSSOProvider(ctx, admin, ten, p.ID, in); err != nil {
			t.Fatal(err)
		}
		_, err = finish(l)
		refused("disabled provider", err, "provider disabled")
		if _, err := id.StartSSO(ctx, rempart.Caller{}, "msmith@badwolf.org", "/"); rempart.ErrorCode(err) != rempart.EUNAUTHORIZED {
			t.Fatalf("start at a disabled provider: %v", err)
		}
		if r := lastReason("auth.sso.start"); r != "provider disabled" {
			t.Fatalf("start audited as %q", r)
		}
		if _, err := id.StartSSO(ctx, rempart.Caller{}, "who@unknown.example", "/"); rempart.ErrorCode(err) != rempart.EUNAUTHORIZED {
			t.Fatalf("start for an unknown domain: %v", err)
		}
		if r := lastReason("auth.sso.start"); r != "no provider for domain unknown.example" {
			t.Fatalf("unknown domain audited as %q", r)
		}

		// A staff provider whose domain the provider's emails are not in.
		sin := rempart.SSOProviderInput{Name: "Staff", Issuer: op.Issuer, ClientID: "rempart", ClientSecret: "rp-Secret-0123456789",
			EmailDomains: []string{"staff.example"}, JITProvisioning: true, DefaultRole: rempart.RoleAuditor, Enabled: true}
		if _, err := id.CreateSSOProvider(ctx, staff, "", sin); err != nil {
			t.Fatal(err)
		}
		_, err = finish(begin("ops@staff.example", "rtyler"))
		refused("email domain not allowed", err, "email domain badwolf.org not allowed")

		// Deleting the tenant's provider removes its domains and links.
		if err := id.DeleteSSOProvider(ctx, admin, ten, p.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := d.UserBySSO(ctx, op.Issuer, "dwho"); rempart.ErrorCode(err) != rempart.ENOTFOUND {
			t.Fatalf("link after deletion: %v", err)
		}
	})
}

// testSealer seals single sign-on client secrets under a fixed test key.
func testSealer(t *testing.T) keys.Sealer {
	t.Helper()
	s, err := keys.NewSealer(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
