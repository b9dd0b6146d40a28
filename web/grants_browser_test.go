package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/rempart/rempart"
	"github.com/rempart/rempart/identity/totp"
	"github.com/rempart/rempart/internal/browsertest"
)

// person invites someone to tenant ("" for staff) through identity and
// accepts the invitation; it returns the new user. An invitation for a
// privileged role is approved by a second administrator first (IAM-10).
func (c *realConsole) person(t *testing.T, tenant, email, role string) rempart.User {
	t.Helper()
	ctx := context.Background()
	inv, err := c.identity.Invite(ctx, c.admin, tenant, rempart.InvitationCreate{Email: email, Role: role})
	if err == nil && inv.Status == rempart.InvitationPendingApproval {
		second := rempart.Caller{Principal: rempart.Principal{ID: "sa_second", Role: rempart.RoleSystemAdmin}}
		inv, err = c.identity.ApproveInvitation(ctx, second, tenant, inv.ID, rempart.RoleChangeDecision{})
	}
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.identity.AcceptInvitation(ctx, rempart.Caller{}, rempart.InvitationAccept{Token: inv.Token, Name: email, Password: consolePassword})
	if err != nil {
		t.Fatal(err)
	}
	if tenant == "" {
		c.enrolTOTP(t, email)
	}
	return u
}

// enrolTOTP gives a person an authenticator app, as staff must have (IAM-4),
// and keeps its secret for signIn.
func (c *realConsole) enrolTOTP(t *testing.T, email string) {
	t.Helper()
	ctx := context.Background()
	sess, err := c.identity.SignIn(ctx, rempart.Caller{}, rempart.SignIn{Email: email, Password: consolePassword}, rempart.SessionAPI)
	if err != nil {
		t.Fatalf("sign in %s: %v", email, err)
	}
	me, err := c.identity.Authenticate(ctx, rempart.Caller{}, sess.Token)
	if err != nil {
		t.Fatal(err)
	}
	en, err := c.identity.StartTOTP(ctx, me, rempart.TOTPStart{Name: "phone"})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := totp.DecodeSecret(en.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.identity.ConfirmTOTP(ctx, me, en.ID, rempart.MFACode{Code: totp.Code(secret, c.clock.Now())}); err != nil {
		t.Fatal(err)
	}
	c.totp[email] = secret
}

// signIn signs a person in through the form, from wherever the browser is,
// with a code from the authenticator app enrolTOTP gave them, if any. The
// clock moves to the next 30-second step first: a code works only once.
func (c *realConsole) signIn(b *browsertest.Browser, email string) {
	b.Run(chromedp.Navigate(c.srv.URL+"/sign-in"), chromedp.WaitVisible("#email"),
		chromedp.SendKeys("#email", email), chromedp.SendKeys("#password", consolePassword))
	b.ClickAndLoad(`form.card button[type="submit"]`)
	if secret, ok := c.totp[email]; ok {
		c.clock.Advance(30 * time.Second)
		b.Run(chromedp.WaitVisible("#code"), chromedp.SendKeys("#code", totp.Code(secret, c.clock.Now())))
		b.ClickAndLoad(`form[action="/sign-in/code"] button`)
	}
}

func signOut(b *browsertest.Browser) {
	b.ClickAndLoad(`form.signout button`)
}

// A support person asks for access in the console, a security admin
// approves it, the support person reads a record under it, and the tenant's
// admin finds the grant and that read in the transparency view: in a real
// Chromium, over the real services (IAM-7).
func TestBrowserGrant(t *testing.T) {
	b := browsertest.New(t)
	c := newRealConsole(t)
	base := c.srv.URL
	ctx := context.Background()

	ten, err := c.vault.CreateTenant(ctx, c.admin, "Grant Corp")
	if err != nil {
		t.Fatal(err)
	}
	c.enrolTOTP(t, "ada@example.com")
	sam := c.person(t, "", "sam@example.com", rempart.RoleSupport)
	tom := c.person(t, ten.ID, "tom@grant.example", rempart.RoleAdmin)
	tenantAdmin := rempart.Caller{Principal: rempart.Principal{ID: tom.ID, TenantID: ten.ID, Role: rempart.RoleAdmin}}
	rec, _, err := c.vault.CreateRecord(ctx, tenantAdmin, ten.ID, "calls", []byte(`{"note":"hello"}`), "")
	if err != nil {
		t.Fatal(err)
	}
	support := rempart.Caller{Principal: rempart.Principal{ID: sam.ID, Role: rempart.RoleSupport}}
	if _, err := c.vault.GetRecord(ctx, support, ten.ID, "calls", rec.ID); rempart.ErrorCode(err) != rempart.EFORBIDDEN {
		t.Fatalf("support reads without a grant: got %v, want forbidden", err)
	}

	// Sam asks for read access.
	c.signIn(b, "sam@example.com")
	b.Run(chromedp.Navigate(base+"/grants"), chromedp.WaitVisible("#reason"),
		chromedp.SendKeys("#tenant_id", ten.ID),
		chromedp.SendKeys("#reason", "ticket 4521: the customer's call is missing"),
		chromedp.SetValue("#duration_minutes", "30"))
	b.ClickAndLoad(`form[action="/grants"] button`)
	b.Run(chromedp.WaitVisible(`p.notice`))
	if got := browsertest.Get(b, chromedp.Text("tbody")); !strings.Contains(got, "pending") || !strings.Contains(got, ten.ID) {
		t.Fatalf("sam's grants: got %q, want one pending on %s", got, ten.ID)
	}
	if n := browsertest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll('form[action$="/approve"]').length`)); n != 0 {
		t.Fatalf("the requester is offered %d approve buttons", n)
	}
	signOut(b)

	// Ada, a security admin, approves it.
	c.signIn(b, "ada@example.com")
	b.Run(chromedp.Navigate(base+"/grants"), chromedp.WaitVisible(`form[action$="/approve"] button`))
	b.ClickAndLoad(`form[action$="/approve"] button`)
	b.Run(chromedp.WaitVisible(`p.notice`))
	if got := browsertest.Get(b, chromedp.Text("td.status")); got != "active" {
		t.Fatalf("grant after approval: got %q, want active", got)
	}
	signOut(b)

	// Sam reads the record under it.
	if _, err := c.vault.GetRecord(ctx, support, ten.ID, "calls", rec.ID); err != nil {
		t.Fatalf("support reads under the grant: %v", err)
	}

	// Tom, the tenant's admin, sees the grant and the read.
	c.signIn(b, "tom@grant.example")
	b.Run(chromedp.Navigate(base+"/tenants/"+ten.ID+"/grants"), chromedp.WaitVisible("tbody"))
	if got := browsertest.Get(b, chromedp.Text("tbody")); !strings.Contains(got, sam.ID) || !strings.Contains(got, "active") || !strings.Contains(got, "ticket 4521") {
		t.Fatalf("tenant's grants: got %q", got)
	}
	b.ClickAndLoad(`tbody th a`)
	b.Run(chromedp.WaitVisible("#accesses"))
	rows := browsertest.Get(b, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("tbody tr")).map(function (tr) { return tr.textContent; })`))
	if len(rows) != 1 || !strings.Contains(rows[0], "record.read") || !strings.Contains(rows[0], "records/"+rec.ID) || !strings.Contains(rows[0], sam.ID) {
		t.Fatalf("accesses under the grant: got %q, want sam's read of %s", rows, rec.ID)
	}
	b.NoCSPViolations()
}
