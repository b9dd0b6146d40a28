package identity

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rempart/rempart"
)

// SSOStart is a sign-in through a provider that has begun: the browser goes
// to URL, and keeps Binding in an HttpOnly cookie for the callback.
type SSOStart struct {
	URL string
	// Form, when not nil, is what the browser posts to URL (a SAML
	// request by the HTTP-POST binding) instead of going there.
	Form    map[string]string
	Binding string
	// Protocol is the provider's: a SAML identity provider answers with a
	// cross-site form post, which a SameSite=Lax cookie would not follow.
	Protocol string
}

// SSOSignedIn is the outcome of a callback: the console session, and the
// local path to go to.
type SSOSignedIn struct {
	Session rempart.SessionCreated
	// Challenge, when set instead of Session, is the second step still
	// due: single sign-on does not replace a person's second factor
	// (IAM-4). CompleteSignIn takes it with a code.
	Challenge string
	ReturnTo  string
}

// errSSO is the one answer to the browser for every refused single sign-on:
// the reason is in the audit trail only.
var errSSO = rempart.Errorf(rempart.EUNAUTHORIZED, "Single sign-on failed. Try again, or ask your administrator.")

// LocalPath returns p when it is a path on this site, "/" otherwise, so that
// no sign-in ends on another site (an open redirect).
func LocalPath(p string) string {
	if p == "" || len(p) > 1024 || p[0] != '/' || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n\t\x00") {
		return "/"
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	return p
}

// derive makes a value of the flow from the browser's binding secret.
func derive(purpose, binding string) string {
	h := sha256.Sum256([]byte("rempart sso " + purpose + " v1\x00" + binding))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// StartSSO begins a console sign-in through the provider that claims the
// email's domain (IAM-5): authorisation code with PKCE (S256), a state and a
// nonce. Only hashes are stored; returnTo is kept if it is a local path.
func (s *Service) StartSSO(ctx context.Context, c rempart.Caller, email, returnTo string) (SSOStart, error) {
	e := c.Entry("", "auth.sso.start", "")
	if !s.cfg.SSO.ready() {
		e.Reason = "single sign-on not configured"
		return SSOStart{}, s.deny(ctx, e, errSSO)
	}
	addr, err := normalEmail(email)
	if err != nil {
		e.Reason = "malformed email"
		return SSOStart{}, s.deny(ctx, e, errSSO)
	}
	_, domain, _ := strings.Cut(addr, "@")
	p, err := s.store.SSOProviderByDomain(ctx, domain)
	if err != nil && rempart.ErrorCode(err) != rempart.ENOTFOUND {
		return SSOStart{}, err
	}
	switch {
	case err != nil:
		e.Reason = "no provider for domain " + domain
	case !p.Enabled:
		e.Reason = "provider disabled"
	}
	if err == nil {
		e.TenantID, e.Resource = p.TenantID, ssoPath(p.TenantID, p.ID)
	}
	if e.Reason != "" {
		return SSOStart{}, s.deny(ctx, e, errSSO)
	}
	state, binding := rempart.RandomSecret(32), rempart.RandomSecret(32)
	now := s.clock.Now()
	life := s.cfg.SSO.LoginLifetime
	if life <= 0 {
		life = defaultSSOLogin
	}
	var u string
	var form map[string]string
	if p.Protocol == rempart.SSOProtocolSAML {
		if s.cfg.SSO.SAML == nil {
			e.Reason = "SAML not configured"
			return SSOStart{}, s.deny(ctx, e, errSSO)
		}
		// The authentication request's ID plays the state's part: the
		// response names it (InResponseTo). An XML ID starts with a letter.
		state = "id-" + state
		var req SAMLRequest
		req, err = s.cfg.SSO.SAML.AuthnRequest(p.IDPMetadata, state)
		u, form = req.URL, req.Form
	} else {
		u, err = s.cfg.SSO.OIDC.AuthCodeURL(ctx, OIDCClient{Issuer: p.Issuer, ClientID: p.ClientID, RedirectURL: s.cfg.SSO.RedirectURL},
			state, derive("nonce", binding), derive("pkce", binding))
	}
	if err != nil {
		e.Reason = "provider unreachable"
		return SSOStart{}, s.deny(ctx, e, errSSO)
	}
	l := SSOLoginRow{StateHash: tokenHash("sso state", state), BindingHash: tokenHash("sso binding", binding), ProviderID: p.ID,
		ReturnTo: LocalPath(returnTo), CreatedAt: now, ExpiresAt: now.Add(life)}
	if err := s.store.CreateSSOLogin(ctx, l, now); err != nil {
		return SSOStart{}, err
	}
	if _, err := s.store.Audit(ctx, e); err != nil {
		return SSOStart{}, err
	}
	return SSOStart{URL: u, Form: form, Binding: binding, Protocol: p.Protocol}, nil
}

// SSOCallback completes a sign-in (IAM-5): the state must be one this
// browser started (binding) and unused; the code is redeemed with the PKCE
// verifier; the ID token is verified (signature, issuer, audience, expiry,
// nonce); the email must be in one of the provider's domains and the claims
// must map to a role. The person is found by (issuer, subject), or linked
// by email to an account of the provider's tenant, or provisioned when the
// provider allows it. Every refusal is audited with its reason and answers
// the same errSSO.
func (s *Service) SSOCallback(ctx context.Context, c rempart.Caller, state, code, binding, providerError string) (SSOSignedIn, error) {
	e := c.Entry("", "auth.sso", "")
	deny := func(reason string) (SSOSignedIn, error) {
		e.Reason = reason
		return SSOSignedIn{}, s.deny(ctx, e, errSSO)
	}
	if len(code) > 2048 {
		return deny("malformed callback")
	}
	l, p, refused, err := s.useSSOLogin(ctx, &e, rempart.SSOProtocolOIDC, state, binding)
	if refused != "" || err != nil {
		if refused != "" {
			return deny(refused)
		}
		return SSOSignedIn{}, err
	}
	if providerError != "" {
		return deny("provider answered error " + clip(providerError, 64))
	}
	if code == "" {
		return deny("no code")
	}
	secret, err := s.cfg.SSO.Secrets.Open(ctx, p.SealedSecret, ssoAD(p.ID))
	if err != nil {
		return SSOSignedIn{}, err
	}
	id, err := s.cfg.SSO.OIDC.Exchange(ctx, OIDCClient{Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: string(secret), RedirectURL: s.cfg.SSO.RedirectURL},
		code, derive("pkce", binding))
	if err != nil {
		return deny("code or ID token refused: " + clip(err.Error(), 200))
	}
	if subtle.ConstantTimeCompare([]byte(id.Nonce), []byte(derive("nonce", binding))) != 1 {
		return deny("wrong nonce")
	}
	if id.Issuer != p.Issuer || id.Subject == "" {
		return deny("wrong issuer or no subject")
	}
	if id.EmailVerified != nil && !*id.EmailVerified {
		return deny("email not verified")
	}
	return s.signInSSO(ctx, c, e, p, l, ssoIdentity{Issuer: id.Issuer, Subject: id.Subject, Email: id.Email, Name: id.Name, Claims: id.Claims})
}

// SAMLResponse completes a sign-in through a SAML identity provider
// (IAM-5), from the response the browser posts to the assertion consumer
// service (HTTP-POST binding). The response must answer a request this
// browser started (InResponseTo and the binding), unused, unexpired: an
// unsolicited (IdP-initiated) response is refused, and a response works
// once. It is verified (signature by the identity provider's certificate,
// issuer, destination, recipient, audience, validity times) before the same
// checks and account handling as an OpenID sign-in.
func (s *Service) SAMLResponse(ctx context.Context, c rempart.Caller, samlResponse, binding string) (SSOSignedIn, error) {
	e := c.Entry("", "auth.sso", "")
	deny := func(reason string) (SSOSignedIn, error) {
		e.Reason = reason
		return SSOSignedIn{}, s.deny(ctx, e, errSSO)
	}
	if s.cfg.SSO.SAML == nil {
		return deny("SAML not configured")
	}
	requestID, err := s.cfg.SSO.SAML.InResponseTo(samlResponse)
	switch {
	case err != nil:
		return deny("malformed SAML response")
	case requestID == "":
		return deny("unsolicited SAML response")
	}
	l, p, refused, err := s.useSSOLogin(ctx, &e, rempart.SSOProtocolSAML, requestID, binding)
	if refused != "" || err != nil {
		if refused != "" {
			return deny(refused)
		}
		return SSOSignedIn{}, err
	}
	id, err := s.cfg.SSO.SAML.Verify(p.IDPMetadata, samlResponse, requestID)
	if err != nil {
		return deny("SAML response refused: " + clip(err.Error(), 200))
	}
	if id.Issuer != p.Issuer || id.NameID == "" {
		return deny("wrong issuer or no NameID")
	}
	email := ""
	if p.EmailAttribute != "" {
		if v := id.Attributes[p.EmailAttribute]; len(v) == 1 {
			email = v[0]
		}
	} else if id.NameIDFormat == samlEmailFormat {
		email = id.NameID
	}
	claims := make(map[string]any, len(id.Attributes))
	for k, vs := range id.Attributes {
		list := make([]any, len(vs))
		for i, v := range vs {
			list[i] = v
		}
		claims[k] = list
	}
	return s.signInSSO(ctx, c, e, p, l, ssoIdentity{Issuer: id.Issuer, Subject: id.NameID, Email: email, Claims: claims})
}

// samlEmailFormat is the NameID format whose value is an email address.
const samlEmailFormat = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"

// useSSOLogin finds the sign-in in progress that state (OpenID) or the
// request ID (SAML) names and marks it used: it must be this browser's
// (binding), unused, unexpired, of a provider of that protocol still
// enabled. refused is the audited reason of a refusal.
func (s *Service) useSSOLogin(ctx context.Context, e *rempart.AuditEntry, protocol, state, binding string) (SSOLoginRow, SSOProviderRow, string, error) {
	if !s.cfg.SSO.ready() {
		return SSOLoginRow{}, SSOProviderRow{}, "single sign-on not configured", nil
	}
	if len(state) > 200 || len(binding) > 200 || state == "" {
		return SSOLoginRow{}, SSOProviderRow{}, "malformed callback", nil
	}
	stateHash := tokenHash("sso state", state)
	l, err := s.store.SSOLogin(ctx, stateHash)
	if rempart.ErrorCode(err) == rempart.ENOTFOUND {
		return l, SSOProviderRow{}, "unknown state", nil
	} else if err != nil {
		return l, SSOProviderRow{}, "", err
	}
	now := s.clock.Now()
	switch {
	case !equalHash(l.BindingHash, tokenHash("sso binding", binding)):
		return l, SSOProviderRow{}, "state not started by this browser", nil
	case l.UsedAt != nil:
		return l, SSOProviderRow{}, "callback replayed", nil
	case !now.Before(l.ExpiresAt):
		return l, SSOProviderRow{}, "sign-in expired", nil
	}
	if err := s.store.UseSSOLogin(ctx, stateHash, now); err != nil {
		if rempart.ErrorCode(err) == rempart.EUNAUTHORIZED {
			return l, SSOProviderRow{}, "callback replayed", nil
		}
		return l, SSOProviderRow{}, "", err
	}
	p, err := s.store.SSOProvider(ctx, l.ProviderID)
	if rempart.ErrorCode(err) == rempart.ENOTFOUND {
		return l, p, "provider removed", nil
	} else if err != nil {
		return l, p, "", err
	}
	e.TenantID, e.Resource = p.TenantID, ssoPath(p.TenantID, p.ID)
	switch {
	case !p.Enabled:
		return l, p, "provider disabled", nil
	case p.Protocol != protocol:
		return l, p, "answer of another protocol than the provider's", nil
	}
	return l, p, "", nil
}

// ssoIdentity is who a provider verified: (issuer, subject) links the
// person; the claims (or SAML attributes) give the role.
type ssoIdentity struct {
	Issuer, Subject string
	Email, Name     string
	Claims          map[string]any
}

// signInSSO ends every single sign-on the same way, once the provider's
// answer is verified: the email must be in the provider's domains and the
// claims must map to a role; the person is found, linked or provisioned;
// the session opens through openSSOSession.
func (s *Service) signInSSO(ctx context.Context, c rempart.Caller, e rempart.AuditEntry, p SSOProviderRow, l SSOLoginRow, id ssoIdentity) (SSOSignedIn, error) {
	deny := func(reason string) (SSOSignedIn, error) {
		e.Reason = reason
		return SSOSignedIn{}, s.deny(ctx, e, errSSO)
	}
	email, err := normalEmail(id.Email)
	if err != nil {
		return deny("no usable email")
	}
	if _, domain, _ := strings.Cut(email, "@"); !slices.Contains(p.EmailDomains, domain) {
		return deny("email domain " + domain + " not allowed")
	}
	role := mapRole(p.SSOProvider, id.Claims)
	if role == "" {
		return deny("no mapped role")
	}
	u, err := s.ssoUser(ctx, &e, p, id, email, role, s.clock.Now())
	if err != nil {
		if reason, ok := err.(ssoRefusal); ok {
			return deny(string(reason))
		}
		return SSOSignedIn{}, err
	}
	sess, challenge, err := s.openSSOSession(ctx, c, e, u)
	if err != nil {
		return SSOSignedIn{}, err
	}
	return SSOSignedIn{Session: sess, Challenge: challenge, ReturnTo: LocalPath(l.ReturnTo)}, nil
}

// ssoRefusal is why ssoUser refused someone.
type ssoRefusal string

func (r ssoRefusal) Error() string { return string(r) }

// ssoUser finds, links or provisions the person a verified identity names.
func (s *Service) ssoUser(ctx context.Context, e *rempart.AuditEntry, p SSOProviderRow, id ssoIdentity, email, role string, now time.Time) (rempart.User, error) {
	link := SSOLink{Issuer: id.Issuer, Subject: id.Subject, ProviderID: p.ID, CreatedAt: now}
	u, err := s.store.UserBySSO(ctx, id.Issuer, id.Subject)
	switch {
	case err == nil:
		if u.TenantID != p.TenantID {
			return rempart.User{}, ssoRefusal("identity linked to an account of another tenant")
		}
	case rempart.ErrorCode(err) != rempart.ENOTFOUND:
		return rempart.User{}, err
	default:
		u, err = s.store.UserByEmail(ctx, email)
		switch {
		case err == nil:
			if u.TenantID != p.TenantID {
				return rempart.User{}, ssoRefusal("email belongs to an account of another tenant")
			}
			link.UserID = u.ID
			le := *e
			le.Action, le.PrincipalID, le.Resource, le.Outcome = "sso.link", u.ID, peoplePath(p.TenantID)+"/users/"+u.ID, rempart.OutcomeSuccess
			le.Reason = "linked to " + id.Issuer + " subject " + clip(id.Subject, 100)
			if err := s.store.LinkSSO(ctx, le, link); err != nil {
				if rempart.ErrorCode(err) == rempart.ECONFLICT {
					return rempart.User{}, ssoRefusal("identity linked meanwhile")
				}
				return rempart.User{}, err
			}
		case rempart.ErrorCode(err) != rempart.ENOTFOUND:
			return rempart.User{}, err
		case !p.JITProvisioning:
			return rempart.User{}, ssoRefusal("no account and provisioning off")
		default:
			name := strings.TrimSpace(id.Name)
			if name == "" || utf8.RuneCountInString(name) > 100 || strings.ContainsAny(name, "\r\n\t") {
				name = email
			}
			u = UserRow{User: rempart.User{ID: rempart.NewID("usr"), TenantID: p.TenantID, Email: email, Name: name, Role: role,
				Status: rempart.UserActive, CreatedAt: now}}
			link.UserID = u.ID
			pe := *e
			pe.Action, pe.PrincipalID, pe.Resource, pe.Outcome = "user.provision", u.ID, peoplePath(p.TenantID)+"/users/"+u.ID, rempart.OutcomeSuccess
			pe.Reason = "role " + role + " by " + id.Issuer
			if err := s.store.ProvisionSSOUser(ctx, pe, u, link); err != nil {
				if rempart.ErrorCode(err) == rempart.ECONFLICT {
					return rempart.User{}, ssoRefusal("email or identity taken meanwhile")
				}
				return rempart.User{}, err
			}
		}
	}
	if u.Status != rempart.UserActive {
		return rempart.User{}, ssoRefusal("user " + u.Status)
	}
	return u.User, nil
}

// openSSOSession is the one place a single sign-on opens a console
// session: checks that apply to every such session belong here.
func (s *Service) openSSOSession(ctx context.Context, c rempart.Caller, e rempart.AuditEntry, u rempart.User) (rempart.SessionCreated, string, error) {
	e.PrincipalID, e.TenantID = u.ID, u.TenantID
	// The provider said who this is; a second factor is still due, as
	// after a password (IAM-4).
	return s.consoleSession(ctx, c, e, u, "auth.sso.identified")
}

// mapRole returns the role the claims give under p's mapping, or "".
func mapRole(p rempart.SSOProvider, claims map[string]any) string {
	if p.RoleClaim != "" {
		var values []string
		switch v := claims[p.RoleClaim].(type) {
		case string:
			values = []string{v}
		case []any:
			for _, x := range v {
				if s, ok := x.(string); ok {
					values = append(values, s)
				}
			}
		}
		for _, v := range values {
			if r, ok := p.RoleMap[v]; ok {
				return r
			}
		}
	}
	return p.DefaultRole
}

// clip makes text from outside (a provider's answer, a claim) fit an audit
// reason: valid UTF-8, at most n bytes, never cut inside a character, so
// that a stray byte cannot make the refusal itself fail to be recorded.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
