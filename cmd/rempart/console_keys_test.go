package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/client"
	"github.com/rempart/rempart/internal/softhsm"
	"github.com/rempart/rempart/keys/hsm"
)

// consoleUser is a person signed in to the console of a running server.
type consoleUser struct {
	t    *testing.T
	base string
	hc   *http.Client
}

// signInConsole signs a person without a second factor in through the
// console's form.
func signInConsole(t *testing.T, base, email, password string) *consoleUser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := insecureClient(jar)
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	u := &consoleUser{t: t, base: base, hc: hc}
	_, page := u.get("/sign-in")
	token := csrfField.FindStringSubmatch(page)
	if token == nil {
		t.Fatal("the sign-in form has no token")
	}
	resp, err := hc.PostForm(base+"/sign-in", url.Values{"csrf": {token[1]}, "email": {email}, "password": {password}, "next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("sign in: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return u
}

func (u *consoleUser) get(path string) (*http.Response, string) {
	u.t.Helper()
	resp, err := u.hc.Get(u.base + path)
	if err != nil {
		u.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// post submits a form of the page at from, with the CSRF token that page
// carries, as the browser would.
func (u *consoleUser) post(from, path string, form url.Values) (*http.Response, string) {
	u.t.Helper()
	_, page := u.get(from)
	token := csrfField.FindStringSubmatch(page)
	if token == nil {
		u.t.Fatalf("%s has no form token", from)
	}
	form.Set("csrf", token[1])
	resp, err := u.hc.PostForm(u.base+path, form)
	if err != nil {
		u.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestConsoleCustomerKeyAndRetention runs the console on the real server: a
// tenant's administrator, signed in with the form, brings the tenant's own
// key (a key object on a SoftHSM2 token) and sets a retention rule from the
// console pages, and the API sees both; refusals are shown and audited
// (GOV-5, BCK-3, AUD-1).
func TestConsoleCustomerKeyAndRetention(t *testing.T) {
	ctx := context.Background()
	tok := softhsm.New(t)
	uri := tok.URIWith("acme-cmk", "pin-source=file:"+tok.PINFile)
	tenantToken, err := hsm.Open(uri)
	if err != nil {
		t.Fatal(err)
	}
	defer tenantToken.Close()
	cmk, err := tenantToken.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := startMain(t, t.TempDir(), "--backup-schedule", "off", "--restore-test-schedule", "off",
		"--customer-key-sources", "pkcs11", "--customer-key-pkcs11-modules", tok.Module)
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
	inv, err := admin.Invite(ctx, ten.ID, rempart.InvitationCreate{Email: "it@acme.example", Role: rempart.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	// A tenant admin is a privileged role: a second person approves (IAM-10).
	second := rempart.Caller{Principal: rempart.Principal{ID: "sa_second", Role: rempart.RoleSystemAdmin}}
	if inv, err = m.Identity.ApproveInvitation(ctx, second, ten.ID, inv.ID, rempart.RoleChangeDecision{}); err != nil {
		t.Fatal(err)
	}
	const pw = "Acme-adm1n-passw0rd!"
	person, err := client.New(base, client.WithHTTPClient(insecureClient(nil))).AcceptInvitation(ctx, rempart.InvitationAccept{Token: inv.Token, Name: "Ida", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	u := signInConsole(t, base, "it@acme.example", pw)
	keysPage := "/tenants/" + ten.ID + "/keys"

	// A URI carrying the PIN is refused by the service, shown next to the
	// form, and not sent back; nothing changes.
	resp, page := u.post(keysPage, keysPage+"/customer", url.Values{"uri": {tok.URIWith("acme-cmk", "pin-value="+tok.PIN)}, "understood": {"yes"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "pin-source") || !strings.Contains(page, `role="alert"`) || strings.Contains(page, tok.PIN) {
		t.Fatalf("a PIN in the URI: %d, page shows the PIN: %v\n%s", resp.StatusCode, strings.Contains(page, tok.PIN), page)
	}
	if tk, err := admin.TenantKeys(ctx, ten.ID); err != nil || strings.HasPrefix(tk.KEKs[0].Wrapper, "cmk:") {
		t.Fatalf("keys after a refused change: %+v, %v", tk, err)
	}

	resp, _ = u.post(keysPage, keysPage+"/customer", url.Values{"uri": {uri}, "understood": {"yes"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != keysPage+"?done=customer-key-set" {
		t.Fatalf("set the tenant's key: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	tk, err := admin.TenantKeys(ctx, ten.ID)
	if err != nil || len(tk.KEKs) != 1 || tk.KEKs[0].Wrapper != "cmk:"+cmk.KeyID() {
		t.Fatalf("keys over the API after the console set the tenant's key: %+v, %v", tk, err)
	}
	_, page = u.get(keysPage)
	if want := "<code>" + strings.TrimPrefix(cmk.KeyID(), "pkcs11:") + "</code>"; !strings.Contains(page, "PKCS#11 key (HSM) "+want) || strings.Contains(page, tok.PINFile) {
		t.Fatalf("the keys page does not name the tenant's key as %s, or shows the PIN file:\n%s", want, page)
	}

	// A retention rule, set from the console, is the API's.
	retPage := "/tenants/" + ten.ID + "/retention"
	resp, page = u.post(retPage, retPage+"/rules", url.Values{"collection": {"calls"}, "restorable_days": {"a week"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "whole number of days") || !strings.Contains(page, `value="a week"`) {
		t.Fatalf("a bad number of days: %d\n%s", resp.StatusCode, page)
	}
	resp, _ = u.post(retPage, retPage+"/rules", url.Values{"collection": {"calls"}, "restorable_days": {"7"}, "max_age_days": {"1095"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != retPage+"?done=retention-rule-set" {
		t.Fatalf("set a rule: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	ret, err := admin.Retention(ctx, ten.ID)
	if err != nil || len(ret.Rules) != 1 || ret.Rules[0].Collection != "calls" || ret.Rules[0].RestorableDays != 7 || ret.Rules[0].MaxAgeDays != 1095 {
		t.Fatalf("retention over the API after the console set a rule: %+v, %v", ret, err)
	}
	if _, page = u.get(retPage); !strings.Contains(page, "<code>calls</code>") || !strings.Contains(page, "1095 days") {
		t.Fatalf("the retention page does not list the rule:\n%s", page)
	}

	// Each change and each refusal is in the tenant's trail, by the person.
	for _, c := range []struct {
		action  string
		outcome []string
	}{
		{"key.tenant.customer_key.set", []string{rempart.OutcomeSuccess, rempart.OutcomeFailure}},
		{"retention.set", []string{rempart.OutcomeSuccess, rempart.OutcomeFailure}},
	} {
		l, err := admin.TenantAudit(ctx, ten.ID, client.AuditOptions{Limit: 100, Action: c.action})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range l.Entries {
			if e.PrincipalID != person.ID || e.IP == "" {
				t.Errorf("%s entry by %q from %q, want the person from their address", c.action, e.PrincipalID, e.IP)
			}
			got = append(got, e.Outcome)
		}
		for _, o := range c.outcome {
			if !strings.Contains(strings.Join(got, ","), o) {
				t.Errorf("%s: outcomes %v, want one %s", c.action, got, o)
			}
		}
	}

	// Back to the root key from the console.
	resp, _ = u.post(keysPage, keysPage+"/customer/delete", url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove the tenant's key: %d", resp.StatusCode)
	}
	if tk, err := admin.TenantKeys(ctx, ten.ID); err != nil || strings.HasPrefix(tk.KEKs[0].Wrapper, "cmk:") {
		t.Fatalf("keys after the console removed the tenant's key: %+v, %v", tk, err)
	}
}
