package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/backup"
	"github.com/rempart/rempart/identity/totp"
	"github.com/rempart/rempart/jobs"
	"github.com/rempart/rempart/keys"
	"github.com/rempart/rempart/vault"
	"github.com/rempart/rempart/web"
)

// The console's authorisation matrix (IAM-1 least privilege, TEN-1 tenant
// isolation), over the real services on SQLite as the binary wires them:
// identity's console sessions, the guard, the vault, grants, reviews, keys,
// backups and jobs. Every route routes.go registers × every kind of caller,
// with the outcome each must get, and no response to anyone shows another
// tenant's names or IDs.

// Caller kinds.
const (
	kAnon     = "no session"
	kSysAdmin = rempart.RoleSystemAdmin
	kStale    = "system_admin without recent step-up"
	kAuditor  = rempart.RoleAuditor
	kSupport  = rempart.RoleSupport
	kEngineer = rempart.RoleEngineer
	kAdminA   = "admin of tenant A"
	kWriterA  = "writer of tenant A"
	kReaderA  = "reader of tenant A"
	kAdminB   = "admin of tenant B"
	kSuspend  = "suspended user of tenant A"
	kEnrol    = "enrolment-only system_admin"
)

// authzCaller is one browser: its session cookie and the CSRF token of its
// forms.
type authzCaller struct {
	kind, token, csrf, tenant string
}

// authzWorld is the cast: tenants A and B, one person per caller kind, and
// objects of each kind a route names.
type authzWorld struct {
	*realConsole
	callers []authzCaller
	// ids are the values of a row's placeholders ({A}, {SA}, …).
	ids map[string]string
	// secrets are strings only people of that tenant (by ID) may see.
	secrets map[string][]string
	n       int
	// kim is the session token of a person who is no caller: others try
	// to end it and to remove her second factor.
	kim string
}

var csrfInPage = regexp.MustCompile(`name="csrf" value="([^"]*)"`)

func newAuthzWorld(t *testing.T) *authzWorld {
	t.Helper()
	ctx := context.Background()
	w := &authzWorld{realConsole: newRealConsole(t), ids: map[string]string{}, secrets: map[string][]string{}}
	// Jobs are queued, never run: the matrix is about who may ask.
	for _, kind := range []string{backup.KindCreate, backup.KindVerify, backup.KindRestoreTest, keys.KindRootRewrap, vault.KindReencrypt} {
		w.jobs.Handle(kind, func(context.Context, *jobs.Run) error { return nil })
	}
	admin := w.admin // the bootstrap key: a system administrator without a session
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	suffix := strings.ToLower(rempart.RandomSecret(6))
	ta, err := w.vault.CreateTenant(ctx, admin, "Anvil Works "+suffix)
	must(err)
	tb, err := w.vault.CreateTenant(ctx, admin, "Bakery Bravo "+suffix)
	must(err)
	w.ids["{A}"], w.ids["{B}"] = ta.ID, tb.ID

	// People. Staff get an authenticator app (person enrols them).
	w.enrolTOTP(t, "ada@example.com")
	for email, role := range map[string]string{"sal@example.com": kSysAdmin, "aud@example.com": kAuditor,
		"sup@example.com": kSupport, "eng@example.com": kEngineer, "kim@example.com": kSupport, "gus@example.com": kEngineer} {
		w.person(t, "", email, role)
	}
	// A staff member without a second factor yet; a second administrator
	// approves the invitation (IAM-10).
	inv, err := w.identity.Invite(ctx, admin, "", rempart.InvitationCreate{Email: "new@example.com", Role: kSysAdmin})
	must(err)
	second := rempart.Caller{Principal: rempart.Principal{ID: "sa_second", Role: rempart.RoleSystemAdmin}}
	inv, err = w.identity.ApproveInvitation(ctx, second, "", inv.ID, rempart.RoleChangeDecision{})
	must(err)
	_, err = w.identity.AcceptInvitation(ctx, rempart.Caller{}, rempart.InvitationAccept{Token: inv.Token, Name: "New Admin", Password: consolePassword})
	must(err)
	people := map[string]rempart.User{}
	for email, role := range map[string]string{"ann@anvil.example": rempart.RoleAdmin, "wes@anvil.example": rempart.RoleWriter,
		"rea@anvil.example": rempart.RoleReader, "sue@anvil.example": rempart.RoleReader} {
		people[email] = w.person(t, ta.ID, email, role)
	}
	people["bob@bakery.example"] = w.person(t, tb.ID, "bob@bakery.example", rempart.RoleAdmin)

	// Sessions: the stale one first, then eleven minutes later the others,
	// whose second factor is fresh. The clock then stands still.
	w.clock.Advance(30 * time.Second) // a TOTP code works once per step
	stale := w.session(t, "sal@example.com")
	w.clock.Advance(11 * time.Minute)
	w.callers = []authzCaller{{kind: kAnon}}
	for _, p := range []struct{ kind, email, tenant string }{
		{kSysAdmin, "ada@example.com", ""}, {kStale, "sal@example.com", ""}, {kAuditor, "aud@example.com", ""},
		{kSupport, "sup@example.com", ""}, {kEngineer, "eng@example.com", ""},
		{kAdminA, "ann@anvil.example", ta.ID}, {kWriterA, "wes@anvil.example", ta.ID}, {kReaderA, "rea@anvil.example", ta.ID},
		{kAdminB, "bob@bakery.example", tb.ID}, {kSuspend, "sue@anvil.example", ta.ID}, {kEnrol, "new@example.com", ""},
	} {
		tok := stale
		if p.kind != kStale {
			tok = w.session(t, p.email)
		}
		c := authzCaller{kind: p.kind, token: tok, tenant: p.tenant}
		_, _, page := w.do(t, c, "GET", "/account/security", nil)
		m := csrfInPage.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("%s: no CSRF token on the security page", p.kind)
		}
		c.csrf = m[1]
		w.callers = append(w.callers, c)
	}
	// The suspended person's session and form token were valid until now.
	must(w.identity.SetUserStatus(ctx, admin, ta.ID, people["sue@anvil.example"].ID, rempart.UserSuspended))
	w.ids["{SUE}"] = people["sue@anvil.example"].ID
	w.ids["{READER}"] = people["rea@anvil.example"].ID

	// Objects of tenant A, and of the staff, that routes name.
	sa, err := w.identity.CreateServiceAccount(ctx, admin, ta.ID, rempart.ServiceAccountCreate{Name: "anvil-crm-" + suffix, Role: rempart.RoleReader})
	must(err)
	key, err := w.identity.CreateAPIKey(ctx, admin, ta.ID, sa.ID, rempart.APIKeyCreate{})
	must(err)
	sb, err := w.identity.CreateServiceAccount(ctx, admin, tb.ID, rempart.ServiceAccountCreate{Name: "bakery-till-" + suffix, Role: rempart.RoleReader})
	must(err)
	w.ids["{SA}"], w.ids["{KEY}"] = sa.ID, key.ID
	invA, err := w.identity.Invite(ctx, admin, ta.ID, rempart.InvitationCreate{Email: "invitee-" + suffix + "@anvil.example", Role: rempart.RoleReader})
	must(err)
	invB, err := w.identity.Invite(ctx, admin, tb.ID, rempart.InvitationCreate{Email: "invitee-" + suffix + "@bakery.example", Role: rempart.RoleReader})
	must(err)
	invS, err := w.identity.Invite(ctx, admin, "", rempart.InvitationCreate{Email: "hire-" + suffix + "@example.com", Role: kAuditor})
	must(err)
	w.ids["{INV}"], w.ids["{SINV}"] = invA.ID, invS.ID
	users, err := w.identity.Users(ctx, admin, "")
	must(err)
	for _, u := range users {
		switch u.Email {
		case "kim@example.com":
			w.ids["{KIM}"] = u.ID
		case "gus@example.com":
			w.ids["{GUS}"] = u.ID
		}
	}
	// kim's second factor and session: nobody else's to confirm, delete or
	// end.
	w.kim = w.session(t, "kim@example.com")
	kim, err := w.identity.AuthenticateSession(ctx, rempart.Caller{}, w.kim, rempart.SessionConsole)
	must(err)
	fs, err := w.identity.Factors(ctx, kim)
	must(err)
	w.ids["{FACTOR}"], w.ids["{SESSION}"] = fs.Factors[0].ID, kim.CredentialID
	kimKey, err := w.identity.CreatePersonalKey(ctx, kim, rempart.PersonalKeyCreate{Name: "kim's script", ExpiresInDays: 30})
	must(err)
	w.ids["{KIMKEY}"] = kimKey.ID

	sup := w.callerOf(t, kSupport)
	g, err := w.grants.Request(ctx, sup, rempart.GrantCreate{TenantID: ta.ID, Reason: "ticket 4711: check the import", Scope: rempart.GrantRead, DurationMinutes: 60})
	must(err)
	w.ids["{GRANT}"] = g.ID
	rc, err := w.reviews.RequestRoleChange(ctx, admin, ta.ID, rempart.RoleChangeCreate{PrincipalID: sa.ID, Role: rempart.RoleWriter, Reason: "imports records now"})
	must(err)
	src, err := w.reviews.RequestRoleChange(ctx, admin, "", rempart.RoleChangeCreate{PrincipalID: w.ids["{KIM}"], Role: kAuditor, Reason: "moves to compliance"})
	must(err)
	w.ids["{RC}"], w.ids["{SRC}"] = rc.ID, src.ID
	cp, err := w.reviews.CreateCampaign(ctx, admin, ta.ID, rempart.CampaignCreate{Name: "Anvil review " + suffix})
	must(err)
	scp, err := w.reviews.CreateCampaign(ctx, admin, "", rempart.CampaignCreate{Name: "Staff review " + suffix})
	must(err)
	w.ids["{CAMPAIGN}"], w.ids["{SCAMPAIGN}"] = cp.ID, scp.ID

	// What only each tenant's people (and the staff who run it) may see.
	for _, email := range []string{"ann@anvil.example", "wes@anvil.example", "rea@anvil.example", "sue@anvil.example"} {
		w.secrets[ta.ID] = append(w.secrets[ta.ID], email, people[email].ID)
	}
	w.secrets[ta.ID] = append(w.secrets[ta.ID], ta.ID, ta.Name, sa.ID, sa.Name, key.ID, invA.ID, "invitee-"+suffix+"@anvil.example", g.ID, rc.ID, cp.ID, cp.Name)
	w.secrets[tb.ID] = append(w.secrets[tb.ID], tb.ID, tb.Name, sb.ID, sb.Name, invB.ID, "invitee-"+suffix+"@bakery.example",
		"bob@bakery.example", people["bob@bakery.example"].ID)
	return w
}

// session signs a person in as the console does (password, then the code
// of their app if they have one) and returns the session token.
func (w *authzWorld) session(t *testing.T, email string) string {
	t.Helper()
	ctx := context.Background()
	s, err := web.IdentitySessions(w.identity).SignIn(ctx, web.SignIn{Email: email, Password: consolePassword})
	if err != nil {
		t.Fatalf("sign in %s: %v", email, err)
	}
	if s.Challenge != "" {
		s, err = web.IdentityMFA(w.identity).CompleteSignIn(ctx, s.Challenge, totp.Code(w.totp[email], w.clock.Now()), web.RequestInfo{})
		if err != nil {
			t.Fatalf("second factor of %s: %v", email, err)
		}
	}
	return s.Token
}

func (w *authzWorld) caller(kind string) authzCaller {
	for _, c := range w.callers {
		if c.kind == kind {
			return c
		}
	}
	panic("no caller " + kind)
}

// callerOf is the domain caller behind a kind's session.
func (w *authzWorld) callerOf(t *testing.T, kind string) rempart.Caller {
	t.Helper()
	c, err := w.identity.AuthenticateSession(context.Background(), rempart.Caller{}, w.caller(kind).token, rempart.SessionConsole)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// do sends one request as c, without following redirects, and returns
// the status, the Location and the body.
func (w *authzWorld) do(t *testing.T, c authzCaller, method, path string, form url.Values) (int, string, string) {
	t.Helper()
	resp, body := w.send(t, c, method, path, form)
	return resp.StatusCode, resp.Header.Get("Location"), body
}

func (w *authzWorld) send(t *testing.T, c authzCaller, method, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if method == http.MethodPost {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		if c.csrf != "" {
			f.Set("csrf", c.csrf)
		}
		body = strings.NewReader(f.Encode())
	}
	req, err := http.NewRequest(method, w.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.token != "" {
		req.AddCookie(&http.Cookie{Name: "__Host-rempart-session", Value: c.token})
	}
	cl := *w.srv.Client()
	cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// Outcomes a cell expects, besides plain statuses ("200", "400" …).
const (
	oSignIn = "sign-in"     // 303 to /sign-in
	oEnrol  = "enrol"       // 303 to /account/security: enrol a second factor first
	oStepUp = "step-up"     // 403 page asking for a code
	oDone   = "303"         // 303 elsewhere: the change was made
	oDenied = "403"         // the 403 page
	oGone   = "404"         // the 404 page
	oPage   = "200"         // the page
	oOwnKey = "303 own key" // 303 to the caller's own tenant's keys
)

// outcome names a response the way the table does.
func outcome(status int, loc, body string, c authzCaller) string {
	switch {
	case status == http.StatusSeeOther && strings.HasPrefix(loc, "/sign-in"):
		return oSignIn
	case status == http.StatusSeeOther && loc == "/account/security":
		return oEnrol
	case status == http.StatusSeeOther && c.tenant != "" && loc == "/tenants/"+c.tenant+"/keys":
		return oOwnKey
	case status == http.StatusForbidden && strings.Contains(body, "<h1>Confirm it is you</h1>"):
		return oStepUp
	}
	return strconv.Itoa(status)
}

var (
	sysAdmins  = []string{kSysAdmin, kStale}
	staff      = []string{kSysAdmin, kStale, kAuditor, kSupport, kEngineer}
	signedIn   = []string{kSysAdmin, kStale, kAuditor, kSupport, kEngineer, kAdminA, kWriterA, kReaderA, kAdminB}
	tenantA    = []string{kAdminA, kWriterA, kReaderA}
	adminsOfA  = []string{kSysAdmin, kStale, kAdminA}
	everyoneIn = append(slices.Clone(signedIn), kEnrol)
)

// authzRow is one route of routes.go, as the table exercises it.
type authzRow struct {
	pattern string // exactly as routes.go registers it
	path    string // with placeholders
	form    url.Values
	// allow are the caller kinds that pass, with ok their outcome; a caller
	// of tenant B on a route of tenant A gets 404, anyone else 403.
	allow []string
	ok    string
	// stepUp: a change that needs a second factor proven recently.
	stepUp bool
	// enrol: an enrolment-only session reaches the route (the security
	// pages); other routes send it to enrol.
	enrol string
	// public: no session needed; then want holds every caller's outcome.
	public bool
	// want overrides the outcome of some kinds.
	want map[string]string
	// fresh, when set, gives an allowed caller new objects to change, so
	// that a change made by one cell does not alter the next.
	fresh func(t *testing.T, w *authzWorld, kind string) map[string]string
}

func (r authzRow) expect(c authzCaller) string {
	if o, ok := r.want[c.kind]; ok {
		return o
	}
	switch {
	case r.public:
		panic("public row without an outcome for " + c.kind)
	case c.kind == kAnon || c.kind == kSuspend:
		return oSignIn
	case c.kind == kEnrol:
		if r.enrol != "" {
			return r.enrol
		}
		return oEnrol
	case slices.Contains(r.allow, c.kind):
		if r.stepUp && c.kind == kStale {
			return oStepUp
		}
		return r.ok
	case strings.Contains(r.path, "{A}") && c.kind == kAdminB:
		return oGone
	}
	return oDenied
}

// noFactor: people without a second factor (tenant users here) cannot
// prove one recently.
func noFactor(o string) map[string]string {
	return map[string]string{kAdminA: o, kWriterA: o, kReaderA: o, kAdminB: o}
}

// othersGrant: staff who may not see every grant do not find another's.
var othersGrant = map[string]string{kEngineer: oGone}

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// all gives every caller kind the same outcome.
func all(o string) map[string]string {
	m := map[string]string{}
	for _, k := range []string{kAnon, kSysAdmin, kStale, kAuditor, kSupport, kEngineer, kAdminA, kWriterA, kReaderA, kAdminB, kSuspend, kEnrol} {
		m[k] = o
	}
	return m
}

func with(m map[string]string, kv ...string) map[string]string {
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func authzRows() []authzRow {
	const (
		t  = "/tenants/{A}"
		sa = t + "/service-accounts/{SA}"
	)
	var rows []authzRow
	add := func(r ...authzRow) { rows = append(rows, r...) }
	add(
		authzRow{pattern: "GET /assets/", path: "/assets/console.css", public: true, want: all(oPage)},
		authzRow{pattern: "GET /sign-in", path: "/sign-in", public: true, want: with(all(oDone), kAnon, oPage, kSuspend, oPage)},
		authzRow{pattern: "POST /sign-in", path: "/sign-in", public: true, form: form("email", "ann@anvil.example", "password", consolePassword), want: all(oDenied)},
		authzRow{pattern: "POST /sign-in/code", path: "/sign-in/code", public: true, form: form("challenge", "x", "code", "123456"), want: all(oDenied)},
		authzRow{pattern: "POST /sign-in/webauthn", path: "/sign-in/webauthn", public: true, form: form("challenge", "x", "response", "{}"), want: all(oDenied)},
		authzRow{pattern: "POST /sso/start", path: "/sso/start", public: true, form: form("email", "ann@anvil.example"), want: all(oGone)},
		authzRow{pattern: "GET /sso/callback", path: "/sso/callback?state=x&code=y", public: true, want: all(oGone)},
		authzRow{pattern: "POST /sso/saml/acs", path: "/sso/saml/acs", public: true, form: form("SAMLResponse", "x"), want: all(oGone)},
		authzRow{pattern: "GET /sso/saml/metadata", path: "/sso/saml/metadata", public: true, want: all(oGone)},
		authzRow{pattern: "GET /join", path: "/join", public: true, want: all(oPage)},
		authzRow{pattern: "POST /join", path: "/join", public: true, form: form("token", "ri_x.y", "name", "X", "password", consolePassword, "confirm", consolePassword), want: all(oDenied)},
		authzRow{pattern: "/", path: "/nowhere", public: true, want: all(oGone)},

		authzRow{pattern: "GET /{$}", path: "/", allow: signedIn, ok: oPage},
		authzRow{pattern: "GET /account/security", path: "/account/security", allow: signedIn, ok: oPage, enrol: oPage},
		authzRow{pattern: "POST /account/security/totp", path: "/account/security/totp", form: form("name", "spare phone"), allow: signedIn, ok: oPage, enrol: oPage, stepUp: true},
		authzRow{pattern: "POST /account/security/totp/{factor}/confirm", path: "/account/security/totp/{FACTOR}/confirm", form: form("code", "123456"), allow: signedIn, ok: oGone, enrol: oGone},
		authzRow{pattern: "POST /account/security/webauthn", path: "/account/security/webauthn", form: form("name", "key"), allow: signedIn, ok: "503", enrol: "503"},
		authzRow{pattern: "POST /account/security/webauthn/finish", path: "/account/security/webauthn/finish", form: form("state", "x"), allow: signedIn, ok: "400", enrol: "400"},
		authzRow{pattern: "POST /account/security/factors/{factor}/delete", path: "/account/security/factors/{FACTOR}/delete", allow: signedIn, ok: oGone, enrol: oEnrol,
			stepUp: true, want: noFactor(oStepUp)},
		authzRow{pattern: "POST /account/security/recovery-codes", path: "/account/security/recovery-codes", allow: signedIn, ok: oPage, stepUp: true, enrol: oEnrol,
			want: noFactor(oStepUp)},
		authzRow{pattern: "POST /account/security/tenant-policy", path: "/account/security/tenant-policy", form: form("required", "false"), allow: []string{kAdminA, kAdminB}, ok: oDone,
			// Staff have no tenant whose policy to set.
			enrol: oGone, want: map[string]string{kSysAdmin: oGone, kStale: oGone, kAuditor: oGone, kSupport: oGone, kEngineer: oGone}},
		authzRow{pattern: "POST /mfa/verify", path: "/mfa/verify", form: form("code", "000000", "next", "/"), allow: signedIn, ok: "401"},
		authzRow{pattern: "POST /mfa/verify/webauthn", path: "/mfa/verify/webauthn", form: form("state", "x", "response", "{}", "next", "/"), allow: signedIn, ok: "503"},

		authzRow{pattern: "GET /tenants", path: "/tenants", allow: sysAdmins, ok: oPage},
		authzRow{pattern: "POST /tenants", path: "/tenants", form: form("name", "New Co {N}"), allow: sysAdmins, ok: oDone},
		authzRow{pattern: "POST /tenants/{tenant}/suspend", path: t + "/suspend", allow: sysAdmins, ok: oDone, fresh: freshTenant},
		authzRow{pattern: "POST /tenants/{tenant}/resume", path: t + "/resume", allow: sysAdmins, ok: oDone, fresh: freshTenant},
		authzRow{pattern: "GET /tenants/{tenant}/delete", path: t + "/delete", allow: sysAdmins, ok: oPage, want: map[string]string{kAdminB: oDenied}},
		authzRow{pattern: "POST /tenants/{tenant}/delete", path: t + "/delete", form: form("confirm", "{NAME}"), allow: sysAdmins, ok: oDone, fresh: freshTenant,
			want: map[string]string{kAdminB: oDenied}},

		authzRow{pattern: "GET /tenants/{tenant}/service-accounts", path: t + "/service-accounts", allow: adminsOfA, ok: oPage},
		authzRow{pattern: "POST /tenants/{tenant}/service-accounts", path: t + "/service-accounts", form: form("name", "new-account-{N}", "role", "reader"), allow: adminsOfA, ok: oDone},
		authzRow{pattern: "GET /tenants/{tenant}/service-accounts/{account}", path: sa, allow: adminsOfA, ok: oPage},
		authzRow{pattern: "POST /tenants/{tenant}/service-accounts/{account}/keys", path: sa + "/keys", form: form("expires_in_days", "7"), allow: adminsOfA, ok: "201"},
		authzRow{pattern: "POST /tenants/{tenant}/service-accounts/{account}/keys/{key}/revoke", path: sa + "/keys/{KEY}/revoke", allow: adminsOfA, ok: oDone, fresh: freshKey},

		authzRow{pattern: "GET /audit", path: "/audit", allow: []string{kSysAdmin, kStale, kAuditor, kAdminA, kAdminB}, ok: oPage},
		authzRow{pattern: "GET /keys", path: "/keys", allow: sysAdmins, ok: oPage, want: map[string]string{kAdminA: oOwnKey, kWriterA: oOwnKey, kReaderA: oOwnKey, kAdminB: oOwnKey}},
		authzRow{pattern: "POST /keys/root/rotate", path: "/keys/root/rotate", allow: sysAdmins, ok: oDone, stepUp: true},
		authzRow{pattern: "GET /tenants/{tenant}/keys", path: t + "/keys", allow: adminsOfA, ok: oPage},
		authzRow{pattern: "POST /tenants/{tenant}/keys/rotate", path: t + "/keys/rotate", allow: adminsOfA, ok: oDone},
		// This deployment takes no tenant's own keys: an authorised setting is refused as invalid, a removal finds none.
		authzRow{pattern: "POST /tenants/{tenant}/keys/customer", path: t + "/keys/customer", form: form("uri", "pkcs11:token=acme;object=kek", "understood", "yes"), allow: adminsOfA, ok: "400"},
		authzRow{pattern: "POST /tenants/{tenant}/keys/customer/delete", path: t + "/keys/customer/delete", allow: adminsOfA, ok: oGone},
		authzRow{pattern: "GET /tenants/{tenant}/retention", path: t + "/retention", allow: adminsOfA, ok: oPage},
		authzRow{pattern: "POST /tenants/{tenant}/retention/default", path: t + "/retention/default", form: form("restorable_days", "30"), allow: adminsOfA, ok: oDone},
		authzRow{pattern: "POST /tenants/{tenant}/retention/default/delete", path: t + "/retention/default/delete", allow: adminsOfA, ok: oDone, fresh: freshRetention},
		authzRow{pattern: "POST /tenants/{tenant}/retention/rules", path: t + "/retention/rules", form: form("collection", "calls", "restorable_days", "30"), allow: adminsOfA, ok: oDone},
		authzRow{pattern: "POST /tenants/{tenant}/retention/rules/{collection}/delete", path: t + "/retention/rules/calls/delete", allow: adminsOfA, ok: oDone, fresh: freshRetention},

		authzRow{pattern: "GET /backups", path: "/backups", allow: sysAdmins, ok: oPage},
		authzRow{pattern: "POST /backups", path: "/backups", allow: sysAdmins, ok: oDone},
		authzRow{pattern: "POST /backups/{backup}/verify", path: "/backups/bk_0000000000/verify", allow: sysAdmins, ok: oGone},
		authzRow{pattern: "POST /restore-tests", path: "/restore-tests", allow: sysAdmins, ok: oDone},
		authzRow{pattern: "GET /jobs", path: "/jobs", allow: []string{kSysAdmin, kStale, kAuditor}, ok: oPage},

		authzRow{pattern: "GET /grants", path: "/grants", allow: staff, ok: oPage},
		authzRow{pattern: "POST /grants", path: "/grants", form: form("tenant_id", "{A}", "reason", "ticket 4712: a customer asked", "scope", "read", "duration_minutes", "60"),
			allow: []string{kSupport, kEngineer}, ok: oDone},
		authzRow{pattern: "POST /grants/{grant}/approve", path: "/grants/{GRANT}/approve", allow: sysAdmins, ok: oDone, stepUp: true, fresh: freshGrant, want: othersGrant},
		authzRow{pattern: "POST /grants/{grant}/deny", path: "/grants/{GRANT}/deny", allow: sysAdmins, ok: oDone, fresh: freshGrant, want: othersGrant},
		authzRow{pattern: "POST /grants/{grant}/revoke", path: "/grants/{GRANT}/revoke", allow: []string{kSysAdmin, kStale, kSupport}, ok: oDone, fresh: freshGrant, want: othersGrant},
		authzRow{pattern: "GET /tenants/{tenant}/grants", path: t + "/grants", allow: []string{kAdminA}, ok: oPage},
		authzRow{pattern: "GET /tenants/{tenant}/grants/{grant}", path: t + "/grants/{GRANT}", allow: []string{kAdminA}, ok: oPage},
		authzRow{pattern: "POST /tenants/{tenant}/grants/{grant}/approve", path: t + "/grants/{GRANT}/approve", allow: []string{kAdminA}, ok: "409"},
		authzRow{pattern: "POST /tenants/{tenant}/grants/{grant}/deny", path: t + "/grants/{GRANT}/deny", allow: []string{kAdminA}, ok: oDone, fresh: freshGrant},
		authzRow{pattern: "POST /tenants/{tenant}/grants/{grant}/revoke", path: t + "/grants/{GRANT}/revoke", allow: []string{kAdminA}, ok: oDone, fresh: freshGrant},
		authzRow{pattern: "POST /tenants/{tenant}/grant-settings", path: t + "/grant-settings", allow: []string{kAdminA}, ok: oDone},
	)
	for _, p := range []struct{ base, pattern, rc, campaign, principal string }{
		{"/staff", "/staff", "{SRC}", "{SCAMPAIGN}", "{KIM}"},
		{t, "/tenants/{tenant}", "{RC}", "{CAMPAIGN}", "{READER}"},
	} {
		who, stepUp := adminsOfA, false
		if p.base == "/staff" {
			who, stepUp = sysAdmins, true
		}
		target := "{SA}"
		if p.base == "/staff" {
			target = "{GUS}"
		}
		add(
			authzRow{pattern: "GET " + p.pattern + "/role-changes", path: p.base + "/role-changes", allow: who, ok: oPage},
			authzRow{pattern: "POST " + p.pattern + "/role-changes", path: p.base + "/role-changes", form: form("principal_id", target, "role", map[bool]string{true: kAuditor, false: rempart.RoleAdmin}[p.base == "/staff"], "reason", "takes over the audits"),
				allow: who, ok: oDone, stepUp: stepUp},
			authzRow{pattern: "POST " + p.pattern + "/role-changes/{change}/approve", path: p.base + "/role-changes/" + p.rc + "/approve", allow: who, ok: oDone, stepUp: stepUp, fresh: freshRoleChange},
			authzRow{pattern: "POST " + p.pattern + "/role-changes/{change}/reject", path: p.base + "/role-changes/" + p.rc + "/reject", allow: who, ok: oDone, stepUp: stepUp, fresh: freshRoleChange},
			authzRow{pattern: "GET " + p.pattern + "/access-reviews", path: p.base + "/access-reviews", allow: who, ok: oPage},
			authzRow{pattern: "POST " + p.pattern + "/access-reviews", path: p.base + "/access-reviews", form: form("name", "Ad hoc review", "due_in_days", "7"), allow: who, ok: oDone},
			authzRow{pattern: "GET " + p.pattern + "/access-reviews/{campaign}", path: p.base + "/access-reviews/" + p.campaign, allow: who, ok: oPage},
			authzRow{pattern: "POST " + p.pattern + "/access-reviews/{campaign}/items/{principal}", path: p.base + "/access-reviews/" + p.campaign + "/items/" + p.principal,
				form: form("decision", "keep", "note", "still needed"), allow: who, ok: oDone, stepUp: stepUp, fresh: freshCampaign},
			authzRow{pattern: "GET " + p.pattern + "/access-reviews/{campaign}/export", path: p.base + "/access-reviews/" + p.campaign + "/export?format=json", allow: who, ok: "409"},
		)
	}
	for _, p := range []struct{ base, pattern, inv, pending, user string }{
		{t + "/people", "/tenants/{tenant}/people", "{INV}", "{PINV}", "{SUE}"},
		{"/staff", "/staff", "{SINV}", "{SPINV}", "{GUS}"},
	} {
		who, stepUp := adminsOfA, false
		// A reader's invitation link is shown at once; every staff role is
		// privileged, so a staff invitation waits for a second person.
		role, invited := rempart.RoleReader, "201"
		if p.base == "/staff" {
			who, stepUp, role, invited = sysAdmins, true, kAuditor, oDone
		}
		add(
			authzRow{pattern: "GET " + p.pattern, path: p.base, allow: who, ok: oPage},
			authzRow{pattern: "POST " + p.pattern + "/invitations", path: p.base + "/invitations", form: form("email", "someone@new.example", "role", role), allow: who, ok: invited, stepUp: stepUp},
			authzRow{pattern: "POST " + p.pattern + "/invitations/{invitation}/approve", path: p.base + "/invitations/" + p.pending + "/approve", allow: who, ok: oPage, stepUp: stepUp, fresh: freshPendingInvitation},
			authzRow{pattern: "POST " + p.pattern + "/invitations/{invitation}/reject", path: p.base + "/invitations/" + p.pending + "/reject", allow: who, ok: oDone, stepUp: stepUp, fresh: freshPendingInvitation},
			authzRow{pattern: "POST " + p.pattern + "/invitations/{invitation}/withdraw", path: p.base + "/invitations/" + p.inv + "/withdraw", allow: who, ok: oDone, stepUp: stepUp, fresh: freshInvitation},
			authzRow{pattern: "POST " + p.pattern + "/users/{user}/suspend", path: p.base + "/users/" + p.user + "/suspend", allow: who, ok: oDone, stepUp: stepUp},
			authzRow{pattern: "POST " + p.pattern + "/users/{user}/reactivate", path: p.base + "/users/" + p.user + "/reactivate", allow: who, ok: oDone, stepUp: stepUp},
			authzRow{pattern: "GET " + p.pattern + "/users/{user}/revoke-access", path: p.base + "/users/" + p.user + "/revoke-access", allow: who, ok: oPage},
			authzRow{pattern: "POST " + p.pattern + "/users/{user}/revoke-access", path: p.base + "/users/" + p.user + "/revoke-access",
				form: form("kind", "offboard", "reason", "left the company on Friday"), allow: who, ok: oPage, stepUp: stepUp},
		)
	}
	add(
		authzRow{pattern: "GET /me", path: "/me", allow: signedIn, ok: oPage},
		authzRow{pattern: "POST /me/password", path: "/me/password", form: form("current", "wrong", "new", "Another-h0rse-battery", "confirm", "Another-h0rse-batterx"), allow: signedIn, ok: "400"},
		authzRow{pattern: "POST /me/sessions/{session}/revoke", path: "/me/sessions/{SESSION}/revoke", allow: signedIn, ok: oGone},
		authzRow{pattern: "POST /me/sessions/revoke-others", path: "/me/sessions/revoke-others", allow: signedIn, ok: oDone},
		// A personal key needs a fresh second factor from whoever has one;
		// nobody but kim finds kim's key.
		authzRow{pattern: "POST /me/api-keys", path: "/me/api-keys", form: form("name", "script {N}", "expires_in_days", "7"), allow: signedIn, ok: "201", stepUp: true},
		authzRow{pattern: "POST /me/api-keys/{key}/revoke", path: "/me/api-keys/{KIMKEY}/revoke", allow: signedIn, ok: oGone},
	)
	for _, p := range []struct{ base, pattern string }{{"/staff/sso", "/staff/sso"}, {t + "/sso", "/tenants/{tenant}/sso"}} {
		who, stepUp := adminsOfA, false
		if p.base == "/staff/sso" {
			who, stepUp = sysAdmins, true
		}
		add(
			authzRow{pattern: "GET " + p.pattern, path: p.base, allow: who, ok: oPage},
			authzRow{pattern: "POST " + p.pattern, path: p.base, form: form("name", "Okta", "issuer", "https://login.example.com", "client_id", "c", "client_secret", "s",
				"email_domains", "example.com", "default_role", "reader", "enabled", "on"), allow: who, ok: "400", stepUp: stepUp},
			authzRow{pattern: "POST " + p.pattern + "/{provider}/delete", path: p.base + "/sso_0000000000/delete", allow: who, ok: oGone, stepUp: stepUp},
		)
	}
	// Last: it ends every session.
	add(authzRow{pattern: "POST /sign-out", path: "/sign-out", allow: signedIn, ok: oSignIn, enrol: oSignIn})
	return rows
}

// Fresh objects for cells whose change would alter the shared world.

func freshTenant(t *testing.T, w *authzWorld, _ string) map[string]string {
	w.n++
	ten, err := w.vault.CreateTenant(context.Background(), w.admin, "Scratch "+strconv.Itoa(w.n))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.vault.SetTenantStatus(context.Background(), w.admin, ten.ID, rempart.TenantSuspended); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"{A}": ten.ID, "{NAME}": ten.Name}
}

// freshRetention gives tenant A a default retention rule and one for its
// calls, for a cell that deletes one.
func freshRetention(t *testing.T, w *authzWorld, _ string) map[string]string {
	ctx := context.Background()
	set := func(r *rempart.RetentionRuleSet) error { r.RestorableDays = 30; return nil }
	if _, err := w.vault.SetRetentionDefault(ctx, w.admin, w.ids["{A}"], set); err != nil {
		t.Fatal(err)
	}
	if _, err := w.vault.SetRetentionRule(ctx, w.admin, w.ids["{A}"], "calls", set); err != nil {
		t.Fatal(err)
	}
	return nil
}

func freshKey(t *testing.T, w *authzWorld, _ string) map[string]string {
	k, err := w.identity.CreateAPIKey(context.Background(), w.admin, w.ids["{A}"], w.ids["{SA}"], rempart.APIKeyCreate{})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"{KEY}": k.ID}
}

func freshGrant(t *testing.T, w *authzWorld, _ string) map[string]string {
	g, err := w.grants.Request(context.Background(), w.callerOf(t, kSupport), rempart.GrantCreate{TenantID: w.ids["{A}"],
		Reason: "ticket 4713: look at a failed import", Scope: rempart.GrantRead, DurationMinutes: 60})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"{GRANT}": g.ID}
}

// freshRoleChange asks for a change in both scopes (the row uses one), to
// a role the account does not hold yet: an approval applies it.
func freshRoleChange(t *testing.T, w *authzWorld, _ string) map[string]string {
	ctx := context.Background()
	other := func(tenant, principal string, a, b string) string {
		accounts, err := w.reviews.Accounts(ctx, w.admin, tenant)
		if err != nil {
			t.Fatal(err)
		}
		for _, acc := range accounts {
			if acc.Principal.ID == principal && acc.Principal.Role == a {
				return b
			}
		}
		return a
	}
	rc, err := w.reviews.RequestRoleChange(ctx, w.admin, w.ids["{A}"], rempart.RoleChangeCreate{PrincipalID: w.ids["{SA}"],
		Role: other(w.ids["{A}"], w.ids["{SA}"], rempart.RoleWriter, rempart.RoleReader), Reason: "fresh request"})
	if err != nil {
		t.Fatal(err)
	}
	src, err := w.reviews.RequestRoleChange(ctx, w.admin, "", rempart.RoleChangeCreate{PrincipalID: w.ids["{KIM}"],
		Role: other("", w.ids["{KIM}"], kAuditor, kSupport), Reason: "fresh request"})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"{RC}": rc.ID, "{SRC}": src.ID}
}

func freshCampaign(t *testing.T, w *authzWorld, _ string) map[string]string {
	ctx := context.Background()
	cp, err := w.reviews.CreateCampaign(ctx, w.admin, w.ids["{A}"], rempart.CampaignCreate{Name: "Fresh review"})
	if err != nil {
		t.Fatal(err)
	}
	scp, err := w.reviews.CreateCampaign(ctx, w.admin, "", rempart.CampaignCreate{Name: "Fresh staff review"})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"{CAMPAIGN}": cp.ID, "{SCAMPAIGN}": scp.ID}
}

func freshInvitation(t *testing.T, w *authzWorld, _ string) map[string]string {
	w.n++
	a, err := w.identity.Invite(context.Background(), w.admin, w.ids["{A}"], rempart.InvitationCreate{Email: "p" + strconv.Itoa(w.n) + "@anvil.example", Role: rempart.RoleReader})
	if err != nil {
		t.Fatal(err)
	}
	s, err := w.identity.Invite(context.Background(), w.admin, "", rempart.InvitationCreate{Email: "s" + strconv.Itoa(w.n) + "@example.com", Role: kAuditor})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"{INV}": a.ID, "{SINV}": s.ID}
}

// freshPendingInvitation makes, by the bootstrap key, a tenant admin's and
// a staff member's invitation: both privileged, both waiting for a second
// person's approval (IAM-10).
func freshPendingInvitation(t *testing.T, w *authzWorld, _ string) map[string]string {
	w.n++
	a, err := w.identity.Invite(context.Background(), w.admin, w.ids["{A}"], rempart.InvitationCreate{Email: "boss" + strconv.Itoa(w.n) + "@anvil.example", Role: rempart.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	s, err := w.identity.Invite(context.Background(), w.admin, "", rempart.InvitationCreate{Email: "staff" + strconv.Itoa(w.n) + "@example.com", Role: kSupport})
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != rempart.InvitationPendingApproval || s.Status != rempart.InvitationPendingApproval {
		t.Fatalf("privileged invitations: %s and %s, want both pending approval", a.Status, s.Status)
	}
	return map[string]string{"{PINV}": a.ID, "{SPINV}": s.ID}
}

func TestAuthzMatrix(t *testing.T) {
	w := newAuthzWorld(t)
	rows := authzRows()

	// Every route routes.go registers has a row, and every row a route.
	patterns := web.Patterns(web.Config{People: w.identity, SSOAdmin: w.identity, Retention: w.vault})
	for _, p := range patterns {
		if !slices.ContainsFunc(rows, func(r authzRow) bool { return r.pattern == p }) {
			t.Errorf("route %q has no row in the authorisation matrix", p)
		}
	}
	for _, r := range rows {
		if !slices.Contains(patterns, r.pattern) {
			t.Errorf("row %q names no route", r.pattern)
		}
	}

	seen := map[string]int{} // a tenant's own strings on its own people's pages
	for _, r := range rows {
		for _, c := range w.callers {
			want := r.expect(c)
			ids := w.ids
			if r.fresh != nil && slices.Contains(r.allow, c.kind) && want != oStepUp {
				ids = map[string]string{}
				for k, v := range w.ids {
					ids[k] = v
				}
				for k, v := range r.fresh(t, w, c.kind) {
					ids[k] = v
				}
			}
			w.n++
			rep := []string{"{N}", strconv.Itoa(w.n)}
			for k, v := range ids {
				rep = append(rep, k, v)
			}
			subst := strings.NewReplacer(rep...)
			path := subst.Replace(r.path)
			var f url.Values
			if r.form != nil {
				f = url.Values{}
				for k, v := range r.form {
					f.Set(k, subst.Replace(v[0]))
				}
			}
			method, _, _ := strings.Cut(r.pattern, " ")
			if !strings.Contains(r.pattern, " ") {
				method = "GET"
			}
			from, _, err := w.db.AuditTree(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			resp, body := w.send(t, c, method, path, f)
			status, loc := resp.StatusCode, resp.Header.Get("Location")
			got := outcome(status, loc, body, c)
			if got != want {
				t.Errorf("%s %s as %s: got %s (%d %s), want %s: %s", method, path, c.kind, got, status, loc, want, alertOf(body))
			}
			if !r.public && (got == oDenied || got == oGone || got == oStepUp || got == oSignIn && c.token != "" && r.pattern != "POST /sign-out") {
				// Every refusal is in the audit trail (AUD-1).
				if !w.deniedInAudit(t, from, resp.Header.Get("X-Request-Id")) {
					t.Errorf("%s %s as %s: refused (%s) without a denied audit entry", method, path, c.kind, got)
				}
			}
			// No one sees another tenant's names or IDs (TEN-1); a person
			// who is not signed in, or only enrolling, sees no tenant's.
			for tenant, secrets := range w.secrets {
				if c.kind == kSysAdmin || c.kind == kStale || c.kind == kAuditor || c.kind == kSupport || c.kind == kEngineer {
					continue // staff: see the matrix above
				}
				for _, s := range secrets {
					if c.tenant == tenant && c.kind != kSuspend {
						seen[tenant] += strings.Count(body, s)
						continue
					}
					if strings.Contains(body, s) && !strings.Contains(path, s) {
						t.Errorf("%s %s as %s: the page shows %q of tenant %s", method, path, c.kind, s, tenant)
					}
				}
			}
		}
	}
	w.untouched(t)
	// The check above looks for strings the pages do show: to their own
	// tenant's people.
	for tenant := range w.secrets {
		if seen[tenant] < 50 {
			t.Errorf("tenant %s's people saw its names and IDs %d times: the leak check looks for the wrong strings", tenant, seen[tenant])
		}
	}
	// Sign-out ended every session it was asked to.
	for _, c := range w.callers {
		if c.token == "" {
			continue
		}
		if _, err := w.identity.AuthenticateSession(context.Background(), rempart.Caller{}, c.token, rempart.SessionConsole); err == nil {
			t.Errorf("%s: the session still works after signing out", c.kind)
		}
	}
}

// untouched checks that the objects the refused requests aimed at are as
// they were: only fresh objects were changed by those allowed to.
func (w *authzWorld) untouched(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if ten, err := w.vault.Tenant(ctx, w.admin, w.ids["{A}"]); err != nil || ten.Status != rempart.TenantActive {
		t.Errorf("tenant A: %+v, %v; want it active", ten, err)
	}
	keys, err := w.identity.APIKeys(ctx, w.admin, w.ids["{A}"], w.ids["{SA}"])
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.ID == w.ids["{KEY}"] && k.RevokedAt != nil {
			t.Error("tenant A's API key was revoked")
		}
	}
	if g, err := w.grants.Get(ctx, w.admin, w.ids["{GRANT}"]); err != nil || g.Status != rempart.GrantPending {
		t.Errorf("the grant: %+v, %v; want it pending", g, err)
	}
	for tenant, id := range map[string]string{w.ids["{A}"]: w.ids["{INV}"], "": w.ids["{SINV}"]} {
		invs, err := w.identity.Invitations(ctx, w.admin, tenant)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(invs, func(i rempart.Invitation) bool { return i.ID == id && i.RevokedAt == nil && i.AcceptedAt == nil }) {
			t.Errorf("invitation %s is no longer pending", id)
		}
	}
	for tenant, id := range map[string]string{w.ids["{A}"]: w.ids["{RC}"], "": w.ids["{SRC}"]} {
		rcs, err := w.reviews.RoleChanges(ctx, w.admin, tenant)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(rcs, func(rc rempart.RoleChange) bool { return rc.ID == id && rc.Status == rempart.RoleChangePending }) {
			t.Errorf("role change %s is no longer pending", id)
		}
	}
	kim, err := w.identity.AuthenticateSession(ctx, rempart.Caller{}, w.kim, rempart.SessionConsole)
	if err != nil {
		t.Fatalf("kim's session was ended by someone else: %v", err)
	}
	if fs, err := w.identity.Factors(ctx, kim); err != nil || len(fs.Factors) != 1 || fs.Factors[0].ID != w.ids["{FACTOR}"] {
		t.Errorf("kim's second factors: %+v, %v", fs, err)
	}
}

// deniedInAudit reports whether the request left a denied audit entry.
func (w *authzWorld) deniedInAudit(t *testing.T, from uint64, requestID string) bool {
	t.Helper()
	entries, err := w.db.AuditLog(context.Background(), audit.Query{Start: from, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.RequestID == requestID && e.Outcome == rempart.OutcomeDenied {
			return true
		}
	}
	return false
}

var alertRE = regexp.MustCompile(`(?s)role="alert"[^>]*>(.*?)</`)

func alertOf(body string) string {
	if m := alertRE.FindStringSubmatch(body); m != nil {
		return strings.TrimSpace(m[1])
	}
	return ""
}
