package web_test

import (
	"bytes"
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"
	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/identity"
	"github.com/rempart/rempart/identity/oidc"
	"github.com/rempart/rempart/internal/browsertest"
	"github.com/rempart/rempart/internal/oidctest"
	"github.com/rempart/rempart/keys"
	"github.com/rempart/rempart/web"
)

var (
	ssoCSRF     = regexp.MustCompile(`action="/sso/start">\s*<h2>[^<]*</h2>\s*<input type="hidden" name="csrf" value="([^"]+)"`)
	ssoContinue = regexp.MustCompile(`id="continue" href="([^"]+)"`)
)

type ssoConsole struct {
	srv *httptest.Server
	op  *oidctest.Provider
	id  *identity.Service
	// tenant is the tenant whose people sign in through op.
	tenant string
	db     *db.DB
}

// newSSOConsole runs the console over TLS (its cookies are __Host- and
// Secure) with a real database and a real OpenID provider, and a tenant
// whose badwolf.org people sign in through it, provisioned as admins when
// in the provider's group "timelords".
func newSSOConsole(t *testing.T) *ssoConsole {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	var h http.Handler
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	redirect := srv.URL + "/sso/callback"
	op := oidctest.Start(t, oidctest.Client{ID: "console", Secret: "console-Secret-42", RedirectURI: redirect})
	d, err := db.Open(ctx, db.Config{DSN: "sqlite:" + filepath.Join(dir, "rempart.db"), Clock: rempart.SystemClock{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	id := identity.New(d, rempart.SystemClock{}, identity.Config{SSO: identity.SSOConfig{OIDC: &oidc.Client{},
		Secrets: testSealer(t), RedirectURL: redirect, LoopbackHTTP: true}})
	ten := rempart.Tenant{ID: rempart.NewID("ten"), Name: "Bad Wolf", Status: rempart.TenantActive}
	if _, err := d.CreateTenant(ctx, rempart.AuditEntry{Action: "tenant.create", Outcome: rempart.OutcomeSuccess, TenantID: ten.ID}, ten,
		keys.WrappedKeys{TenantID: ten.ID, DataKeyID: rempart.NewID("dk"), RootKeyID: "test", WrappedKEK: []byte("k"), WrappedDEK: []byte("d")}); err != nil {
		t.Fatal(err)
	}
	admin := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", TenantID: ten.ID, Role: rempart.RoleAdmin}}
	if _, err := id.CreateSSOProvider(ctx, admin, ten.ID, rempart.SSOProviderInput{Name: "Bad Wolf", Issuer: op.Issuer, ClientID: "console",
		ClientSecret: "console-Secret-42", EmailDomains: []string{"badwolf.org"}, JITProvisioning: true, RoleClaim: "groups",
		RoleMap: map[string]string{"timelords": rempart.RoleAdmin}, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	h = web.New(web.Config{Sessions: web.IdentitySessions(id), SSO: web.IdentitySSO(id), SSOAdmin: id, SSOCallbackURL: redirect, CSRFKey: []byte("0123456789abcdef0123456789abcdef")})
	return &ssoConsole{srv: srv, op: op, id: id, tenant: ten.ID, db: d}
}

// browser is an HTTP client with its own cookies that does not follow
// redirects.
func (c *ssoConsole) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	cl := *c.srv.Client()
	cl.Jar = jar
	cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cl
}

func get(t *testing.T, cl *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := cl.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// start submits the sign-in page's single sign-on form and signs in at the
// provider: it returns the provider's redirect back to the console.
func (c *ssoConsole) start(t *testing.T, cl *http.Client, email, user, next string) *url.URL {
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
	if !strings.Contains(string(b), `<meta http-equiv="refresh" content="0;url=`+cont[1]+`">`) {
		t.Fatalf("the continue page does not go on by itself:\n%s", b)
	}
	to := html.UnescapeString(cont[1])
	if !strings.HasPrefix(to, c.op.Issuer+"/") || !strings.Contains(to, "code_challenge_method=S256") || !strings.Contains(to, "nonce=") {
		t.Fatalf("authorisation request %s", to)
	}
	back, err := c.op.LogIn(context.Background(), cl, to, user, user)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

func sessionOf(resp *http.Response) string {
	for _, ck := range resp.Cookies() {
		if ck.Name == "__Host-rempart-session" && ck.Value != "" {
			return ck.Value
		}
	}
	return ""
}

// TestSSOConsole signs in to the console through a real OpenID provider
// (IAM-5): the person is provisioned with the mapped role and lands on the
// local page asked for; the callback works once and only in the browser
// that started it; and no sign-in ends on another site (open redirects).
func TestSSOConsole(t *testing.T) {
	c := newSSOConsole(t)
	ctx := context.Background()
	cl := c.browser()
	back := c.start(t, cl, "dwho@badwolf.org", "dwho", "/tenants?x=1")
	resp, _ := get(t, cl, back.String())
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/tenants?x=1" {
		t.Fatalf("callback: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	tok := sessionOf(resp)
	caller, err := c.id.AuthenticateSession(ctx, rempart.Caller{}, tok, rempart.SessionConsole)
	if err != nil || caller.Principal.Role != rempart.RoleAdmin || caller.Principal.TenantID == "" {
		t.Fatalf("console session: %+v, %v", caller.Principal, err)
	}

	// The same callback again: refused with the generic message.
	resp, body := get(t, cl, back.String())
	if resp.StatusCode != http.StatusUnauthorized || sessionOf(resp) != "" || !strings.Contains(body, "Single sign-on failed.") || strings.Contains(body, "replayed") {
		t.Fatalf("replayed callback: %s, session %q\n%s", resp.Status, sessionOf(resp), body)
	}

	// A callback in another browser (without the binding cookie) is refused.
	back = c.start(t, c.browser(), "dwho@badwolf.org", "dwho", "/")
	if resp, _ := get(t, c.browser(), back.String()); resp.StatusCode != http.StatusUnauthorized || sessionOf(resp) != "" {
		t.Fatalf("callback in another browser: %s", resp.Status)
	}

	// Open redirects: whatever next is, the browser stays on the console.
	for _, next := range []string{"https://evil.example/", "//evil.example/x", "/\\evil.example", "http:/evil.example", " /x", "javascript:alert(1)"} {
		cl := c.browser()
		back := c.start(t, cl, "dwho@badwolf.org", "dwho", next)
		q := back.Query()
		q.Set("next", "https://evil.example/") // a parameter added to the callback is ignored
		back.RawQuery = q.Encode()
		resp, _ := get(t, cl, back.String())
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" || sessionOf(resp) == "" {
			t.Errorf("next %q: %s to %q", next, resp.Status, resp.Header.Get("Location"))
		}
	}

	// Someone whose groups map to no role is refused, with the same message.
	cl = c.browser()
	back = c.start(t, cl, "rtyler@badwolf.org", "rtyler", "/")
	resp, body = get(t, cl, back.String())
	if resp.StatusCode != http.StatusUnauthorized || sessionOf(resp) != "" || !strings.Contains(body, "Single sign-on failed.") {
		t.Fatalf("unmapped role: %s\n%s", resp.Status, body)
	}
}

// TestSSOGolden compares the sign-in page that offers single sign-on with
// its golden file (regenerate with -update).
func TestSSOGolden(t *testing.T) {
	c := newSSOConsole(t)
	req, _ := http.NewRequest(http.MethodGet, c.srv.URL+"/sign-in?next=%2Ftenants", nil)
	req.AddCookie(&http.Cookie{Name: "__Host-rempart-signin", Value: "0123456789abcdefghjkmnpqrstvwxyz"})
	resp, err := c.browser().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	path := filepath.Join("testdata", "sign-in-sso.html")
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(b)); diff != "" {
		t.Errorf("sign-in page with single sign-on differs from %s (-want +got):\n%s", path, diff)
	}
}

// TestBrowserSSO signs in through the real provider in a real Chromium
// (IAM-5): the sign-in page's single sign-on form, the page that forwards to
// the provider under the console's CSP, the provider's own login form, and
// back to the page first asked for, signed in, with no CSP violation.
func TestBrowserSSO(t *testing.T) {
	b := browsertest.New(t)
	c := newSSOConsole(t)
	page := c.srv.URL + "/tenants/" + c.tenant + "/sso"
	b.Run(chromedp.Navigate(page), chromedp.WaitVisible("#sso-email"))
	b.Run(chromedp.SendKeys("#sso-email", "dwho@badwolf.org"))
	b.ClickAndLoad(`form[action="/sso/start"] button`)
	// The forwarding page goes on to the provider by itself.
	waitFor(t, b, `location.href.indexOf(`+strconv.Quote(c.op.Issuer+"/")+`) === 0 && document.querySelector('input[name="password"]') !== null`, c.lastDenial)
	b.Run(chromedp.SendKeys(`input[name="user"]`, "dwho"), chromedp.SendKeys(`input[name="password"]`, "dwho"))
	browsertest.Get(b, chromedp.Evaluate[bool](`document.querySelector('input[name="password"]').form.submit(); true`))
	waitFor(t, b, `location.href === `+strconv.Quote(page)+` && document.querySelector("#list") !== null`, c.lastDenial)
	if got := browsertest.Get(b, chromedp.Text("header")); !strings.Contains(got, "Doctor Who") {
		t.Fatalf("header %q does not name the person", got)
	}
	if got := browsertest.Get(b, chromedp.Text("table")); !strings.Contains(got, "badwolf.org") {
		t.Fatalf("providers table %q", got)
	}
	b.NoCSPViolations()
}

// waitFor polls the page until the script's condition holds: across the
// redirects through the provider, chromedp's own waits can look at a
// document that is gone.
func waitFor(t *testing.T, b *browsertest.Browser, cond string, explain func() string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.Context(), 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			loc, _ := chromedp.Run(b.Context(), chromedp.Location())
			t.Fatalf("waiting for %s: at %s (%v)%s", cond, loc, err, explain())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// lastDenial names the last refused single sign-on in the audit trail, to
// explain a failure.
func (c *ssoConsole) lastDenial() string {
	es, err := c.db.AuditLog(context.Background(), audit.Query{Limit: 1000})
	if err != nil {
		return err.Error()
	}
	for i := len(es) - 1; i >= 0; i-- {
		if es[i].Outcome == rempart.OutcomeDenied {
			return "; last denial: " + es[i].Action + " " + es[i].Reason
		}
	}
	return "; no denial audited"
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
