package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/web"
)

var webInfo = web.RequestInfo{}

// signIn fills in the sign-in form as a browser would: the form page first,
// for its cookie and token.
func (c *console) signIn(form url.Values, header map[string]string) response {
	c.t.Helper()
	page := c.get("/sign-in", "")
	wantStatus(c.t, page, http.StatusOK)
	ck := page.cookie("__Host-rempart-signin")
	if ck == nil {
		c.t.Fatal("the sign-in form set no cookie")
	}
	m := csrfRE.FindStringSubmatch(page.body)
	if m == nil {
		c.t.Fatal("the sign-in form has no CSRF token")
	}
	form.Set("csrf", m[1])
	return c.do(request{method: "POST", path: "/sign-in", form: form, cookies: []*http.Cookie{ck}, header: header})
}

func TestSignInCookie(t *testing.T) {
	c := newConsole(t)
	r := c.signIn(url.Values{"email": {"ada@example.com"}, "password": {"correct horse"}}, nil)
	wantStatus(t, r, http.StatusSeeOther)
	wantLocation(t, r, "/")
	ck := r.cookie("__Host-rempart-session")
	if ck == nil {
		t.Fatal("no session cookie")
	}
	if ck.Value != "tok-new-1" || !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Domain != "" {
		t.Fatalf("cookie: got %+v, want the session token, Secure, HttpOnly, SameSite=Lax, Path=/, no Domain", ck)
	}
	raw := r.Header.Values("Set-Cookie")
	if !strings.Contains(strings.Join(raw, "\n"), "__Host-rempart-session=tok-new-1; Path=/; Expires=") {
		t.Errorf("Set-Cookie: got %q", raw)
	}
	if signin := r.cookie("__Host-rempart-signin"); signin == nil || signin.MaxAge >= 0 {
		t.Error("the sign-in form's cookie was not cleared")
	}
	home := c.get("/", ck.Value)
	wantStatus(t, home, http.StatusOK)
	wantBody(t, home, []string{"Ada Admin", "usr_admin", "system_admin"}, nil)

	out := c.post("/sign-out", ck.Value, nil)
	wantStatus(t, out, http.StatusSeeOther)
	wantLocation(t, out, "/sign-in")
	if gone := out.cookie("__Host-rempart-session"); gone == nil || gone.MaxAge >= 0 {
		t.Error("sign-out did not clear the cookie")
	}
	wantStatus(t, c.get("/", ck.Value), http.StatusSeeOther)
	// The sign-in page forgets the ended session's cookie rather than
	// presenting it again at every visit.
	form := c.get("/sign-in", ck.Value)
	wantStatus(t, form, http.StatusOK)
	if gone := form.cookie("__Host-rempart-session"); gone == nil || gone.MaxAge >= 0 {
		t.Error("the sign-in page kept an ended session's cookie")
	}
}

// After signing in, the browser goes back only to a path of this console.
func TestSignInOpenRedirect(t *testing.T) {
	c := newConsole(t)
	cases := map[string]string{
		"//evil.example/x":            "/",
		`/\evil.example`:              "/",
		`\/evil.example`:              "/",
		"https://evil.example/":       "/",
		"http:evil.example":           "/",
		"javascript:alert(1)":         "/",
		"/\t/evil.example":            "/",
		"/%0a/evil.example":           "/%0a/evil.example", // the escaped form stays a local path
		"evil.example":                "/",
		"":                            "/",
		"/audit?action=tenant.create": "/audit?action=tenant.create",
		"/tenants":                    "/tenants",
	}
	for next, want := range cases {
		t.Run(next, func(t *testing.T) {
			r := c.signIn(url.Values{"email": {"ada@example.com"}, "password": {"correct horse"}, "next": {next}}, nil)
			wantStatus(t, r, http.StatusSeeOther)
			wantLocation(t, r, want)
			if want == "/" && next != "" {
				page := c.get("/sign-in?next="+url.QueryEscape(next), "")
				wantBody(t, page, nil, []string{`name="next"`})
			}
		})
	}
	page := c.get("/sign-in?next=%2Ftenants", "")
	wantBody(t, page, []string{`name="next" value="/tenants"`}, nil)
	// Already signed in: the sign-in page forwards, with the same check.
	r := c.get("/sign-in?next=%2F%2Fevil.example", "tok-admin")
	wantStatus(t, r, http.StatusSeeOther)
	wantLocation(t, r, "/")
}

func TestSignInErrors(t *testing.T) {
	c := newConsole(t)
	r := c.signIn(url.Values{"email": {"tom@example.com"}, "password": {"battery staple"}, "code": {"000000"}}, nil)
	wantStatus(t, r, http.StatusUnauthorized)
	wantBody(t, r, []string{`role="alert"`, "The email address, password or code is wrong.", `value="tom@example.com"`},
		[]string{"battery staple", "000000"})
	if r.cookie("__Host-rempart-session") != nil {
		t.Fatal("a failed sign-in set a session cookie")
	}

	r = c.signIn(url.Values{"email": {"tom@example.com"}, "password": {"battery staple"}, "code": {"123456"}}, nil)
	wantStatus(t, r, http.StatusSeeOther)

	r = c.signIn(url.Values{"email": {"tom@example.com"}}, nil)
	wantStatus(t, r, http.StatusBadRequest)

	c.sessions.throttle = true
	r = c.signIn(url.Values{"email": {"tom@example.com"}, "password": {"x"}}, nil)
	wantStatus(t, r, http.StatusTooManyRequests)
	if got := r.Header.Get("Retry-After"); got != "60" {
		t.Errorf("Retry-After: got %q, want 60", got)
	}
	wantBody(t, r, []string{"Too many attempts"}, nil)

	// The sign-in form's own token is checked too.
	r = c.do(request{method: "POST", path: "/sign-in", form: url.Values{"email": {"ada@example.com"}, "password": {"correct horse"}, "csrf": {"forged"}},
		cookies: []*http.Cookie{{Name: "__Host-rempart-signin", Value: "0123456789abcdefghjkmnpqrstvwxyz"}}})
	wantStatus(t, r, http.StatusForbidden)
	r = c.do(request{method: "POST", path: "/sign-in", form: url.Values{"email": {"ada@example.com"}, "password": {"correct horse"}}})
	wantStatus(t, r, http.StatusForbidden)
}

// TestSessionFixation: on the real identity service, a session cookie the
// browser brings to sign-in (one an attacker planted) is neither adopted
// nor kept: sign-in sets a new token minted by the server, and the planted
// value opens nothing (ASVS 3.2.1).
func TestSessionFixation(t *testing.T) {
	c := newRealConsole(t)
	ten, err := c.vault.CreateTenant(context.Background(), c.admin, "Fixation Corp")
	if err != nil {
		t.Fatal(err)
	}
	c.person(t, ten.ID, "vic@fixation.example", rempart.RoleReader)
	hc := c.srv.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	planted := &http.Cookie{Name: "__Host-rempart-session", Value: "rs_planted0000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
	get := func(path string, cks ...*http.Cookie) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, c.srv.URL+path, nil)
		for _, ck := range cks {
			req.AddCookie(ck)
		}
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	page := get("/sign-in", planted)
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	m := csrfRE.FindSubmatch(body)
	var signin *http.Cookie
	for _, ck := range page.Cookies() {
		if ck.Name == "__Host-rempart-signin" {
			signin = ck
		}
	}
	if m == nil || signin == nil {
		t.Fatalf("sign-in page: token %v, cookie %v", m != nil, signin)
	}
	form := url.Values{"email": {"vic@fixation.example"}, "password": {consolePassword}, "csrf": {string(m[1])}}
	req, _ := http.NewRequest(http.MethodPost, c.srv.URL+"/sign-in", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.srv.URL)
	req.AddCookie(planted)
	req.AddCookie(signin)
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: status %d, want 303", res.StatusCode)
	}
	var fresh *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == "__Host-rempart-session" {
			fresh = ck
		}
	}
	if fresh == nil || fresh.Value == planted.Value || !strings.HasPrefix(fresh.Value, "rs_") {
		t.Fatalf("session cookie after sign-in: %+v, want a new server-minted token", fresh)
	}
	if r := get("/", fresh); r.StatusCode != http.StatusOK {
		t.Errorf("home with the new session: %d, want 200", r.StatusCode)
	}
	if r := get("/", planted); r.StatusCode != http.StatusSeeOther {
		t.Errorf("home with the planted cookie: %d, want a redirect to sign-in", r.StatusCode)
	}
}
