package web_test

import (
	"bytes"
	"net/http"
	"time"

	"context"
	"github.com/rempart/rempart/identity/totp"
	"github.com/rempart/rempart/internal/testclock"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/backup"
	"github.com/rempart/rempart/blobs"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/grants"
	"github.com/rempart/rempart/identity"
	"github.com/rempart/rempart/internal/blobstore"
	"github.com/rempart/rempart/internal/browsertest"
	"github.com/rempart/rempart/jobs"
	"github.com/rempart/rempart/keys"
	"github.com/rempart/rempart/reviews"
	"github.com/rempart/rempart/vault"
	"github.com/rempart/rempart/web"
)

// realConsole is the console over the real domain services on a temporary
// SQLite database, as the binary wires them, identity's console sessions
// included: one person, a staff system administrator invited by the
// bootstrapped one.
type realConsole struct {
	srv      *httptest.Server
	vault    *vault.Service
	admin    rempart.Caller
	clock    *testclock.Clock
	identity *identity.Service
	grants   *grants.Service
	reviews  *reviews.Service
	db       *db.DB
	jobs     *jobs.Runner
	// totp holds the authenticator secrets enrolTOTP made, by email.
	totp map[string][]byte
}

func newRealConsole(t *testing.T) *realConsole {
	t.Helper()
	return newRealConsoleWith(t, identity.WebAuthnConfig{}, func(h http.Handler) *httptest.Server { return httptest.NewTLSServer(h) })
}

// newRealConsoleWith serves the console with start, its security keys'
// relying party set to wa.
func newRealConsoleWith(t *testing.T, wa identity.WebAuthnConfig, start func(http.Handler) *httptest.Server) *realConsole {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	clock := testclock.New(time.Now())
	d, err := db.Open(ctx, db.Config{DSN: "sqlite:" + filepath.Join(dir, "rempart.db"), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	root, err := keys.CreateLocalFile(filepath.Join(dir, "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	skey, _, err := audit.GenerateKey("test/rempart")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := audit.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	log := audit.NewLog(d, signer)
	keyring := keys.NewKeyring(root, 100)
	objects, err := blobs.Open(ctx, filepath.Join(dir, "attachments"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { objects.Close() })
	v := vault.New(d, keyring, clock, vault.Config{Objects: blobstore.Objects{Store: objects}, Grants: d})
	id := identity.New(d, clock, identity.Config{MFAKey: bytes.Repeat([]byte{7}, 32), WebAuthn: wa})
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	runner := jobs.NewRunner(d, clock, logger, jobs.Config{})
	store, err := blobs.Open(ctx, filepath.Join(dir, "backups"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	bskey, bvkey, _ := audit.GenerateKey("test/backup")
	bsigner, err := backup.NewSigner(bskey, bvkey)
	if err != nil {
		t.Fatal(err)
	}
	backups := backup.New(backup.Config{Store: d, Source: d, Objects: blobstore.Objects{Store: store}, Keys: keyring, Signer: bsigner, Clock: clock,
		Checkpoint: func(size uint64, root []byte) (string, error) {
			cp, err := signer.Sign(size, root)
			return cp.Note, err
		}})
	backups.SetEnqueuer(runner)
	roots := keys.NewLocalKeys(filepath.Join(dir, "root.key"))
	keyring.SetSource(roots)
	rotator := keys.NewRotator(d, keyring, roots, nil, nil)

	tok, err := id.EnsureBootstrap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := id.Bootstrap(ctx, rempart.Caller{}, tok)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := id.Authenticate(ctx, rempart.Caller{}, b.Key.Secret)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := id.Invite(ctx, admin, "", rempart.InvitationCreate{Email: "ada@example.com", Role: rempart.RoleSystemAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := id.AcceptInvitation(ctx, rempart.Caller{}, rempart.InvitationAccept{Token: inv.Token, Name: "Ada", Password: consolePassword}); err != nil {
		t.Fatal(err)
	}
	gs, rs := grants.New(d, clock), reviews.New(d, clock, reviews.Config{})
	h := web.New(web.Config{Sessions: web.IdentitySessions(id), Tenants: v, Accounts: id, Audit: log, Keys: keys.NewAdmin(d, rotator, runner),
		TenantKeys: vault.NewKeys(v, runner), Retention: v, Backups: backups, Jobs: runner, MFA: web.IdentityMFA(id), Grants: gs, Reviews: rs, People: id,
		SSOAdmin: id, SSOCallbackURL: "https://console.example/sso/callback"})
	srv := start(h)
	t.Cleanup(srv.Close)
	return &realConsole{srv: srv, vault: v, admin: admin, clock: clock, identity: id, grants: gs, reviews: rs, db: d, jobs: runner, totp: map[string][]byte{}}
}

// consolePassword is the browser test person's password.
const consolePassword = "Correct-h0rse-battery"

// A person signs in, creates a tenant and finds it in the audit log, in a
// real Chromium, and no page breaks the CSP.
func TestBrowserConsole(t *testing.T) {
	b := browsertest.New(t)
	c := newRealConsole(t)
	base := c.srv.URL

	// Signed out, the tenants page leads to the sign-in form, and back.
	b.Run(chromedp.Navigate(base+"/tenants"), chromedp.WaitVisible("#email"))
	if loc := browsertest.Get(b, chromedp.Location()); loc != base+"/sign-in?next=%2Ftenants" {
		t.Fatalf("location: got %q, want the sign-in page", loc)
	}
	b.Run(
		chromedp.SendKeys("#email", "ada@example.com"),
		chromedp.SendKeys("#password", "wrong"),
	)
	b.ClickAndLoad(`form.card button[type="submit"]`)
	b.Run(chromedp.WaitVisible(`[role="alert"]`))
	if got := browsertest.Get(b, chromedp.Value("#email")); got != "ada@example.com" {
		t.Errorf("email after a failed sign-in: got %q, want it kept", got)
	}
	if got := browsertest.Get(b, chromedp.Value("#password")); got != "" {
		t.Errorf("password after a failed sign-in: got %q, want it empty", got)
	}
	b.Run(chromedp.SendKeys("#password", consolePassword))
	b.ClickAndLoad(`form.card button[type="submit"]`)
	// Staff must have a second factor (IAM-4): without one, the session
	// leads only to enrolling an authenticator app.
	if loc := browsertest.Get(b, chromedp.Location()); loc != base+"/account/security" {
		t.Fatalf("after a first sign-in of staff: got %q, want the security page", loc)
	}
	b.Run(chromedp.SendKeys("#totp-name", "laptop"))
	b.ClickAndLoad(`form[action="/account/security/totp"] button`)
	secret, err := totp.DecodeSecret(browsertest.Get(b, chromedp.Value("#totp-secret")))
	if err != nil {
		t.Fatal(err)
	}
	if !browsertest.Get(b, chromedp.Poll[bool](`document.getElementById("totp-qr").complete && document.getElementById("totp-qr").naturalWidth > 0`)) {
		t.Error("the QR code image did not load")
	}
	b.Run(chromedp.SendKeys("#totp-code", totp.Code(secret, c.clock.Now())))
	b.ClickAndLoad(`form[action$="/confirm"] button`)
	codes := browsertest.Get(b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#recovery-codes li")).map(function (li) { return li.textContent; })`))
	if len(codes) != 10 {
		t.Fatalf("recovery codes after the first enrolment: got %q, want ten", codes)
	}
	b.Run(chromedp.Navigate(base + "/tenants"))
	browsertest.Get(b, chromedp.Poll[bool](`document.querySelector("h1") !== null`))
	if loc := browsertest.Get(b, chromedp.Location()); loc != base+"/tenants" {
		t.Fatalf("after enrolment: got %q, want the tenants page", loc)
	}
	if got := browsertest.Get(b, chromedp.Text("main")); !strings.Contains(got, "No tenants yet") {
		t.Errorf("empty tenants page: got %q", got)
	}
	// The keyboard reaches the skip link first, and it leads to the content.
	b.Run(chromedp.KeyEvent("\t"))
	if got := browsertest.Get(b, chromedp.Evaluate[string](`document.activeElement.textContent`)); got != "Skip to content" {
		t.Errorf("first focus: got %q, want the skip link", got)
	}
	b.Run(chromedp.KeyEvent("\r"))
	if got := browsertest.Get(b, chromedp.Evaluate[string](`document.activeElement.id`)); got != "main" {
		t.Errorf("focus after the skip link: got %q, want main", got)
	}

	// Create a tenant through the form.
	b.Run(chromedp.SendKeys("#name", "Browser Corp"))
	b.ClickAndLoad(`form[action="/tenants"] button`)
	b.Run(chromedp.WaitVisible(`p.notice`))
	if got := browsertest.Get(b, chromedp.Text("table")); !strings.Contains(got, "Browser Corp") || !strings.Contains(got, "active") {
		t.Fatalf("tenants table: got %q, want Browser Corp, active", got)
	}
	ts, err := c.vault.Tenants(context.Background(), c.admin)
	if err != nil || len(ts) != 1 || ts[0].Name != "Browser Corp" {
		t.Fatalf("tenants in the vault: got %v, %v", ts, err)
	}

	// Filter the audit log by action, then by tenant.
	b.Run(
		chromedp.Navigate(base+"/audit"),
		chromedp.WaitVisible("#action"),
		chromedp.SendKeys("#action", "tenant.create"),
	)
	b.ClickAndLoad(`form.filters button`)
	if loc := browsertest.Get(b, chromedp.Location()); !strings.Contains(loc, "action=tenant.create") {
		t.Errorf("audit filter: got %q", loc)
	}
	rows := browsertest.Get(b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("tbody tr td:nth-child(3)")).map(function (td) { return td.textContent; })`))
	if len(rows) != 1 || rows[0] != "tenant.create" {
		t.Fatalf("audit rows by action: got %q, want one tenant.create", rows)
	}
	b.Run(
		chromedp.Clear("#action"),
		chromedp.SetValue("#tenant", ts[0].ID),
	)
	b.ClickAndLoad(`form.filters button`)
	tenants := browsertest.Get(b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("tbody tr td:nth-child(6)")).map(function (td) { return td.textContent; })`))
	if len(tenants) == 0 {
		t.Fatal("audit rows by tenant: got none")
	}
	for _, id := range tenants {
		if id != ts[0].ID {
			t.Errorf("audit row of tenant %q under the filter for %q", id, ts[0].ID)
		}
	}

	// Every other page renders under the CSP too.
	for _, p := range []string{"/", "/keys", "/backups", "/jobs", "/tenants/" + ts[0].ID + "/service-accounts", "/tenants/" + ts[0].ID + "/keys", "/tenants/" + ts[0].ID + "/retention", "/tenants/" + ts[0].ID + "/delete", "/nowhere"} {
		// Polled in the page rather than through chromedp's DOM cache,
		// which a quick succession of navigations can leave stale.
		b.Run(chromedp.Navigate(base + p))
		browsertest.Get(b, chromedp.Poll[bool](`document.querySelector("h1") !== null`))
	}

	// Signed in again: the password, then a code from the app (the next
	// step: a code is accepted once).
	b.Run(chromedp.Navigate(base + "/"))
	browsertest.Get(b, chromedp.Poll[bool](`document.querySelector("form.signout button") !== null`))
	b.ClickAndLoad(`form.signout button`)
	c.clock.Advance(30 * time.Second)
	b.Run(chromedp.SendKeys("#email", "ada@example.com"), chromedp.SendKeys("#password", consolePassword))
	b.ClickAndLoad(`form.card button[type="submit"]`)
	b.Run(chromedp.WaitVisible("#code"))
	b.Run(chromedp.SendKeys("#code", totp.Code(secret, c.clock.Now())))
	b.ClickAndLoad(`form.card button[type="submit"]`)
	if loc := browsertest.Get(b, chromedp.Location()); loc != base+"/" {
		t.Fatalf("after the second step: got %q, want the home page", loc)
	}

	// Step-up: eleven minutes later, new recovery codes need a code first,
	// then the action is repeated and goes ahead.
	c.clock.Advance(11 * time.Minute)
	b.Run(chromedp.Navigate(base + "/account/security"))
	browsertest.Get(b, chromedp.Poll[bool](`document.querySelector("form[action='/account/security/recovery-codes'] button") !== null`))
	b.ClickAndLoad(`form[action="/account/security/recovery-codes"] button`)
	if got := browsertest.Get(b, chromedp.Text("h1")); got != "Confirm it is you" {
		t.Fatalf("new recovery codes without a recent second factor: got %q, want the step-up page", got)
	}
	b.Run(chromedp.SendKeys("#code", totp.Code(secret, c.clock.Now())))
	b.ClickAndLoad(`form[action="/mfa/verify"] button`)
	b.ClickAndLoad(`form[action="/account/security/recovery-codes"] button`)
	fresh := browsertest.Get(b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#recovery-codes li")).map(function (li) { return li.textContent; })`))
	if len(fresh) != 10 || fresh[0] == codes[0] {
		t.Fatalf("after step-up: got %q, want ten new recovery codes", fresh)
	}

	b.NoCSPViolations()
	for _, m := range b.Messages() {
		if m.Type == chromedp.ConsoleError || m.IsException() {
			if m.Source == "network" && (strings.HasSuffix(m.URL, "/sign-in") && strings.Contains(m.Text, "401") ||
				strings.HasSuffix(m.URL, "/nowhere") && strings.Contains(m.Text, "404") ||
				strings.HasSuffix(m.URL, "/recovery-codes") && strings.Contains(m.Text, "403")) {
				continue // the statuses of the wrong password and the unknown page
			}
			t.Errorf("console: %s (%s)", m, m.URL)
		}
	}
}
