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
	URL     string
	Binding string
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
	u, err := s.cfg.SSO.OIDC.AuthCodeURL(ctx, OIDCClient{Issuer: p.Issuer, ClientID: p.ClientID, RedirectURL: s.cfg.SSO.RedirectURL},
		state, derive("nonce", binding), derive("pkce", binding))
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
	return SSOStart{URL: u, Binding: binding}, nil
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
	if !s.cfg.SSO.ready() {
		return deny("single sign-on not configured")
	}
	if len(state) > 200 || len(code) > 2048 || len(binding) > 200 || state == "" {
		return deny("malformed callback")
	}
	stateHash := tokenHash("sso state", state)
	l, err := s.store.SSOLogin(ctx, stateHash)
	if rempart.ErrorCode(err) == rempart.ENOTFOUND {
		return deny("unknown state")
	} else if err != nil {
		return SSOSignedIn{}, err
	}
	now := s.clock.Now()
	switch {
	case !equalHash(l.BindingHash, tokenHash("sso binding", binding)):
		return deny("state not started by this browser")
	case l.UsedAt != nil:
		return deny("callback replayed")
	case !now.Before(l.ExpiresAt):
		return deny("sign-in expired")
	}
	if err := s.store.UseSSOLogin(ctx, stateHash, now); err != nil {
		if rempart.ErrorCode(err) == rempart.EUNAUTHORIZED {
			return deny("callback replayed")
		}
		return SSOSignedIn{}, err
	}
	p, err := s.store.SSOProvider(ctx, l.ProviderID)
	if rempart.ErrorCode(err) == rempart.ENOTFOUND {
		return deny("provider removed")
	} else if err != nil {
		return SSOSignedIn{}, err
	}
	e.TenantID, e.Resource = p.TenantID, ssoPath(p.TenantID, p.ID)
	if !p.Enabled {
		return deny("provider disabled")
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
	email, err := normalEmail(id.Email)
	if err != nil {
		return deny("no usable email")
	}
	if id.EmailVerified != nil && !*id.EmailVerified {
		return deny("email not verified")
	}
	if _, domain, _ := strings.Cut(email, "@"); !slices.Contains(p.EmailDomains, domain) {
		return deny("email domain " + domain + " not allowed")
	}
	role := mapRole(p.SSOProvider, id.Claims)
	if role == "" {
		return deny("no mapped role")
	}
	u, err := s.ssoUser(ctx, &e, p, id, email, role, now)
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
func (s *Service) ssoUser(ctx context.Context, e *rempart.AuditEntry, p SSOProviderRow, id OIDCIdentity, email, role string, now time.Time) (rempart.User, error) {
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
