package web_test

import (
	"io"
	"mime"
	"mime/multipart"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/rempart/rempart"
	"github.com/rempart/rempart/internal/browsertest"
	"github.com/rempart/rempart/internal/smtptest"
	"github.com/rempart/rempart/notify"
)

// textPart returns the decoded plain-text part of a delivered message.
func textPart(t *testing.T, msg smtptest.Message) string {
	t.Helper()
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := r.NextPart()
		if err != nil {
			t.Fatalf("no text part: %v", err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			b, _ := io.ReadAll(p)
			return string(b)
		}
	}
}

// An administrator invites a person from the staff page; a staff role
// waits for another administrator, who approves it on the same page (the
// inviter is offered no such button, IAM-10); only then the message goes
// through a real Postfix to the invitee's Maildir; the invitee opens the
// link in a real Chromium, chooses a name and password and is signed in;
// the link does not work twice (IAM-1, IAM-3).
func TestBrowserInvitationByMail(t *testing.T) {
	b := browsertest.New(t)
	c := newRealConsole(t)
	base := c.srv.URL
	mta := smtptest.Start(t, smtptest.Options{})
	m, err := notify.New(notify.Config{Host: mta.Host, Port: mta.Port, RootCAs: mta.RootCAs, From: "rempart <noreply@rempart.test>"})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := notify.NewInvitations(m, base)
	if err != nil {
		t.Fatal(err)
	}
	c.person(t, "", "bea@example.test", rempart.RoleSystemAdmin) // the second administrator, before mail
	c.identity.SetMailer(inv)

	c.enrolTOTP(t, "ada@example.com")
	c.signIn(b, "ada@example.com")
	b.Run(chromedp.Navigate(base+"/staff"), chromedp.WaitVisible("#email"),
		chromedp.SendKeys("#email", "grace@example.test"), chromedp.SetValue("#role", "auditor"))
	b.ClickAndLoad(`form[action="/staff/invitations"] button`)
	b.Run(chromedp.WaitVisible(`p.notice`))
	if got := browsertest.Get(b, chromedp.Text("p.notice")); !strings.Contains(got, "another administrator must approve it") {
		t.Fatalf("notice after inviting: %q", got)
	}
	if got := browsertest.Get(b, chromedp.Text("main")); !strings.Contains(got, "grace@example.test") || !strings.Contains(got, "Awaiting another administrator") ||
		strings.Contains(got, "ri_") {
		t.Fatalf("staff page after inviting: %q, want the invitation awaiting approval and no token", got)
	}
	if approveForms := browsertest.Get(b, chromedp.Evaluate[int](`document.querySelectorAll('form[action$="/approve"]').length`)); approveForms != 0 {
		t.Fatalf("the inviter is offered %d approve buttons", approveForms)
	}
	b.ClickAndLoad(`form.signout button`)

	// Another administrator approves it: now the link is mailed.
	c.signIn(b, "bea@example.test")
	b.Run(chromedp.Navigate(base+"/staff"), chromedp.WaitVisible("#email"))
	b.ClickAndLoad(`form[action$="/approve"] button`)
	b.Run(chromedp.WaitVisible(`p.notice`))
	if got := browsertest.Get(b, chromedp.Text("p.notice")); !strings.Contains(got, "Invitation approved and mailed") {
		t.Fatalf("notice after approving: %q; page: %q", got, browsertest.Get(b, chromedp.Text("main")))
	}
	if got := browsertest.Get(b, chromedp.Text("main")); strings.Contains(got, "ri_") {
		t.Fatalf("the approver sees a token although the link was mailed: %q", got)
	}

	msg := mta.Wait(t, 1)[0]
	if to := msg.Header.Get("To"); to != "<grace@example.test>" {
		t.Errorf("mail to %q", to)
	}
	link := regexp.MustCompile(regexp.QuoteMeta(base) + `/join#(ri_\S+)`).FindStringSubmatch(textPart(t, msg))
	if link == nil {
		t.Fatalf("no link to %s/join# in the message:\n%s", base, msg.Raw)
	}
	b.ClickAndLoad(`form.signout button`)

	// The page copies the token from the fragment into the form and
	// removes it from the address bar.
	b.Run(chromedp.Navigate(link[0]), chromedp.WaitVisible("#name"))
	browsertest.Get(b, chromedp.Poll[bool](`document.getElementById("token").value !== ""`))
	if got := browsertest.Get(b, chromedp.Value("#token")); got != link[1] {
		t.Fatalf("token field %q, want the link's token", got)
	}
	if loc := browsertest.Get(b, chromedp.Location()); loc != base+"/join" {
		t.Errorf("address after loading the link: %q, want it without the token", loc)
	}
	b.Run(chromedp.SendKeys("#name", "Grace Hopper"), chromedp.SendKeys("#password", "Compiler-n0tes-1952"),
		chromedp.SendKeys("#confirm", "Compiler-n0tes-1952"))
	b.ClickAndLoad(`form#join button`)
	// Grace is staff: her first session leads only to enrolling a second
	// factor (IAM-4).
	if loc := browsertest.Get(b, chromedp.Location()); loc != base+"/account/security" {
		t.Fatalf("after joining: %q, want the enrolment page; page: %q", loc, browsertest.Get(b, chromedp.Text("main")))
	}
	if got := browsertest.Get(b, chromedp.Text(".who")); got != "Grace Hopper" {
		t.Fatalf("signed in as %q, want Grace Hopper", got)
	}
	if got := browsertest.Get(b, chromedp.Text("main")); !strings.Contains(got, "must have a second factor") {
		t.Errorf("enrolment page: %q", got)
	}

	// The link works once.
	b.Run(chromedp.Navigate(link[0]), chromedp.WaitVisible("#name"))
	browsertest.Get(b, chromedp.Poll[bool](`document.getElementById("token").value !== ""`))
	b.Run(chromedp.SendKeys("#name", "Mallory"), chromedp.SendKeys("#password", "Other-l0ng-passphrase"),
		chromedp.SendKeys("#confirm", "Other-l0ng-passphrase"))
	b.ClickAndLoad(`form#join button`)
	if got := browsertest.Get(b, chromedp.Text(`[role="alert"]`)); !strings.Contains(got, "already used") {
		t.Errorf("second use of the link: %q", got)
	}
	b.NoCSPViolations()
}
