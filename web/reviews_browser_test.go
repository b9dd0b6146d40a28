package web_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/rempart/rempart"
	"github.com/rempart/rempart/internal/browsertest"
)

// A staff administrator runs a tenant's access review in a real Chromium
// (IAM-9): opens a campaign, revokes a user — whose open session stops at
// once — keeps the service account, which closes the campaign, and downloads
// its evidence as CSV and JSON.
func TestBrowserAccessReview(t *testing.T) {
	ctx := context.Background()
	b := browsertest.New(t)
	c := newRealConsole(t)
	base := c.srv.URL
	ten, err := c.vault.CreateTenant(ctx, c.admin, "Review Corp")
	if err != nil {
		t.Fatal(err)
	}
	inv, err := c.identity.Invite(ctx, c.admin, ten.ID, rempart.InvitationCreate{Email: "bob@review.example", Role: rempart.RoleWriter})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := c.identity.AcceptInvitation(ctx, rempart.Caller{}, rempart.InvitationAccept{Token: inv.Token, Name: "Bob", Password: consolePassword})
	if err != nil {
		t.Fatal(err)
	}
	bobSession, err := c.identity.SignIn(ctx, rempart.Caller{}, rempart.SignIn{Email: "bob@review.example", Password: consolePassword}, rempart.SessionConsole)
	if err != nil {
		t.Fatal(err)
	}
	crm, err := c.identity.CreateServiceAccount(ctx, c.admin, ten.ID, rempart.ServiceAccountCreate{Name: "crm", Role: rempart.RoleWriter})
	if err != nil {
		t.Fatal(err)
	}

	c.enrolTOTP(t, "ada@example.com")
	c.signIn(b, "ada@example.com")
	b.Run(chromedp.Navigate(base+"/tenants/"+ten.ID+"/access-reviews"), chromedp.WaitVisible("#name"), chromedp.SendKeys("#name", "Browser review"))
	b.ClickAndLoad(`form[action$="/access-reviews"] button`)
	b.Run(chromedp.WaitVisible(`p.notice`))
	if got := browsertest.Get(b, chromedp.Text("h1")); got != "Browser review" {
		t.Fatalf("campaign page: got %q", got)
	}
	if got := browsertest.Get(b, chromedp.Text("#item-"+bob.ID)); !strings.Contains(got, "no_mfa") || !strings.Contains(got, "writer") {
		t.Errorf("bob's row: got %q, want writer and no_mfa", got)
	}

	b.Run(chromedp.SendKeys("#note-"+bob.ID, "Left the company"))
	b.ClickAndLoad(`#item-` + bob.ID + ` button[value="revoke"]`)
	if got := browsertest.Get(b, chromedp.Text("#item-"+bob.ID)); !strings.Contains(got, "revoke") || !strings.Contains(got, "Left the company") {
		t.Fatalf("bob's row after the revoke: got %q", got)
	}
	if _, err := c.identity.AuthenticateSession(ctx, rempart.Caller{}, bobSession.Token, rempart.SessionConsole); rempart.ErrorCode(err) != rempart.EUNAUTHORIZED {
		t.Fatalf("bob's session after the revoke: got %v, want unauthorized", err)
	}

	b.ClickAndLoad(`#item-` + crm.ID + ` button[value="keep"]`)
	if got := browsertest.Get(b, chromedp.Text("p.notice")); !strings.Contains(got, "campaign is closed") {
		t.Fatalf("notice after the last decision: got %q", got)
	}
	// The download links, fetched by the page with its session.
	fetch := func(sel string) string {
		return browsertest.Get(b, chromedp.Evaluate[string](`fetch(document.querySelector("`+sel+`").href).then(function (r) {
			return r.text().then(function (body) { return r.status + " " + r.headers.get("Content-Disposition") + "\n" + body; });
		})`, chromedp.EvalAwaitPromise))
	}
	csv := fetch("#export-csv")
	if !strings.HasPrefix(csv, `200 attachment; filename="access-review-`) || !strings.Contains(csv, bob.ID+",user,Bob,bob@review.example,writer,active,,") ||
		!strings.Contains(csv, ",revoke,,Left the company,") {
		t.Fatalf("csv evidence:\n%s", csv)
	}
	js := fetch("#export-json")
	var ev rempart.CampaignDetail
	if err := json.Unmarshal([]byte(js[strings.Index(js, "{"):]), &ev); err != nil || ev.ClosedAt == nil || len(ev.Items) != 2 || ev.Name != "Browser review" {
		t.Fatalf("json evidence: %+v, %v", ev, err)
	}
	b.NoCSPViolations()
}
