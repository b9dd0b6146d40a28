package db_test

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/identity"
	"github.com/rempart/rempart/identity/oidc"
	"github.com/rempart/rempart/identity/saml"
	"github.com/rempart/rempart/identity/totp"
	"github.com/rempart/rempart/internal/oidctest"
	"github.com/rempart/rempart/internal/testclock"
)

// The service provider's addresses in TestSAMLSSO: never requested, the test
// hands the identity provider's response to the service itself.
const (
	samlEntityID = "http://127.0.0.1:1/sso/saml/metadata"
	samlACS      = "http://127.0.0.1:1/sso/saml/acs"
)

// newTestSP makes a SAML service provider with a fresh key.
func newTestSP(t *testing.T, entityID, acs string) *saml.ServiceProvider {
	t.Helper()
	key, cert, err := saml.GenerateKey("test " + entityID)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := saml.New(entityID, acs, key, cert)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// requestID reads the ID of the authentication request in a redirect-binding
// URL.
func requestID(t *testing.T, redirect string) string {
	t.Helper()
	u, err := url.Parse(redirect)
	if err != nil {
		t.Fatal(err)
	}
	z, err := base64.StdEncoding.DecodeString(u.Query().Get("SAMLRequest"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(flate.NewReader(bytes.NewReader(z)))
	if err != nil {
		t.Fatal(err)
	}
	var req struct {
		ID string `xml:"ID,attr"`
	}
	if err := xml.Unmarshal(raw, &req); err != nil || req.ID == "" {
		t.Fatalf("authentication request %s: %v", raw, err)
	}
	return req.ID
}

// TestSAMLSSO runs single sign-on through a SAML 2.0 identity provider
// (IAM-5), LemonLDAP::NG with Lasso, through the identity service and the
// store on both dialects: the identity provider's metadata checked, JIT
// provisioning with an attribute mapped to a role, linking by (entity ID,
// NameID) and by email, a second factor still due, and each refusal,
// audited with its reason: a replayed response, a response for another
// service provider (audience), a tampered assertion, an unknown or missing
// InResponseTo, another browser.
func TestSAMLSSO(t *testing.T) {
	sp := newTestSP(t, samlEntityID, samlACS)
	// The validity times are checked against crewjam's clock, which a case
	// below moves: nothing else may run meanwhile.
	// Another service provider known to the identity provider, whose
	// assertions go to the same address but name it as their audience.
	other := newTestSP(t, "https://other.example/saml", samlACS)
	spMD, err := sp.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	otherMD, err := other.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	idp := oidctest.StartSAML(t, string(spMD), string(otherMD))
	ctx := context.Background()
	idpMD, err := idp.SAMLMetadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dialects(t, func(t *testing.T, open func(t *testing.T) *db.DB) {
		d := open(t)
		clock := testclock.New(time.Now())
		id := identity.New(d, clock, identity.Config{MFAKey: bytes.Repeat([]byte{7}, 32), SSO: identity.SSOConfig{OIDC: &oidc.Client{},
			Secrets: testSealer(t), RedirectURL: ssoRedirect, SAML: sp, LoopbackHTTP: true}})
		ten := newTenant(t, d, "Bad Wolf").TenantID()
		admin := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", TenantID: ten, Role: rempart.RoleAdmin}}

		// The metadata is fetched once from its URL and checked.
		in := rempart.SSOProviderInput{Name: "Bad Wolf SAML", Protocol: rempart.SSOProtocolSAML, IDPMetadataURL: idp.SAMLMetadataURL(),
			EmailDomains: []string{"badwolf.org"}, JITProvisioning: true, RoleClaim: "groups", RoleMap: map[string]string{"timelords": rempart.RoleAdmin}, Enabled: true}
		for name, edit := range map[string]func(*rempart.SSOProviderInput){
			"metadata without a signing certificate": func(b *rempart.SSOProviderInput) {
				b.IDPMetadataURL, b.IDPMetadataXML = "", regexp.MustCompile(`(?s)<KeyDescriptor.*?</KeyDescriptor>`).ReplaceAllString(string(idpMD), "")
			},
			"not metadata":              func(b *rempart.SSOProviderInput) { b.IDPMetadataURL, b.IDPMetadataXML = "", "<html/>" },
			"no metadata":               func(b *rempart.SSOProviderInput) { b.IDPMetadataURL = "" },
			"both XML and URL":          func(b *rempart.SSOProviderInput) { b.IDPMetadataXML = string(idpMD) },
			"an unreachable URL":        func(b *rempart.SSOProviderInput) { b.IDPMetadataURL = "http://127.0.0.1:1/saml/metadata" },
			"a plain http URL":          func(b *rempart.SSOProviderInput) { b.IDPMetadataURL = "http://idp.example/saml/metadata" },
			"an OpenID client's fields": func(b *rempart.SSOProviderInput) { b.ClientID = "x" },
		} {
			bad := in
			edit(&bad)
			if _, err := id.CreateSSOProvider(ctx, admin, ten, bad); rempart.ErrorCode(err) != rempart.EINVALID {
				t.Fatalf("%s: got %v, want invalid", name, err)
			}
		}
		p, err := id.CreateSSOProvider(ctx, admin, ten, in)
		if err != nil {
			t.Fatal(err)
		}
		entity := idp.SAMLMetadataURL() // LemonLDAP::NG's entity ID is its metadata URL
		if p.Protocol != rempart.SSOProtocolSAML || p.Issuer != entity || p.IDPSSOURL != idp.Issuer+"/saml/singleSignOn" || p.ClientSecretSet || p.IDPMetadataURL != in.IDPMetadataURL {
			t.Fatalf("provider: %+v", p)
		}
		if got, err := id.SSOProvider(ctx, admin, ten, p.ID); err != nil || got.Protocol != rempart.SSOProtocolSAML || got.Issuer != entity {
			t.Fatalf("stored provider: %+v, %v", got, err)
		}

		type login struct {
			start identity.SSOStart
			resp  string
		}
		begin := func(email, user string) login {
			t.Helper()
			st, err := id.StartSSO(ctx, rempart.Caller{IP: "192.0.2.9"}, email, "/tenants/"+ten)
			if err != nil {
				t.Fatalf("start for %s: %v", email, err)
			}
			if st.Protocol != rempart.SSOProtocolSAML || !strings.HasPrefix(st.URL, idp.Issuer+"/saml/singleSignOn?SAMLRequest=") || !strings.Contains(st.URL, "&Signature=") {
				t.Fatalf("authentication request %+v", st)
			}
			jar, _ := cookiejar.New(nil)
			to, form, err := idp.LogInSAML(ctx, &http.Client{Jar: jar}, st.URL, user, user)
			if err != nil {
				t.Fatal(err)
			}
			if to.String() != samlACS {
				t.Fatalf("the identity provider posts to %s", to)
			}
			return login{st, form.Get("SAMLResponse")}
		}
		finish := func(l login) (identity.SSOSignedIn, error) {
			return id.SAMLResponse(ctx, rempart.Caller{IP: "192.0.2.9"}, l.resp, l.start.Binding)
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
			if rempart.ErrorCode(err) != rempart.EUNAUTHORIZED || !strings.Contains(rempart.ErrorMessage(err), "Single sign-on failed") {
				t.Fatalf("%s: got %v, want refused", what, err)
			}
			if got := lastReason("auth.sso"); !strings.Contains(got, reason) {
				t.Fatalf("%s: audited reason %q, want %q", what, got, reason)
			}
		}
		// edit changes a response's XML (which breaks its signatures).
		edit := func(resp string, f func(string) string) string {
			raw, err := base64.StdEncoding.DecodeString(resp)
			if err != nil {
				t.Fatal(err)
			}
			changed := f(string(raw))
			if changed == string(raw) {
				t.Fatal("the edit changed nothing")
			}
			return base64.StdEncoding.EncodeToString([]byte(changed))
		}

		// Just-in-time provisioning with the role the groups attribute maps.
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
		if err != nil || dwho.ID != c.Principal.ID || dwho.PasswordHash != "" {
			t.Fatalf("provisioned user: %+v, %v", dwho, err)
		}
		if r := lastReason("user.provision"); r != "role admin by "+entity {
			t.Fatalf("provision audited as %q", r)
		}
		if u, err := d.UserBySSO(ctx, entity, "dwho@badwolf.org"); err != nil || u.ID != dwho.ID {
			t.Fatalf("link (entity ID, NameID): %+v, %v", u, err)
		}
		// The same response again is a replay.
		_, err = finish(l)
		refused("replayed response", err, "callback replayed")

		// A second sign-in finds the same user by (entity ID, NameID).
		in2, err := finish(begin("dwho@badwolf.org", "dwho"))
		if err != nil || in2.Session.UserID != dwho.ID {
			t.Fatalf("second sign-in: %+v, %v", in2.Session, err)
		}

		// A response that the identity provider made for another service
		// provider, to this very request: its audience is not this one.
		st, err := id.StartSSO(ctx, rempart.Caller{}, "dwho@badwolf.org", "/")
		if err != nil {
			t.Fatal(err)
		}
		forOther, err := other.AuthnRequest(idpMD, requestID(t, st.URL))
		if err != nil {
			t.Fatal(err)
		}
		jar, _ := cookiejar.New(nil)
		if _, form, err := idp.LogInSAML(ctx, &http.Client{Jar: jar}, forOther.URL, "dwho", "dwho"); err != nil {
			t.Fatal(err)
		} else {
			_, err = finish(login{st, form.Get("SAMLResponse")})
			refused("a response for another service provider", err, "audience")
		}

		// A tampered assertion: another person's email in a genuine response.
		l = begin("rtyler@badwolf.org", "rtyler")
		_, err = finish(login{l.start, edit(l.resp, func(x string) string { return strings.ReplaceAll(x, "rtyler@badwolf.org", "dwho@badwolf.org") })})
		refused("tampered assertion", err, "SAML response refused")
		// Signatures are required: without any, even an untouched response
		// is refused.
		l = begin("rtyler@badwolf.org", "rtyler")
		unsigned := regexp.MustCompile(`(?s)<Signature xmlns="http://www.w3.org/2000/09/xmldsig#">.*?</Signature>`)
		_, err = finish(login{l.start, edit(l.resp, func(x string) string { return unsigned.ReplaceAllString(x, "") })})
		refused("unsigned response", err, "SAML response refused")
		// A response to a request nobody made, and an unsolicited one.
		l = begin("dwho@badwolf.org", "dwho")
		inResponseTo := regexp.MustCompile(`InResponseTo="[^"]*"`)
		_, err = finish(login{l.start, edit(l.resp, func(x string) string { return inResponseTo.ReplaceAllString(x, `InResponseTo="id-unknown"`) })})
		refused("unknown InResponseTo", err, "unknown state")
		_, err = finish(login{l.start, edit(l.resp, func(x string) string { return inResponseTo.ReplaceAllString(x, "") })})
		refused("unsolicited response", err, "unsolicited SAML response")
		// Another browser (without this sign-in's binding).
		_, err = id.SAMLResponse(ctx, rempart.Caller{}, l.resp, "someone-else")
		refused("another browser", err, "not started by this browser")
		// The genuine response still works once in its own browser.
		if _, err := finish(l); err != nil {
			t.Fatalf("the untouched response: %v", err)
		}

		// Validity times, with the service provider's clock moved: a
		// response ten minutes old has expired, one from ten minutes in
		// the future is not valid yet.
		for _, skew := range []time.Duration{10 * time.Minute, -10 * time.Minute} {
			l = begin("dwho@badwolf.org", "dwho")
			now := crewjam.TimeNow
			crewjam.TimeNow = func() time.Time { return now().Add(skew) }
			_, err = finish(l)
			crewjam.TimeNow = now
			refused(fmt.Sprintf("a response with the clock moved by %s", skew), err, "SAML response refused")
		}

		// rtyler's groups map to no role, and there is no default.
		_, err = finish(begin("rtyler@badwolf.org", "rtyler"))
		refused("no mapped role", err, "no mapped role")

		// An existing account of the tenant is linked by email, keeping
		// its role; the email comes from the mail attribute now.
		inv, err := id.Invite(ctx, admin, ten, rempart.InvitationCreate{Email: "msmith@badwolf.org", Role: rempart.RoleReader})
		if err != nil {
			t.Fatal(err)
		}
		ms, err := id.AcceptInvitation(ctx, rempart.Caller{}, rempart.InvitationAccept{Token: inv.Token, Name: "Mickey", Password: "Quartz-fjord-v1xen-walk"})
		if err != nil {
			t.Fatal(err)
		}
		in.IDPMetadataURL, in.EmailAttribute, in.JITProvisioning, in.DefaultRole = "", "mail", false, rempart.RoleWriter // keep the metadata
		if _, err := id.UpdateSSOProvider(ctx, admin, ten, p.ID, in); err != nil {
			t.Fatal(err)
		}
		in3, err := finish(begin("msmith@badwolf.org", "msmith"))
		if err != nil || in3.Session.UserID != ms.ID {
			t.Fatalf("linking an existing user: %+v, %v", in3.Session, err)
		}
		if r := lastReason("sso.link"); !strings.Contains(r, entity) {
			t.Fatalf("link audited as %q", r)
		}
		me, err := id.AuthenticateSession(ctx, rempart.Caller{}, in3.Session.Token, rempart.SessionConsole)
		if err != nil || me.Principal.Role != rempart.RoleReader {
			t.Fatalf("linked session: %+v, %v", me.Principal, err)
		}

		// Single sign-on does not replace a second factor (IAM-4).
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
			t.Fatalf("SAML sign-in of a person with a second factor: %+v, %v; want a challenge and no session", in4, err)
		}
		clock.Advance(30 * time.Second)
		if done, err := id.CompleteSignIn(ctx, rempart.Caller{}, in4.Challenge, totp.Code(secret, clock.Now()), rempart.SessionConsole); err != nil || done.UserID != ms.ID {
			t.Fatalf("second step after SAML sign-in: %+v, %v", done, err)
		}

		// With provisioning off, someone without an account is refused.
		if _, err := d.UserByEmail(ctx, "rtyler@badwolf.org"); rempart.ErrorCode(err) != rempart.ENOTFOUND {
			t.Fatalf("rtyler has an account: %v", err)
		}
		_, err = finish(begin("rtyler@badwolf.org", "rtyler"))
		refused("provisioning off", err, "no account and provisioning off")

		// A suspended user is refused.
		if err := id.SetUserStatus(ctx, admin, ten, dwho.ID, rempart.UserSuspended); err != nil {
			t.Fatal(err)
		}
		_, err = finish(begin("dwho@badwolf.org", "dwho"))
		refused("suspended user", err, "user suspended")

		// An identity provider that takes requests only by the HTTP-POST
		// binding: the request goes as a signed form, and is answered the
		// same way.
		postOnly := regexp.MustCompile(`(?s)<SingleSignOnService\s+Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-(Redirect|Artifact)".*?/>`).ReplaceAllString(string(idpMD), "")
		if strings.Contains(postOnly, "bindings:HTTP-Redirect\"\n      Location=\""+idp.Issuer+"/saml/singleSignOn") || !strings.Contains(postOnly, "bindings:HTTP-POST") {
			t.Fatalf("metadata without the redirect binding:\n%s", postOnly)
		}
		in.IDPMetadataXML = postOnly
		if p, err = id.UpdateSSOProvider(ctx, admin, ten, p.ID, in); err != nil || p.IDPSSOURL != idp.Issuer+"/saml/singleSignOn" {
			t.Fatalf("a provider with the POST binding only: %+v, %v", p, err)
		}
		in.IDPMetadataXML = ""
		st, err = id.StartSSO(ctx, rempart.Caller{}, "msmith@badwolf.org", "/")
		if err != nil || st.URL != idp.Issuer+"/saml/singleSignOn" || st.Form["SAMLRequest"] == "" {
			t.Fatalf("start by the POST binding: %+v, %v", st, err)
		}
		jar, _ = cookiejar.New(nil)
		_, form, err := idp.LogInSAMLPost(ctx, &http.Client{Jar: jar}, st.URL, url.Values{"SAMLRequest": {st.Form["SAMLRequest"]}}, "msmith", "msmith")
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(30 * time.Second)
		if in5, err := finish(login{st, form.Get("SAMLResponse")}); err != nil || in5.Challenge == "" {
			t.Fatalf("a sign-in by the POST binding: %+v, %v", in5, err)
		}
		in.IDPMetadataXML = string(idpMD)
		if _, err := id.UpdateSSOProvider(ctx, admin, ten, p.ID, in); err != nil {
			t.Fatal(err)
		}

		// A SAML response cannot complete an OpenID sign-in, nor the
		// reverse: the state of one is unknown to the other's provider.
		l = begin("msmith@badwolf.org", "msmith")
		_, err = id.SSOCallback(ctx, rempart.Caller{}, requestID(t, l.start.URL), "code", l.start.Binding, "")
		refused("a SAML sign-in completed as OpenID", err, "another protocol")
	})
}
