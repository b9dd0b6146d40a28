package main

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/client"
	"github.com/rempart/rempart/identity/totp"
)

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]*)"`)

// TestConsoleSignIn runs the console on the real server: a person invited
// over the API signs in with the form, sees the tenants page, and loses the
// session at once when suspended; the console session is no API token
// (IAM-6, IAM-8).
func TestConsoleSignIn(t *testing.T) {
	ctx := context.Background()
	m, _ := startMain(t, t.TempDir())
	base := "https://" + m.Server.Addr("https")
	b, err := client.New(base, client.WithHTTPClient(insecureClient(nil))).Bootstrap(ctx, m.Bootstrap)
	if err != nil {
		t.Fatal(err)
	}
	admin := client.New(base, client.WithHTTPClient(insecureClient(nil)), client.WithAPIKey(b.Key.Secret))
	ten, err := admin.CreateTenant(ctx, rempart.TenantCreate{Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	tenant := ten.ID
	inv, err := admin.Invite(ctx, "", rempart.InvitationCreate{Email: "ops@example.com", Role: rempart.RoleSystemAdmin})
	if err != nil {
		t.Fatal(err)
	}
	const pw = "Corr3ct-h0rse-battery!"
	u, err := client.New(base, client.WithHTTPClient(insecureClient(nil))).AcceptInvitation(ctx, rempart.InvitationAccept{Token: inv.Token, Name: "Ops", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	// Staff must have a second factor (IAM-4): enrol an authenticator app
	// over the API, from the enrolment-only session a first sign-in gives.
	anon := client.New(base, client.WithHTTPClient(insecureClient(nil)))
	first, err := anon.SignIn(ctx, rempart.SignIn{Email: "ops@example.com", Password: pw})
	if err != nil || !first.EnrolOnly {
		t.Fatalf("first sign-in of staff: %+v, %v; want an enrolment-only session", first, err)
	}
	en, err := anon.WithKey(first.Token).StartTOTP(ctx, rempart.TOTPStart{Name: "phone"})
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := totp.DecodeSecret(en.Secret)
	conf, err := anon.WithKey(first.Token).ConfirmFactor(ctx, en.ID, totp.Code(secret, time.Now()))
	if err != nil {
		t.Fatal(err)
	}

	jar, _ := cookiejar.New(nil)
	hc := insecureClient(jar)
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := hc.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	resp, page := get("/sign-in")
	token := csrfField.FindStringSubmatch(page)
	if resp.StatusCode != http.StatusOK || token == nil || resp.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("sign-in page: %d, csrf %v, CSP %q", resp.StatusCode, token, resp.Header.Get("Content-Security-Policy"))
	}
	// signIn posts the password, then the second factor's code on the
	// page that asks for it.
	signIn := func(password, code string) *http.Response {
		t.Helper()
		_, form := get("/sign-in")
		token := csrfField.FindStringSubmatch(form)
		if token == nil {
			t.Fatal("the sign-in form has no token")
		}
		resp, err := hc.PostForm(base+"/sign-in", url.Values{"csrf": {token[1]}, "email": {"ops@example.com"}, "password": {password}, "next": {"/tenants"}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		challenge := regexp.MustCompile(`name="challenge" value="([^"]*)"`).FindStringSubmatch(string(b))
		if challenge == nil {
			return resp
		}
		if _, ok := resp.Header["Set-Cookie"]; ok && strings.Contains(resp.Header.Get("Set-Cookie"), "rempart-session") {
			t.Fatal("the password alone set a session cookie")
		}
		token = csrfField.FindStringSubmatch(string(b))
		resp, err = hc.PostForm(base+"/sign-in/code", url.Values{"csrf": {token[1]}, "challenge": {challenge[1]}, "code": {code}, "next": {"/tenants"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := signIn(pw+"x", ""); resp.StatusCode == http.StatusSeeOther {
		t.Fatalf("a wrong password signed in")
	}
	// The next 30-second step: the code of the enrolment is not accepted
	// again.
	resp = signIn(pw, totp.Code(secret, time.Now().Add(30*time.Second)))
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "__Host-rempart-session" {
			session = ck
		}
	}
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/tenants" || session == nil || !session.Secure || !session.HttpOnly {
		t.Fatalf("sign in: %d to %q, cookie %+v", resp.StatusCode, resp.Header.Get("Location"), session)
	}
	resp, page = get("/tenants")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, tenant) {
		t.Fatalf("tenants page: %d, lists the tenant %s: %v", resp.StatusCode, tenant, strings.Contains(page, tenant))
	}
	if _, err := admin.WithKey(session.Value).Me(ctx); err == nil {
		t.Fatal("the console session worked as an API token")
	}
	// Nor is an API access token a console session (IAM-6).
	apiTok, err := anon.SignIn(ctx, rempart.SignIn{Email: "ops@example.com", Password: pw, Code: conf.RecoveryCodes[0]})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", base+"/tenants", nil)
	req.AddCookie(&http.Cookie{Name: "__Host-rempart-session", Value: apiTok.Token})
	if resp, err := hc.Transport.RoundTrip(req); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("an API access token as the console cookie: got %v, %v; want a redirect to sign in", resp, err)
	}
	// Sign-out ends the session on the server, and its audit entry says
	// from where (AUD-1).
	form := csrfField.FindStringSubmatch(page)
	if form == nil {
		t.Fatal("the tenants page has no form token")
	}
	out, err := hc.PostForm(base+"/sign-out", url.Values{"csrf": {form[1]}})
	if err != nil {
		t.Fatal(err)
	}
	out.Body.Close()
	if out.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: got %d", out.StatusCode)
	}
	if resp, _ := get("/tenants"); resp.StatusCode == http.StatusOK {
		t.Fatal("the session still works after sign-out")
	}
	entries, err := admin.AuditEntries(ctx, client.AuditOptions{Limit: 100, Action: "auth.sign_out"})
	if err != nil || len(entries.Entries) != 1 || entries.Entries[0].IP == "" || entries.Entries[0].PrincipalID != u.ID {
		t.Fatalf("sign-out audit: got %+v, %v", entries.Entries, err)
	}
	if resp := signIn(pw, conf.RecoveryCodes[1]); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in again: %d", resp.StatusCode)
	}
	if err := admin.SuspendUser(ctx, "", u.ID); err != nil {
		t.Fatal(err)
	}
	if resp, _ := get("/tenants"); resp.StatusCode == http.StatusOK {
		t.Fatal("a suspended person's console session still works")
	}
}

func insecureClient(jar http.CookieJar) *http.Client {
	return &http.Client{Jar: jar, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
}
