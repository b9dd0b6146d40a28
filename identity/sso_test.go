package identity_test

import (
	"bytes"
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/identity"
	"github.com/rempart/rempart/internal/testclock"
	"github.com/rempart/rempart/keys"
)

// fakeOIDC is an in-process provider for unit tests of what the identity
// service checks itself (the end-to-end tests use a real provider): it
// hands back the identity the test sets, and remembers the nonce sent.
type fakeOIDC struct {
	nonce    string
	identity identity.OIDCIdentity
	err      error
}

func (f *fakeOIDC) Check(context.Context, string) error { return nil }

func (f *fakeOIDC) AuthCodeURL(_ context.Context, c identity.OIDCClient, state, nonce, verifier string) (string, error) {
	f.nonce = nonce
	return c.Issuer + "/authorize?" + url.Values{"state": {state}, "nonce": {nonce}}.Encode(), nil
}

func (f *fakeOIDC) Exchange(context.Context, identity.OIDCClient, string, string) (identity.OIDCIdentity, error) {
	return f.identity, f.err
}

// TestSSOChecksTheIDToken: with a provider that returns what the test
// chooses, a wrong nonce, another issuer, an unverified email and a failed
// exchange are each refused and audited with their reason (IAM-5).
func TestSSOChecksTheIDToken(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := db.Open(ctx, db.Config{DSN: "sqlite:" + filepath.Join(dir, "r.db"), Clock: rempart.SystemClock{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	op := &fakeOIDC{}
	id := identity.New(d, testclock.New(time.Now()), identity.Config{SSO: identity.SSOConfig{OIDC: op, Secrets: testSealer(t),
		RedirectURL: "https://rempart.example/sso/callback"}})
	staff := rempart.Caller{Principal: rempart.Principal{ID: "sa_staff", Role: rempart.RoleSystemAdmin}}
	const issuer = "https://login.example.com"
	if _, err := id.CreateSSOProvider(ctx, staff, "", rempart.SSOProviderInput{Name: "Staff", Issuer: issuer + "/", ClientID: "c", ClientSecret: "s",
		EmailDomains: []string{"example.com"}, JITProvisioning: true, RoleClaim: "groups", RoleMap: map[string]string{"ops": rempart.RoleSystemAdmin},
		DefaultRole: rempart.RoleAuditor, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	verified, unverified := true, false
	good := func() identity.OIDCIdentity {
		return identity.OIDCIdentity{Issuer: issuer, Subject: "u1", Email: "Ada@Example.com", EmailVerified: &verified, Name: "Ada",
			Claims: map[string]any{"groups": []any{"dev", "ops"}}}
	}
	try := func(edit func(*identity.OIDCIdentity), exchangeErr error) (identity.SSOSignedIn, error) {
		st, err := id.StartSSO(ctx, rempart.Caller{}, "ada@example.com", "/audit")
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(st.URL)
		op.identity, op.err = good(), exchangeErr
		op.identity.Nonce = op.nonce
		if edit != nil {
			edit(&op.identity)
		}
		return id.SSOCallback(ctx, rempart.Caller{}, u.Query().Get("state"), "code", st.Binding, "")
	}
	for _, tc := range []struct {
		name, reason string
		edit         func(*identity.OIDCIdentity)
		err          error
	}{
		{"wrong nonce", "wrong nonce", func(i *identity.OIDCIdentity) { i.Nonce = "other" }, nil},
		{"no nonce", "wrong nonce", func(i *identity.OIDCIdentity) { i.Nonce = "" }, nil},
		{"another issuer", "wrong issuer or no subject", func(i *identity.OIDCIdentity) { i.Issuer = "https://evil.example" }, nil},
		{"no subject", "wrong issuer or no subject", func(i *identity.OIDCIdentity) { i.Subject = "" }, nil},
		{"unverified email", "email not verified", func(i *identity.OIDCIdentity) { i.EmailVerified = &unverified }, nil},
		{"no email", "no usable email", func(i *identity.OIDCIdentity) { i.Email = "" }, nil},
		{"exchange refused", "code or ID token refused: oidc: token is expired", nil, errors.New("oidc: token is expired")},
	} {
		if _, err := try(tc.edit, tc.err); rempart.ErrorCode(err) != rempart.EUNAUTHORIZED || rempart.ErrorMessage(err) != "Single sign-on failed. Try again, or ask your administrator." {
			t.Errorf("%s: got %v, want the generic refusal", tc.name, err)
			continue
		}
		es, err := d.AuditLog(ctx, audit.Query{Action: "auth.sso", Limit: 1000})
		if err != nil || len(es) == 0 || es[len(es)-1].Reason != tc.reason || es[len(es)-1].Outcome != rempart.OutcomeDenied {
			t.Errorf("%s: audited %+v, want reason %q", tc.name, es[len(es)-1], tc.reason)
		}
	}
	// A provider's error, from the callback's query, is recorded as valid
	// UTF-8 whatever bytes it holds and wherever it is cut.
	st, err := id.StartSSO(ctx, rempart.Caller{}, "ada@example.com", "/")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(st.URL)
	if _, err := id.SSOCallback(ctx, rempart.Caller{}, u.Query().Get("state"), "", st.Binding, "\xff"+strings.Repeat("é", 40)); rempart.ErrorCode(err) != rempart.EUNAUTHORIZED {
		t.Fatalf("provider error: %v, want the generic refusal", err)
	}
	if es, err := d.AuditLog(ctx, audit.Query{Action: "auth.sso", Limit: 1000}); err != nil || len(es) == 0 {
		t.Fatalf("audit: %v", err)
	} else if r := es[len(es)-1].Reason; !utf8.ValidString(r) || !strings.HasPrefix(r, "provider answered error \uFFFDé") || len(r) > len("provider answered error ")+64 {
		t.Errorf("provider error audited as %q, want it valid UTF-8 and clipped", r)
	}

	// The first mapped value of the claim wins over the default role.
	in, err := try(nil, nil)
	if err != nil || in.ReturnTo != "/audit" {
		t.Fatalf("sign-in: %+v, %v", in, err)
	}
	c, err := id.AuthenticateSession(ctx, rempart.Caller{}, in.Session.Token, rempart.SessionConsole)
	if err != nil || c.Principal.Role != rempart.RoleSystemAdmin || c.Principal.TenantID != "" {
		t.Fatalf("staff session: %+v, %v", c.Principal, err)
	}
}

// TestLocalPath: only paths on this site are kept for after sign-in.
func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"/tenants?x=1": "/tenants?x=1", "/": "/", "": "/", "https://evil.example/": "/", "//evil.example": "/",
		"/\\evil.example": "/", "\\\\evil.example": "/", "http:/evil": "/", "javascript:alert(1)": "/", "/a\r\nb": "/",
		"evil.example": "/", " /x": "/",
	} {
		if got := identity.LocalPath(in); got != want {
			t.Errorf("LocalPath(%q) = %q, want %q", in, got, want)
		}
	}
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

// TestIsLoopback: plain http is allowed (in tests, and to a mirror on this
// host) only where the host names this machine.
func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{"localhost": true, "127.0.0.1": true, "127.8.9.1": true, "::1": true,
		"10.0.0.1": false, "example.com": false, "localhost.example.com": false, "": false, "0.0.0.0": false} {
		if got := identity.IsLoopback(host); got != want {
			t.Errorf("%q: %v, want %v", host, got, want)
		}
	}
}
