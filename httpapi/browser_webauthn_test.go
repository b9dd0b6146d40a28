package httpapi_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdpwebauthn "github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/client"
	"github.com/rempart/rempart/identity"
	"github.com/rempart/rempart/internal/browsertest"
)

// apiPage is the page the browser test loads: nothing but an origin that
// matches the relying party, from which its script calls the API.
const apiPage = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>API client</title></head><body></body></html>`

// apiScript defines, in the page, what a browser client of the API does:
// call a route, and run a ceremony (options from the API, the
// authenticator, the answer back to the API).
const apiScript = `
window.api = async function (method, path, token, body) {
  const headers = {};
  if (token) { headers["Authorization"] = "Bearer " + token; }
  if (body !== null) { headers["Content-Type"] = "application/json"; }
  const r = await fetch(path, {method: method, headers: headers, body: body === null ? undefined : JSON.stringify(body)});
  const text = await r.text();
  return {status: r.status, body: text ? JSON.parse(text) : null};
};
// ceremony asks the API for options at optionsPath, asks the authenticator
// (create or get), and posts the answer with extra to answerPath.
window.ceremony = async function (kind, token, optionsPath, optionsBody, answerPath, extra) {
  const o = await api("POST", optionsPath, token, optionsBody);
  if (o.status !== 200) { return {step: "options", status: o.status, body: o.body}; }
  const publicKey = kind === "create"
    ? PublicKeyCredential.parseCreationOptionsFromJSON(o.body.options)
    : PublicKeyCredential.parseRequestOptionsFromJSON(o.body.options);
  const cred = kind === "create"
    ? await navigator.credentials.create({publicKey: publicKey})
    : await navigator.credentials.get({publicKey: publicKey});
  const sent = Object.assign({state: o.body.state, credential: cred.toJSON()}, extra);
  if (answerPath === "") { return {step: "authenticator", status: 0, body: null, sent: sent}; }
  const a = await api("POST", answerPath, token, sent);
  return {step: "answer", status: a.status, body: a.body, sent: sent};
};
// signIn is the whole sign-in of a person with a security key: the
// password, then the key for the challenge of the mfa_required answer.
window.signIn = async function (email, password) {
  const first = await api("POST", "/api/v1/sessions", null, {email: email, password: password});
  if (first.status !== 403 || !first.body.challenge) { return {step: "password", status: first.status, body: first.body}; }
  const r = await ceremony("get", null, "/api/v1/sessions/webauthn/options", {challenge: first.body.challenge},
    "/api/v1/sessions/webauthn", {challenge: first.body.challenge});
  r.first = first.body;
  return r;
};
true;
`

// pageResult is what the page's functions return.
type pageResult struct {
	Step   string          `json:"step"`
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body"`
	Sent   json.RawMessage `json:"sent"`
	First  struct {
		Code      string   `json:"code"`
		Challenge string   `json:"challenge"`
		Factors   []string `json:"factors"`
	} `json:"first"`
}

// js writes a call of a page function with JSON arguments.
func js(fn string, args ...any) string {
	out := fn + "("
	for i, a := range args {
		b, err := json.Marshal(a)
		if err != nil {
			panic(err)
		}
		if i > 0 {
			out += ", "
		}
		out += string(b)
	}
	return out + ")"
}

// TestBrowserSecurityKeyOverTheAPI: a browser client of the API, in
// Chromium with a virtual authenticator, registers a security key from a
// staff member's enrolment-only session, signs in with the password then
// the key (the challenge of the mfa_required answer carries the sign-in),
// uses the token, steps up with the key before an action that needs it;
// a replayed answer, an expired ceremony, a ceremony of another kind and a
// cloned key (a copy of the credential with an older signature counter)
// are refused and audited (IAM-4). The page is served by the test on
// http://localhost:<port>, the relying party's origin.
func TestBrowserSecurityKeyOverTheAPI(t *testing.T) {
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	base := "http://localhost:" + port
	notices := &noticeRecorder{}
	s := newStackWith(t, identity.Config{WebAuthn: identity.WebAuthnConfig{RPID: "localhost", Origins: []string{base}}, Notices: notices})
	mux := http.NewServeMux()
	mux.Handle("/api/", s.api.Handler())
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(apiPage))
	})
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: mux}}
	srv.Start()
	t.Cleanup(srv.Close)

	_, adminKey := s.admin()
	admin := client.New(s.srv.URL, client.WithAPIKey(adminKey))
	inv, err := admin.Invite(ctx, "", rempart.InvitationCreate{Email: "ops@example.com", Role: rempart.RoleSystemAdmin})
	if err != nil {
		t.Fatal(err)
	}
	anon := client.New(s.srv.URL)
	ops, err := anon.AcceptInvitation(ctx, rempart.InvitationAccept{Token: inv.Token, Name: "Ops", Password: goodPassword})
	if err != nil {
		t.Fatal(err)
	}

	b := browsertest.New(t)
	auth := b.VirtualAuthenticator()
	b.Run(chromedp.Navigate(base + "/"))
	browsertest.Get(b, chromedp.Evaluate[bool](apiScript))
	call := func(expr string) pageResult {
		t.Helper()
		return browsertest.Get(b, chromedp.Evaluate[pageResult](expr, chromedp.EvalAwaitPromise))
	}
	denied := func(what string, r pageResult, action, reason string) {
		t.Helper()
		if r.Status != http.StatusUnauthorized {
			t.Errorf("%s: %s answered %d %s, want 401", what, r.Step, r.Status, r.Body)
		}
		if e := s.lastAudit(action); e.Outcome != rempart.OutcomeDenied || e.Reason != reason || e.PrincipalID != ops.ID {
			t.Errorf("%s: audited %s %s %q by %q, want denied %q", what, e.Action, e.Outcome, e.Reason, e.PrincipalID, reason)
		}
	}

	// First sign-in of staff: an enrolment-only session, which registers
	// the key as its first factor and so becomes a full session.
	r := call(js("api", "POST", "/api/v1/sessions", nil, map[string]string{"email": "ops@example.com", "password": goodPassword}))
	var first rempart.SessionCreated
	if err := json.Unmarshal(r.Body, &first); r.Status != http.StatusCreated || err != nil || !first.EnrolOnly {
		t.Fatalf("first sign-in: %d %s, want an enrolment-only session", r.Status, r.Body)
	}
	if r := call(js("api", "GET", "/api/v1/tenants", first.Token, nil)); r.Status != http.StatusForbidden {
		t.Fatalf("an enrolment-only session listing tenants: %d %s", r.Status, r.Body)
	}
	r = call(js("ceremony", "create", first.Token, "/api/v1/me/factors/webauthn", map[string]string{"name": "blue key"}, "/api/v1/me/factors/webauthn/finish", map[string]any{}))
	var added rempart.FactorConfirmed
	if err := json.Unmarshal(r.Body, &added); r.Status != http.StatusCreated || err != nil || added.Factor.Kind != rempart.FactorWebAuthn ||
		added.Factor.Name != "blue key" || len(added.RecoveryCodes) != 10 {
		t.Fatalf("registration: %s answered %d %s", r.Step, r.Status, r.Body)
	}
	creds := b.Credentials(auth)
	if len(creds) != 1 || creds[0].RpID != "localhost" {
		t.Fatalf("the authenticator's credentials: %+v, want one for localhost", creds)
	}
	registered := *creds[0] // its signature counter as registered, for the clone below
	if e := s.lastAudit("mfa.webauthn.register"); e.Outcome != rempart.OutcomeSuccess || e.PrincipalID != ops.ID || e.Reason != "confirmed" {
		t.Errorf("registration audited: %+v", e)
	}
	// Notices wait in the outbox until it is emptied.
	if _, err := s.identity.SendNotices(ctx); err != nil {
		t.Fatal(err)
	}
	if got := notices.sent(); len(got) != 1 || got[0].To != "ops@example.com" || got[0].What != `A security key ("blue key") was added to your account as a second factor.` {
		t.Errorf("account notices: %+v, want one for the key", got)
	}
	if r := call(js("api", "GET", "/api/v1/tenants", first.Token, nil)); r.Status != http.StatusOK {
		t.Fatalf("after registering the first factor, listing tenants: %d %s", r.Status, r.Body)
	}

	// Sign in: the password, then the key; the token works.
	s.clock.Advance(time.Minute)
	r = call(js("signIn", "ops@example.com", goodPassword))
	if r.First.Code != rempart.EMFAREQUIRED || r.First.Challenge == "" || len(r.First.Factors) != 1 || r.First.Factors[0] != rempart.FactorWebAuthn {
		t.Fatalf("the password step: %+v", r.First)
	}
	var sess rempart.SessionCreated
	if err := json.Unmarshal(r.Body, &sess); r.Status != http.StatusCreated || err != nil || sess.Kind != rempart.SessionAPI || sess.MFAAt == nil {
		t.Fatalf("sign-in with the key: %s answered %d %s", r.Step, r.Status, r.Body)
	}
	if e := s.lastAudit("mfa.use"); e.Reason != "webauthn" || e.PrincipalID != ops.ID {
		t.Errorf("the key's use audited: %+v", e)
	}
	if e := s.lastAudit("auth.sign_in"); e.Outcome != rempart.OutcomeSuccess || e.CredentialID != sess.ID {
		t.Errorf("the sign-in audited: %+v", e)
	}
	me := call(js("api", "GET", "/api/v1/me", sess.Token, nil))
	var u rempart.User
	if err := json.Unmarshal(me.Body, &u); me.Status != http.StatusOK || err != nil || u.ID != ops.ID {
		t.Fatalf("GET /me with the token: %d %s", me.Status, me.Body)
	}
	if creds := b.Credentials(auth); creds[0].SignCount <= registered.SignCount {
		t.Fatalf("the key's signature counter: %v after a sign-in, %v at registration", creds[0].SignCount, registered.SignCount)
	}

	// The same answer again: refused, its ceremony was used.
	replay := call(js("api", "POST", "/api/v1/sessions/webauthn", nil, json.RawMessage(r.Sent)))
	denied("a replayed answer", replay, "auth.sign_in", "second factor: security key ceremony already used: possible replay")

	// Step-up with the key, eleven minutes later, before new recovery
	// codes (which need a recent second factor).
	s.clock.Advance(11 * time.Minute)
	if r := call(js("api", "POST", "/api/v1/me/recovery-codes", sess.Token, nil)); r.Status != http.StatusForbidden {
		t.Fatalf("new recovery codes without a recent second factor: %d %s, want 403", r.Status, r.Body)
	}
	r = call(js("ceremony", "get", sess.Token, "/api/v1/mfa/webauthn/options", nil, "/api/v1/mfa/webauthn", map[string]any{}))
	if r.Status != http.StatusNoContent {
		t.Fatalf("step-up with the key: %s answered %d %s", r.Step, r.Status, r.Body)
	}
	if e := s.lastAudit("mfa.step_up"); e.Outcome != rempart.OutcomeSuccess || e.Reason != "webauthn" || e.CredentialID != sess.ID {
		t.Errorf("step-up audited: %+v", e)
	}
	if r := call(js("api", "POST", "/api/v1/me/recovery-codes", sess.Token, nil)); r.Status != http.StatusCreated {
		t.Fatalf("new recovery codes after step-up: %d %s", r.Status, r.Body)
	}

	// A ceremony's state is good for five minutes, and for its own kind.
	r = call(js("ceremony", "get", sess.Token, "/api/v1/mfa/webauthn/options", nil, "", map[string]any{}))
	s.clock.Advance(6 * time.Minute)
	late := call(js("api", "POST", "/api/v1/mfa/webauthn", sess.Token, json.RawMessage(r.Sent)))
	denied("step-up after the ceremony expired", late, "mfa.verify", "bad or expired security key ceremony")
	r = call(js("ceremony", "get", sess.Token, "/api/v1/mfa/webauthn/options", nil, "", map[string]any{}))
	_, err = anon.SignIn(ctx, rempart.SignIn{Email: "ops@example.com", Password: goodPassword})
	ch := client.SignInChallenge(err)
	if ch == nil {
		t.Fatalf("sign-in without a code: %v", err)
	}
	var sent map[string]any
	if err := json.Unmarshal(r.Sent, &sent); err != nil {
		t.Fatal(err)
	}
	sent["challenge"] = ch.Challenge
	wrong := call(js("api", "POST", "/api/v1/sessions/webauthn", nil, sent))
	denied("a step-up ceremony at a sign-in", wrong, "auth.sign_in", "second factor: bad or expired security key ceremony")

	// A clone: the same credential with the counter it had at
	// registration signs in; refused and audited.
	cdpCtx, cancel := context.WithTimeout(b.Context(), browsertest.Timeout)
	defer cancel()
	if _, err := chromedp.Call(cdpCtx, cdpwebauthn.RemoveCredential, cdpwebauthn.RemoveCredentialParams{AuthenticatorID: auth, CredentialID: registered.CredentialID}); err != nil {
		t.Fatalf("remove the credential: %v", err)
	}
	// Only the members a plain authenticator takes: Chromium refuses the
	// others (CMTG) even when empty.
	addCredential := cdp.Command[map[string]any, cdp.Empty]{Method: cdpwebauthn.CommandAddCredential}
	if _, err := chromedp.Call(cdpCtx, addCredential, map[string]any{"authenticatorId": auth, "credential": map[string]any{
		"credentialId": registered.CredentialID, "isResidentCredential": registered.IsResidentCredential, "rpId": registered.RpID,
		"privateKey": registered.PrivateKey, "userHandle": registered.UserHandle, "signCount": registered.SignCount,
	}}); err != nil {
		t.Fatalf("add the clone: %v", err)
	}
	clone := call(js("signIn", "ops@example.com", goodPassword))
	if clone.Step != "answer" {
		t.Fatalf("sign-in with the clone: stopped at %s: %d %s", clone.Step, clone.Status, clone.Body)
	}
	denied("a cloned key", clone, "auth.sign_in", "second factor: signature counter did not grow: possible cloned key")
	if entries, err := admin.AuditEntries(ctx, client.AuditOptions{Limit: 1000, Action: "auth.sign_in", Principal: ops.ID}); err != nil || len(entries.Entries) == 0 {
		t.Errorf("the sign-ins in the audit log over the API: %+v, %v", entries, err)
	}
	b.NoCSPViolations()
}

// noticeRecorder keeps the account notices identity sends (their mail
// delivery is notify's, tested against Postfix).
type noticeRecorder struct {
	mu      sync.Mutex
	notices []identity.AccountNotice
}

func (n *noticeRecorder) NotifyAccount(ctx context.Context, an identity.AccountNotice) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.notices = append(n.notices, an)
	return nil
}

func (n *noticeRecorder) sent() []identity.AccountNotice {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.notices)
}
