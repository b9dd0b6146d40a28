package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/web"
)

// fakeMFA answers like the identity service: one TOTP device for Ada,
// "123456" as the valid code, step-up needed for new recovery codes until
// VerifyMFA.
type fakeMFA struct {
	mu       sync.Mutex
	required map[string]bool // tenants' MFA requirement
	sessions *fakeSessions
	verified map[string]bool // session credential IDs that stepped up
}

func (f *fakeMFA) CompleteSignIn(ctx context.Context, challenge, code string, in web.RequestInfo) (web.Session, error) {
	email, ok := strings.CutPrefix(challenge, "challenge:")
	if !ok {
		return web.Session{}, rempart.Errorf(rempart.EUNAUTHORIZED, "The sign-in has expired: start again with your email and password.")
	}
	return f.sessions.SignIn(ctx, web.SignIn{Email: email, Password: f.sessions.users[email].password, Code: code, RequestInfo: in})
}

func (f *fakeMFA) Factors(ctx context.Context, c rempart.Caller) (rempart.FactorList, error) {
	if c.EnrolOnly {
		return rempart.FactorList{Factors: []rempart.Factor{}}, nil
	}
	used := epoch.Add(time.Hour)
	return rempart.FactorList{Factors: []rempart.Factor{{ID: "mfa_1", Kind: rempart.FactorTOTP, Name: "phone", CreatedAt: epoch, LastUsedAt: &used}}, RecoveryCodesLeft: 9}, nil
}

func (f *fakeMFA) StartTOTP(ctx context.Context, c rempart.Caller, name string) (rempart.TOTPEnrolment, error) {
	if name == "" {
		return rempart.TOTPEnrolment{}, rempart.Errorf(rempart.EINVALID, "name is required.")
	}
	return rempart.TOTPEnrolment{Factor: rempart.Factor{ID: "mfa_2", Kind: rempart.FactorTOTP, Name: name, CreatedAt: epoch},
		Secret: "JBSWY3DPEHPK3PXP", URI: "otpauth://totp/rempart:ada?secret=JBSWY3DPEHPK3PXP", QRSVG: `<svg xmlns="http://www.w3.org/2000/svg"/>`}, nil
}

func (f *fakeMFA) ConfirmTOTP(ctx context.Context, c rempart.Caller, id, code string) (rempart.FactorConfirmed, error) {
	if code != "123456" {
		return rempart.FactorConfirmed{}, rempart.Errorf(rempart.EUNAUTHORIZED, "The code is not valid.")
	}
	return rempart.FactorConfirmed{Factor: rempart.Factor{ID: id}, RecoveryCodes: []string{"aaaa-bbbb-cccc-dddd", "eeee-ffff-gggg-hhhh"}}, nil
}

func (f *fakeMFA) DeleteFactor(ctx context.Context, c rempart.Caller, id string) error { return nil }

func (f *fakeMFA) RegenerateRecoveryCodes(ctx context.Context, c rempart.Caller) (rempart.RecoveryCodes, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.verified[c.CredentialID] {
		return rempart.RecoveryCodes{}, rempart.Errorf(rempart.EMFAREQUIRED, "This action needs a second factor proven in the last minutes.")
	}
	return rempart.RecoveryCodes{Codes: []string{"new1-new1-new1-new1"}}, nil
}

func (f *fakeMFA) VerifyMFA(ctx context.Context, c rempart.Caller, code string) error {
	if code != "123456" {
		return rempart.Errorf(rempart.EUNAUTHORIZED, "The code is not valid.")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.verified == nil {
		f.verified = map[string]bool{}
	}
	f.verified[c.CredentialID] = true
	return nil
}

var challengeRE = regexp.MustCompile(`name="challenge" value="([^"]+)"`)

// TestSignInSecondStep: a person with a second factor gets, after the
// password, a page asking for the code (no session yet), then the session
// (IAM-4).
func TestSignInSecondStep(t *testing.T) {
	c := newConsole(t)
	page := c.get("/sign-in", "")
	signin := page.cookie("__Host-rempart-signin")
	token := csrfRE.FindStringSubmatch(page.body)
	if signin == nil || token == nil {
		t.Fatal("the sign-in form set no cookie or token")
	}
	r := c.do(request{method: http.MethodPost, path: "/sign-in", cookies: []*http.Cookie{signin},
		form: url.Values{"csrf": {token[1]}, "email": {"tom@example.com"}, "password": {"battery staple"}, "next": {"/audit"}}})
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, []string{`action="/sign-in/code"`, `name="code"`, `name="next" value="/audit"`}, []string{"battery staple"})
	if r.cookie("__Host-rempart-session") != nil {
		t.Fatal("the password alone set a session cookie")
	}
	ch := challengeRE.FindStringSubmatch(r.body)
	csrf := csrfRE.FindStringSubmatch(r.body)
	if ch == nil || csrf == nil {
		t.Fatalf("the code page has no challenge or CSRF token:\n%s", r.body)
	}
	post := func(code string) response {
		return c.do(request{method: http.MethodPost, path: "/sign-in/code", form: url.Values{"csrf": {csrf[1]}, "challenge": {ch[1]}, "code": {code}, "next": {"/audit"}},
			cookies: []*http.Cookie{signin}})
	}
	r = post("000000")
	wantStatus(t, r, http.StatusUnauthorized)
	wantBody(t, r, []string{`role="alert"`, `name="challenge"`}, nil)
	if r.cookie("__Host-rempart-session") == nil {
		r = post("123456")
		wantStatus(t, r, http.StatusSeeOther)
		wantLocation(t, r, "/audit")
		if r.cookie("__Host-rempart-session") == nil {
			t.Fatal("no session after the right code")
		}
	} else {
		t.Fatal("a wrong code set a session cookie")
	}
}

// TestEnrolOnlySession: a session that must enrol a second factor reaches
// the security page and nothing else.
func TestEnrolOnlySession(t *testing.T) {
	c := newConsole(t)
	enrol := sysAdmin
	enrol.EnrolOnly, enrol.CredentialID = true, "ses_enrol"
	c.sessions.sessions["tok-enrol"] = enrol
	for _, p := range []string{"/", "/tenants", "/keys", "/audit"} {
		r := c.get(p, "tok-enrol")
		wantStatus(t, r, http.StatusSeeOther)
		wantLocation(t, r, "/account/security")
	}
	r := c.get("/account/security", "tok-enrol")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, []string{"must have a second factor", `action="/account/security/totp"`}, nil)
	csrf := csrfRE.FindStringSubmatch(r.body)[1]
	r = c.do(request{method: http.MethodPost, path: "/tenants", session: "tok-enrol", form: url.Values{"csrf": {csrf}, "name": {"X"}}})
	wantStatus(t, r, http.StatusSeeOther)
	wantLocation(t, r, "/account/security")
	if len(c.tenants.tenants) != 2 {
		t.Fatal("an enrolment-only session created a tenant")
	}
	r = c.do(request{method: http.MethodPost, path: "/account/security/totp", session: "tok-enrol", form: url.Values{"csrf": {csrf}, "name": {"phone"}}})
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, []string{`src="data:image/svg&#43;xml;base64,`, `value="JBSWY3DPEHPK3PXP"`, `action="/account/security/totp/mfa_2/confirm"`}, nil)
	r = c.do(request{method: http.MethodPost, path: "/account/security/totp/mfa_2/confirm", session: "tok-enrol", form: url.Values{"csrf": {csrf}, "code": {"123456"}}})
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, []string{"aaaa-bbbb-cccc-dddd", "shown only now"}, nil)
}

// TestStepUpPrompt: an action answered mfa_required shows a prompt for a
// code, then a button to repeat the action.
func TestStepUpPrompt(t *testing.T) {
	c := newConsole(t)
	r := c.post("/account/security/recovery-codes", "tok-admin", nil)
	wantStatus(t, r, http.StatusForbidden)
	wantBody(t, r, []string{"Confirm it is you", `action="/mfa/verify"`, `name="action" value="/account/security/recovery-codes"`}, nil)
	r = c.post("/mfa/verify", "tok-admin", url.Values{"action": {"/account/security/recovery-codes"}, "code": {"000000"}})
	wantStatus(t, r, http.StatusUnauthorized)
	r = c.post("/mfa/verify", "tok-admin", url.Values{"action": {"//evil.example/x"}, "code": {"123456"}})
	wantStatus(t, r, http.StatusSeeOther)
	wantLocation(t, r, "/")
	r = c.post("/mfa/verify", "tok-admin", url.Values{"action": {"/account/security/recovery-codes"}, "code": {"123456"}})
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, []string{`form class="card" method="post" action="/account/security/recovery-codes"`, "Repeat the action"}, nil)
	r = c.post("/account/security/recovery-codes", "tok-admin", nil)
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, []string{"new1-new1-new1-new1"}, nil)
}

func (f *fakeMFA) BeginWebAuthnRegistration(ctx context.Context, c rempart.Caller, name string) ([]byte, string, error) {
	return []byte(`{"challenge":"abc"}`), "state-1", nil
}

func (f *fakeMFA) FinishWebAuthnRegistration(ctx context.Context, c rempart.Caller, state string, response []byte) (rempart.FactorConfirmed, error) {
	return rempart.FactorConfirmed{}, rempart.Errorf(rempart.EUNAUTHORIZED, "The security key's answer was refused: try again.")
}

func (f *fakeMFA) BeginWebAuthnLogin(ctx context.Context, challenge string, in web.RequestInfo) ([]byte, string, error) {
	return nil, "", nil
}

func (f *fakeMFA) CompleteSignInWebAuthn(ctx context.Context, challenge, state string, response []byte, in web.RequestInfo) (web.Session, error) {
	return web.Session{}, rempart.Errorf(rempart.EUNAUTHORIZED, "The security key's answer was refused: try again.")
}

func (f *fakeMFA) BeginWebAuthnStepUp(ctx context.Context, c rempart.Caller) ([]byte, string, error) {
	return nil, "", nil
}

func (f *fakeMFA) VerifyMFAWebAuthn(ctx context.Context, c rempart.Caller, state string, response []byte) error {
	return rempart.Errorf(rempart.EUNAUTHORIZED, "The security key's answer was refused: try again.")
}

func (f *fakeMFA) MFAPolicy(ctx context.Context, c rempart.Caller, tenant string) (rempart.MFAPolicy, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return rempart.MFAPolicy{Required: f.required[tenant]}, nil
}

func (f *fakeMFA) SetMFAPolicy(ctx context.Context, c rempart.Caller, tenant string, required bool) error {
	if c.Principal.TenantID != tenant || c.Principal.Role != rempart.RoleAdmin {
		return rempart.Errorf(rempart.EFORBIDDEN, "Your role does not allow it.")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.required == nil {
		f.required = map[string]bool{}
	}
	f.required[tenant] = required
	return nil
}

// TestTenantPolicyPage: a tenant admin requires a second factor of the
// tenant's users from the security page; a system admin sees no such form.
func TestTenantPolicyPage(t *testing.T) {
	c := newConsole(t)
	r := c.get("/account/security", "tok-tenant")
	wantBody(t, r, []string{"may sign in without a second factor", `name="required" value="true"`}, nil)
	r = c.post("/account/security/tenant-policy", "tok-tenant", url.Values{"required": {"true"}})
	wantStatus(t, r, http.StatusSeeOther)
	wantLocation(t, r, "/account/security?done=policy-saved")
	if !c.mfa.required["ten_acme"] {
		t.Fatal("the requirement was not set")
	}
	r = c.get("/account/security", "tok-tenant")
	wantBody(t, r, []string{"must have a second factor", `name="required" value="false"`}, nil)
	r = c.get("/account/security", "tok-admin")
	wantBody(t, r, nil, []string{"tenant-policy"})
}
