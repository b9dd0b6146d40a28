package web_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/identity"
	"github.com/rempart/rempart/identity/oidc"
	"github.com/rempart/rempart/identity/saml"
	"github.com/rempart/rempart/internal/browsertest"
	"github.com/rempart/rempart/internal/oidctest"
	"github.com/rempart/rempart/keys"
	"github.com/rempart/rempart/web"
)

// newSAMLConsole runs the console over TLS with a real database, its SAML
// service provider registered (from the metadata the console serves) at a
// real SAML identity provider, and a tenant whose badwolf.org people sign in
// through it, provisioned as admins when in the group "timelords".
// With postOnly, the identity provider's metadata offers only the HTTP-POST
// binding for requests.
func newSAMLConsole(t *testing.T, postOnly bool) (*ssoConsole, *oidctest.Provider) {
	t.Helper()
	ctx := context.Background()
	var h http.Handler
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	key, cert, err := saml.GenerateKey("console test")
	if err != nil {
		t.Fatal(err)
	}
	sp, err := saml.New(srv.URL+"/sso/saml/metadata", srv.URL+"/sso/saml/acs", key, cert)
	if err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(ctx, db.Config{DSN: "sqlite:" + filepath.Join(t.TempDir(), "rempart.db"), Clock: rempart.SystemClock{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	id := identity.New(d, rempart.SystemClock{}, identity.Config{SSO: identity.SSOConfig{OIDC: &oidc.Client{},
		Secrets: testSealer(t), RedirectURL: srv.URL + "/sso/callback", SAML: sp, LoopbackHTTP: true}})
	h = web.New(web.Config{Sessions: web.IdentitySessions(id), SSO: web.IdentitySSO(id), SSOAdmin: id, SSOCallbackURL: srv.URL + "/sso/callback",
		SAMLMetadata: sp.Metadata, SAMLEntityID: sp.EntityID(), SAMLACSURL: sp.ACSURL(), CSRFKey: []byte("0123456789abcdef0123456789abcdef")})

	// The identity provider learns the service provider from the metadata
	// the console publishes, which holds no private key.
	resp, md := get(t, srv.Client(), srv.URL+"/sso/saml/metadata")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/samlmetadata+xml" ||
		!strings.Contains(md, `entityID="`+srv.URL+`/sso/saml/metadata"`) || !strings.Contains(md, `Location="`+srv.URL+`/sso/saml/acs"`) ||
		!strings.Contains(md, `AuthnRequestsSigned="true"`) || strings.Contains(md, "PRIVATE") {
		t.Fatalf("service provider metadata: %s %s\n%s", resp.Status, resp.Header.Get("Content-Type"), md)
	}
	idp := oidctest.StartSAML(t, md)
	idpMD, err := idp.SAMLMetadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if postOnly {
		idpMD = regexp.MustCompile(`(?s)<SingleSignOnService\s+Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-(Redirect|Artifact)".*?/>`).ReplaceAll(idpMD, nil)
	}
	ten := rempart.Tenant{ID: rempart.NewID("ten"), Name: "Bad Wolf", Status: rempart.TenantActive}
	if _, err := d.CreateTenant(ctx, rempart.AuditEntry{Action: "tenant.create", Outcome: rempart.OutcomeSuccess, TenantID: ten.ID}, ten,
		keys.WrappedKeys{TenantID: ten.ID, DataKeyID: rempart.NewID("dk"), RootKeyID: "test", WrappedKEK: []byte("k"), WrappedDEK: []byte("d")}); err != nil {
		t.Fatal(err)
	}
	admin := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", TenantID: ten.ID, Role: rempart.RoleAdmin}}
	if _, err := id.CreateSSOProvider(ctx, admin, ten.ID, rempart.SSOProviderInput{Name: "Bad Wolf SAML", Protocol: rempart.SSOProtocolSAML,
		IDPMetadataXML: string(idpMD), EmailAttribute: "mail", EmailDomains: []string{"badwolf.org"}, JITProvisioning: true, RoleClaim: "groups",
		RoleMap: map[string]string{"timelords": rempart.RoleAdmin}, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	return &ssoConsole{srv: srv, id: id, tenant: ten.ID, db: d}, idp
}

// startSAML submits the sign-in page's single sign-on form, checks the
// binding cookie, and signs in at the identity provider: it returns where
// the provider posts its response, and the form it posts.
func startSAML(t *testing.T, c *ssoConsole, idp *oidctest.Provider, cl *http.Client, email, user, next string) (*url.URL, url.Values) {
	t.Helper()
	_, page := get(t, cl, c.srv.URL+"/sign-in")
	m := ssoCSRF.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no single sign-on form on the sign-in page:\n%s", page)
	}
	resp, err := cl.PostForm(c.srv.URL+"/sso/start", url.Values{"csrf": {m[1]}, "email": {email}, "next": {next}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	cont := ssoContinue.FindStringSubmatch(string(b))
	if resp.StatusCode != http.StatusOK || cont == nil {
		t.Fatalf("start: %s\n%s", resp.Status, b)
	}
	// The identity provider answers with a post from its own site: the
	// binding cookie must follow it (SameSite=None), Secure and HttpOnly.
	var ck *http.Cookie
	for _, x := range resp.Cookies() {
		if x.Name == "__Host-rempart-saml" {
			ck = x
		}
	}
	if ck == nil || ck.SameSite != http.SameSiteNoneMode || !ck.Secure || !ck.HttpOnly || ck.Path != "/" {
		t.Fatalf("binding cookie %+v", ck)
	}
	to := html.UnescapeString(cont[1])
	if !strings.HasPrefix(to, idp.Issuer+"/saml/singleSignOn?SAMLRequest=") {
		t.Fatalf("authentication request %s", to)
	}
	acs, form, err := idp.LogInSAML(context.Background(), cl, to, user, user)
	if err != nil {
		t.Fatal(err)
	}
	if acs.String() != c.srv.URL+"/sso/saml/acs" {
		t.Fatalf("the identity provider posts to %s", acs)
	}
	return acs, form
}

// postACS posts a SAML response to the console as the identity provider's
// page does: from the provider's site.
func postACS(t *testing.T, cl *http.Client, acs *url.URL, form url.Values, origin string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, acs.String(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// TestSAMLConsole signs in to the console through a real SAML identity
// provider (IAM-5): the response posted from the provider's site is
// accepted at the assertion consumer service, the person is provisioned
// with the mapped role and lands on the local page asked for (not on a
// RelayState); the response works once, only in the browser that started
// the sign-in, and a refusal says only "Single sign-on failed".
func TestSAMLConsole(t *testing.T) {
	c, idp := newSAMLConsole(t, false)
	ctx := context.Background()
	cl := c.browser()
	acs, form := startSAML(t, c, idp, cl, "dwho@badwolf.org", "dwho", "/tenants?x=1")
	form.Set("RelayState", "https://evil.example/") // ignored: the path was kept server-side
	resp, body := postACS(t, cl, acs, form, idp.Issuer)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/tenants?x=1" {
		t.Fatalf("assertion consumer service: %s to %q%s\n%s", resp.Status, resp.Header.Get("Location"), c.lastDenial(), body)
	}
	caller, err := c.id.AuthenticateSession(ctx, rempart.Caller{}, sessionOf(resp), rempart.SessionConsole)
	if err != nil || caller.Principal.Role != rempart.RoleAdmin || caller.Principal.TenantID != c.tenant {
		t.Fatalf("console session: %+v, %v", caller.Principal, err)
	}
	// The same response again: refused with the generic message.
	resp, body = postACS(t, cl, acs, form, idp.Issuer)
	if resp.StatusCode != http.StatusUnauthorized || sessionOf(resp) != "" || !strings.Contains(body, "Single sign-on failed.") || strings.Contains(body, "replayed") {
		t.Fatalf("replayed response: %s, session %q\n%s", resp.Status, sessionOf(resp), body)
	}
	// A response posted by another browser (without the binding cookie).
	acs, form = startSAML(t, c, idp, c.browser(), "dwho@badwolf.org", "dwho", "/")
	if resp, _ := postACS(t, c.browser(), acs, form, idp.Issuer); resp.StatusCode != http.StatusUnauthorized || sessionOf(resp) != "" {
		t.Fatalf("response in another browser: %s", resp.Status)
	}
	// Someone whose groups map to no role is refused, with the same message.
	cl = c.browser()
	acs, form = startSAML(t, c, idp, cl, "rtyler@badwolf.org", "rtyler", "/")
	resp, body = postACS(t, cl, acs, form, idp.Issuer)
	if resp.StatusCode != http.StatusUnauthorized || sessionOf(resp) != "" || !strings.Contains(body, "Single sign-on failed.") {
		t.Fatalf("unmapped role: %s\n%s", resp.Status, body)
	}
	// Other cross-site posts to the console are still refused.
	if resp, _ := postACS(t, c.browser(), &url.URL{Scheme: "https", Host: acs.Host, Path: "/sso/start"}, url.Values{"email": {"dwho@badwolf.org"}}, idp.Issuer); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a cross-site post to /sso/start: %s", resp.Status)
	}
}

// TestBrowserSAML signs in through the real SAML identity provider in a
// real Chromium (IAM-5): the single sign-on form, the forwarding page, the
// provider's login form, its page that posts the response back from its
// own site (the binding cookie must follow that cross-site post), and the
// page first asked for, signed in, with no CSP violation.
func TestBrowserSAML(t *testing.T) {
	for _, postOnly := range []bool{false, true} {
		t.Run(map[bool]string{false: "redirect binding", true: "POST binding"}[postOnly], func(t *testing.T) { browserSAML(t, postOnly) })
	}
}

// browserSAML signs in through the identity provider; with postOnly, the
// request goes by the HTTP-POST binding: a form the console's script posts
// to the provider, which the CSP of that page alone allows.
func browserSAML(t *testing.T, postOnly bool) {
	b := browsertest.New(t)
	c, idp := newSAMLConsole(t, postOnly)
	page := c.srv.URL + "/tenants/" + c.tenant + "/sso"
	b.Run(chromedp.Navigate(page), chromedp.WaitVisible("#sso-email"))
	b.Run(chromedp.SendKeys("#sso-email", "dwho@badwolf.org"))
	b.ClickAndLoad(`form[action="/sso/start"] button`)
	waitFor(t, b, `location.href.indexOf(`+strconv.Quote(idp.Issuer+"/")+`) === 0 && document.querySelector('input[name="password"]') !== null`, c.lastDenial)
	b.Run(chromedp.SendKeys(`input[name="user"]`, "dwho"), chromedp.SendKeys(`input[name="password"]`, "dwho"))
	browsertest.Get(b, chromedp.Evaluate[bool](`document.querySelector('input[name="password"]').form.submit(); true`))
	waitFor(t, b, `location.href === `+strconv.Quote(page)+` && document.querySelector("#list") !== null`, func() string {
		return c.lastDenial() + "\nidentity provider log:\n" + idp.Logs()
	})
	if got := browsertest.Get(b, chromedp.Text("header")); !strings.Contains(got, "dwho@badwolf.org") {
		t.Fatalf("header %q does not name the person", got)
	}
	if got := browsertest.Get(b, chromedp.Text("table")); !strings.Contains(got, "SAML 2.0") || !strings.Contains(got, idp.SAMLMetadataURL()) {
		t.Fatalf("providers table %q", got)
	}
	b.NoCSPViolations()
}
