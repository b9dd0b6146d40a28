package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/client"
	"github.com/rempart/rempart/identity"
	"github.com/rempart/rempart/identity/totp"
)

// lastAudit returns the newest audit entry of action.
func (s *stack) lastAudit(action string) rempart.AuditEntry {
	s.t.Helper()
	es, err := s.db.AuditLog(context.Background(), audit.Query{Action: action, Limit: 10000})
	if err != nil || len(es) == 0 {
		s.t.Fatalf("audit entries of %s: %d, %v", action, len(es), err)
	}
	return es[len(es)-1]
}

// refused checks that err is the API's refusal with code, and that the
// newest entry of action records it as denied with reason, for principal
// when one is given.
func (s *stack) refused(what string, err error, wantCode, action, reason, principal string) {
	s.t.Helper()
	if code(err) != wantCode {
		s.t.Errorf("%s: got %v, want %s", what, err, wantCode)
		return
	}
	e := s.lastAudit(action)
	if e.Outcome != rempart.OutcomeDenied || e.Reason != reason || principal != "" && e.PrincipalID != principal {
		s.t.Errorf("%s: audited %s %s %q by %q, want denied %q by %q", what, e.Action, e.Outcome, e.Reason, e.PrincipalID, reason, principal)
	}
}

// TestSecurityKeyRefusalsOverTheAPI: what the security-key routes and the
// second step of an API sign-in refuse, each answer's code and its audit
// entry: the mfa_required answer carries a challenge only for a right
// password; a challenge that expired or was made for the console; a
// ceremony's state of another person, of another kind, expired, or with a
// malformed or over-size answer; missing fields, unknown fields, a body over
// the bound; a person without a key; a service account's key (IAM-4).
func TestSecurityKeyRefusalsOverTheAPI(t *testing.T) {
	ctx := context.Background()
	s := newStackWith(t, identity.Config{WebAuthn: identity.WebAuthnConfig{RPID: "localhost", Origins: []string{"http://localhost:1"}}})
	adminC, adminKey := s.admin()
	admin := client.New(s.srv.URL, client.WithAPIKey(adminKey))
	opsUser, ops := person(t, s, admin, "", "ops@example.com", rempart.RoleSystemAdmin) // enrols TOTP
	eveUser, eve := person(t, s, admin, "", "eve@example.com", rempart.RoleSystemAdmin)
	anon := client.New(s.srv.URL)

	// Only a right password gets a challenge; a wrong one, or an unknown
	// account, the same 401 without one.
	for _, in := range []rempart.SignIn{{Email: "ops@example.com", Password: "wrong-" + goodPassword}, {Email: "nobody@example.com", Password: goodPassword}} {
		_, err := anon.SignIn(ctx, in)
		if code(err) != rempart.EUNAUTHORIZED || client.SignInChallenge(err) != nil {
			t.Errorf("sign-in of %s with a wrong password: %v, challenge %+v; want 401 without a challenge", in.Email, err, client.SignInChallenge(err))
		}
	}
	_, err := anon.SignIn(ctx, rempart.SignIn{Email: "ops@example.com", Password: goodPassword})
	ch := client.SignInChallenge(err)
	if code(err) != rempart.EMFAREQUIRED || ch == nil || ch.Challenge == "" || !slices.Equal(ch.Factors, []string{rempart.FactorTOTP}) ||
		!ch.ExpiresAt.Equal(s.clock.Now().Add(5*time.Minute).Truncate(time.Second)) {
		t.Fatalf("sign-in without a code: %v, %+v; want mfa_required with a challenge for totp", err, ch)
	}
	s.refused("sign-in without a code", err, rempart.EMFAREQUIRED, "auth.sign_in", "second factor missing", opsUser.ID)

	// The second step by code: a wrong code, then a right one; the code is
	// not accepted twice.
	_, err = anon.SignInCode(ctx, rempart.SignInCode{Challenge: ch.Challenge, Code: "000000"})
	s.refused("a wrong code", err, rempart.EUNAUTHORIZED, "auth.sign_in", "second factor: wrong code", opsUser.ID)
	s.clock.Advance(30 * time.Second)
	good := rempart.SignInCode{Challenge: ch.Challenge, Code: totp.Code(s.totp["ops@example.com"], s.clock.Now())}
	sess, err := anon.SignInCode(ctx, good)
	if err != nil || sess.Kind != rempart.SessionAPI || sess.MFAAt == nil {
		t.Fatalf("second step with a code: %+v, %v", sess, err)
	}
	if me, err := anon.WithKey(sess.Token).Me(ctx); err != nil || me.ID != opsUser.ID {
		t.Fatalf("the session of the second step: %+v, %v", me, err)
	}
	_, err = anon.SignInCode(ctx, good)
	s.refused("the same code again", err, rempart.EUNAUTHORIZED, "auth.sign_in", "second factor: code replayed", opsUser.ID)

	// A person with no security key gets no options, at sign-in or step-up.
	_, err = anon.SignInWebAuthnOptions(ctx, ch.Challenge)
	s.refused("sign-in options without a key", err, rempart.ENOTFOUND, "auth.sign_in.webauthn", "no security key", opsUser.ID)
	_, err = ops.StepUpWebAuthnOptions(ctx)
	s.refused("step-up options without a key", err, rempart.ENOTFOUND, "mfa.verify.start", "no security key", opsUser.ID)

	// Challenges: forged, expired, made for the console.
	_, err = anon.SignInWebAuthnOptions(ctx, ch.Challenge+"x")
	s.refused("a forged challenge", err, rempart.EUNAUTHORIZED, "auth.sign_in", "bad or expired sign-in challenge", "")
	s.clock.Advance(5 * time.Minute)
	_, err = anon.SignInCode(ctx, rempart.SignInCode{Challenge: ch.Challenge, Code: totp.Code(s.totp["ops@example.com"], s.clock.Now())})
	s.refused("an expired challenge", err, rempart.EUNAUTHORIZED, "auth.sign_in", "bad or expired sign-in challenge", "")
	_, console, err := s.identity.StartSignIn(ctx, rempart.Caller{}, rempart.SignIn{Email: "ops@example.com", Password: goodPassword})
	if err != nil || console == "" {
		t.Fatalf("console sign-in: %q, %v", console, err)
	}
	s.clock.Advance(30 * time.Second)
	_, err = anon.SignInCode(ctx, rempart.SignInCode{Challenge: console, Code: totp.Code(s.totp["ops@example.com"], s.clock.Now())})
	s.refused("a console challenge over the API", err, rempart.EUNAUTHORIZED, "auth.sign_in", "sign-in challenge of another kind of session (console, not api)", opsUser.ID)

	// Registration ceremonies: the state is bound to the person, the kind
	// of ceremony and five minutes.
	s.clock.Advance(11 * time.Minute) // past the step-up window of the person() sign-ins
	ops, eve = signInWithCode(t, s, "ops@example.com"), signInWithCode(t, s, "eve@example.com")
	reg, err := ops.StartWebAuthn(ctx, "blue key")
	if err != nil || reg.State == "" {
		t.Fatalf("start a security key: %+v, %v", reg, err)
	}
	var opts struct {
		Challenge string `json:"challenge"`
		RP        struct {
			ID string `json:"id"`
		} `json:"rp"`
		User struct {
			Name string `json:"name"`
		} `json:"user"`
		ExcludeCredentials []any `json:"excludeCredentials"`
	}
	if err := json.Unmarshal(reg.Options, &opts); err != nil || opts.Challenge == "" || opts.RP.ID != "localhost" || opts.User.Name != "ops@example.com" {
		t.Fatalf("creation options: %s, %v", reg.Options, err)
	}
	if e := s.lastAudit("mfa.webauthn.start"); e.Outcome != rempart.OutcomeSuccess || e.PrincipalID != opsUser.ID {
		t.Errorf("start audited: %+v", e)
	}
	answer := func(state string) rempart.WebAuthnAnswer {
		return rempart.WebAuthnAnswer{State: state, Credential: json.RawMessage(`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{}}`)}
	}
	_, err = eve.FinishWebAuthn(ctx, answer(reg.State))
	s.refused("another person's state", err, rempart.EUNAUTHORIZED, "mfa.webauthn.register", "bad or expired ceremony", eveUser.ID)
	_, err = ops.FinishWebAuthn(ctx, answer(reg.State))
	s.refused("a malformed attestation", err, rempart.EUNAUTHORIZED, "mfa.webauthn.register", "malformed answer", opsUser.ID)
	_, err = ops.FinishWebAuthn(ctx, rempart.WebAuthnAnswer{State: reg.State})
	s.refused("no credential", err, rempart.EUNAUTHORIZED, "mfa.webauthn.register", "malformed answer", opsUser.ID)
	_, err = ops.FinishWebAuthn(ctx, rempart.WebAuthnAnswer{Credential: answer("").Credential})
	s.refused("no state", err, rempart.EUNAUTHORIZED, "mfa.webauthn.register", "bad or expired ceremony", opsUser.ID)
	big := rempart.WebAuthnAnswer{State: reg.State, Credential: json.RawMessage(`{"id":"` + strings.Repeat("A", 20<<10) + `"}`)}
	_, err = ops.FinishWebAuthn(ctx, big)
	s.refused("an answer over 16 KiB", err, rempart.EUNAUTHORIZED, "mfa.webauthn.register", "answer too large", opsUser.ID)
	_, err = ops.StartWebAuthn(ctx, "")
	s.refused("no name", err, rempart.EINVALID, "mfa.webauthn.start", "invalid", opsUser.ID)

	// The wrong kind: a registration state at step-up and at a sign-in.
	err = ops.VerifyMFAWebAuthn(ctx, answer(reg.State))
	s.refused("a registration state at step-up", err, rempart.EUNAUTHORIZED, "mfa.verify", "bad or expired security key ceremony", opsUser.ID)
	_, err = anon.SignIn(ctx, rempart.SignIn{Email: "ops@example.com", Password: goodPassword})
	ch = client.SignInChallenge(err)
	if ch == nil {
		t.Fatalf("sign-in without a code: %v", err)
	}
	_, err = anon.SignInWebAuthn(ctx, rempart.SignInWebAuthn{Challenge: ch.Challenge, WebAuthnAnswer: answer(reg.State)})
	s.refused("a registration state at a sign-in", err, rempart.EUNAUTHORIZED, "auth.sign_in", "second factor: bad or expired security key ceremony", opsUser.ID)
	_, err = anon.SignInWebAuthn(ctx, rempart.SignInWebAuthn{Challenge: "", WebAuthnAnswer: answer(reg.State)})
	s.refused("no challenge", err, rempart.EUNAUTHORIZED, "auth.sign_in", "bad or expired sign-in challenge", "")

	// Expired: a good state six minutes later.
	s.clock.Advance(6 * time.Minute)
	_, err = ops.FinishWebAuthn(ctx, answer(reg.State))
	s.refused("an expired state", err, rempart.EUNAUTHORIZED, "mfa.webauthn.register", "bad or expired ceremony", opsUser.ID)

	// Bodies refused before they reach the ceremony are audited too.
	post := func(path, token, contentType string, body []byte) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, s.srv.URL+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	opsToken := signInToken(t, s, "ops@example.com")
	for _, tc := range []struct {
		name, path, token, contentType, action, reason string
		body                                           []byte
		status                                         int
	}{
		{"unknown field", "/api/v1/me/factors/webauthn/finish", opsToken, "application/json", "mfa.webauthn.register", "malformed request: invalid", []byte(`{"state":"x","credential":{},"extra":1}`), 400},
		{"not JSON", "/api/v1/mfa/webauthn", opsToken, "application/json", "mfa.verify", "malformed request: invalid", []byte(`{"state":`), 400},
		{"not a JSON body", "/api/v1/me/factors/webauthn", opsToken, "text/plain", "mfa.webauthn.start", "malformed request: unsupported_media", []byte(`name=x`), 415},
		{"body over 64 KiB", "/api/v1/me/factors/webauthn/finish", opsToken, "application/json", "mfa.webauthn.register", "malformed request: too_large",
			[]byte(`{"state":"x","credential":{"id":"` + strings.Repeat("A", 100<<10) + `"}}`), 413},
		{"sign-in body over 64 KiB", "/api/v1/sessions/webauthn", "", "application/json", "auth.sign_in", "malformed request: too_large",
			[]byte(`{"challenge":"x","state":"x","credential":{"id":"` + strings.Repeat("A", 100<<10) + `"}}`), 413},
		{"empty body", "/api/v1/sessions/webauthn/options", "", "application/json", "auth.sign_in", "malformed request: invalid", nil, 400},
	} {
		if resp := post(tc.path, tc.token, tc.contentType, tc.body); resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.status)
		}
		if e := s.lastAudit(tc.action); e.Outcome != rempart.OutcomeDenied || e.Reason != tc.reason {
			t.Errorf("%s: audited %+v, want denied %q", tc.name, e, tc.reason)
		}
	}

	// A service account's key is not a person.
	ten := s.tenant(adminC, "acme")
	_, _, saKey := s.account(adminC, ten, "crm", rempart.RoleWriter, 0)
	sa := client.New(s.srv.URL, client.WithAPIKey(saKey))
	_, err = sa.StartWebAuthn(ctx, "key")
	s.refused("a service account registering a key", err, rempart.ENOTFOUND, "mfa.webauthn.start", "not_found", "")
	_, err = sa.StepUpWebAuthnOptions(ctx)
	s.refused("a service account's step-up", err, rempart.ENOTFOUND, "mfa.verify.start", "not_found", "")
}

// signInWithCode signs a person with TOTP in over the API in two steps,
// the challenge then the code, and returns their client.
func signInWithCode(t *testing.T, s *stack, email string) *client.Client {
	t.Helper()
	return client.New(s.srv.URL).WithKey(signInToken(t, s, email))
}

func signInToken(t *testing.T, s *stack, email string) string {
	t.Helper()
	ctx := context.Background()
	anon := client.New(s.srv.URL)
	_, err := anon.SignIn(ctx, rempart.SignIn{Email: email, Password: goodPassword})
	ch := client.SignInChallenge(err)
	if ch == nil {
		t.Fatalf("sign-in of %s: %v, want a challenge", email, err)
	}
	s.clock.Advance(30 * time.Second)
	sess, err := anon.SignInCode(ctx, rempart.SignInCode{Challenge: ch.Challenge, Code: totp.Code(s.totp[email], s.clock.Now())})
	if err != nil {
		t.Fatalf("second step of %s: %v", email, err)
	}
	return sess.Token
}
