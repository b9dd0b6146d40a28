package web_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/rempart/rempart/identity"
	"github.com/rempart/rempart/internal/browsertest"
)

// TestBrowserSecurityKey registers a security key (a virtual authenticator
// of Chromium) in the console and signs in with it, (IAM-4). WebAuthn needs a secure context and a domain as
// relying party ID: the console is served on http://localhost.
func TestBrowserSecurityKey(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	base := "http://localhost:" + port
	c := newRealConsoleWith(t, identity.WebAuthnConfig{RPID: "localhost", Origins: []string{base}}, func(h http.Handler) *httptest.Server {
		srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: h}}
		srv.Start()
		return srv
	})
	b := browsertest.New(t)
	auth := b.VirtualAuthenticator()

	// First sign-in of staff: enrolment only. A security key is the first
	// factor.
	b.Run(chromedp.Navigate(base+"/sign-in"), chromedp.WaitVisible("#email"))
	b.Run(chromedp.SendKeys("#email", "ada@example.com"), chromedp.SendKeys("#password", consolePassword))
	b.ClickAndLoad(`form.card button[type="submit"]`)
	if loc := browsertest.Get(b, chromedp.Location()); loc != base+"/account/security" {
		t.Fatalf("after a first sign-in of staff: got %q, want the security page", loc)
	}
	b.Run(chromedp.SendKeys("#key-name", "blue key"))
	b.ClickAndLoad(`form[action="/account/security/webauthn"] button`)
	b.ClickAndLoad(`#webauthn-register-form button`)
	if got := browsertest.Get(b, chromedp.Text("main")); !strings.Contains(got, "Security key added") {
		t.Fatalf("after registration: got %q", got)
	}
	if creds := b.Credentials(auth); len(creds) != 1 || creds[0].RpID != "localhost" {
		t.Fatalf("the authenticator's credentials: %+v, want one for localhost", creds)
	}
	codes := browsertest.Get(b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#recovery-codes li")).map(function (li) { return li.textContent; })`))
	if len(codes) != 10 {
		t.Fatalf("recovery codes with the first factor: %q", codes)
	}
	b.Run(chromedp.Navigate(base + "/account/security"))
	if got := browsertest.Get(b, chromedp.Text("table")); !strings.Contains(got, "blue key") || !strings.Contains(got, "security key") {
		t.Fatalf("factors: got %q, want the key listed", got)
	}

	// Signed out and in again: the password, then the key.
	b.ClickAndLoad(`form.signout button`)
	c.clock.Advance(time.Minute)
	b.Run(chromedp.SendKeys("#email", "ada@example.com"), chromedp.SendKeys("#password", consolePassword))
	b.ClickAndLoad(`form.card button[type="submit"]`)
	b.Run(chromedp.WaitVisible("#webauthn-login-form button"))
	b.ClickAndLoad(`#webauthn-login-form button`)
	if loc := browsertest.Get(b, chromedp.Location()); loc != base+"/" {
		t.Fatalf("after signing in with the key: got %q, want the home page", loc)
	}
	if creds := b.Credentials(auth); len(creds) != 1 || creds[0].SignCount < 2 {
		t.Fatalf("the key's signature counter: %+v, want it used twice", creds)
	}

	// Later, a sensitive action asks for the second factor again, and the
	// key answers it: step-up with a security key, then the action.
	c.clock.Advance(11 * time.Minute)
	b.Run(chromedp.Navigate(base + "/account/security"))
	b.ClickAndLoad(`form[action="/account/security/recovery-codes"] button`)
	if got := browsertest.Get(b, chromedp.Text("main")); !strings.Contains(got, "second factor") {
		t.Fatalf("new recovery codes without a recent second factor: got %q, want the step-up page", got)
	}
	b.ClickAndLoad(`#webauthn-login-form button`)
	if got := browsertest.Get(b, chromedp.Text("main")); !strings.Contains(got, "Second factor confirmed") {
		t.Fatalf("after the key at step-up: got %q", got)
	}
	b.ClickAndLoad(`form.card button[type="submit"]`)
	if codes := browsertest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll("#recovery-codes li").length`)); codes != 10 {
		t.Fatalf("the action repeated after step-up: %d recovery codes shown, want 10", codes)
	}
	if creds := b.Credentials(auth); len(creds) != 1 || creds[0].SignCount < 3 {
		t.Fatalf("the key's signature counter: %+v, want it used three times", creds)
	}
	b.NoCSPViolations()
}
