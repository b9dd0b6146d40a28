package web

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/identity"
)

// Single sign-on in the console (IAM-5): the sign-in page's second form
// names the person's email; POST /sso/start finds the provider of its domain
// and sends the browser there; GET /sso/callback (OpenID Connect) or POST
// /sso/saml/acs (SAML 2.0) completes the sign-in. GET /sso/saml/metadata is
// the SAML service provider's metadata, for identity providers.

// ssoCookie holds the browser's binding secret of a sign-in in progress:
// the callback must come back to the browser that started it, which is what
// makes the state useless to anyone else.
const ssoCookie = "__Host-rempart-sso"

// samlCookie holds the binding secret of a sign-in through a SAML identity
// provider. Its answer comes back as a form post from the provider's site,
// which a SameSite=Lax cookie does not follow, so this one is SameSite=None
// (still Secure, HttpOnly, host-only). Sent with another site's post, it
// only lets a response to this browser's own request through.
const samlCookie = "__Host-rempart-saml"

// cspHostRE is a host (and port) that may go into a CSP source as is.
var cspHostRE = regexp.MustCompile(`^([A-Za-z0-9-]+\.)*[A-Za-z0-9-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$`)

// ssoCookieLife bounds a sign-in at the provider.
const ssoCookieLife = 10 * time.Minute

// SSO signs people in through their organisation's OpenID provider.
type SSO interface {
	// Start begins a sign-in for email.
	Start(ctx context.Context, email, next string, in RequestInfo) (SSOStarted, error)
	// Callback completes it; every refusal is EUNAUTHORIZED with one
	// generic message. next is a local path.
	Callback(ctx context.Context, state, code, binding, providerError string, in RequestInfo) (sess Session, next string, err error)
	// SAMLResponse completes a sign-in from a SAML identity provider's
	// posted response, the same way.
	SAMLResponse(ctx context.Context, samlResponse, binding string, in RequestInfo) (sess Session, next string, err error)
}

// SSOStarted is a sign-in begun at a provider.
type SSOStarted struct {
	// URL is where the browser goes, or posts Form when Form is not nil
	// (a SAML request by the HTTP-POST binding).
	URL  string
	Form map[string]string
	// Binding is the secret to keep in an HttpOnly cookie.
	Binding string
	// SAML says the provider answers with a form post from its own site.
	SAML bool
}

// IdentitySSO gives the console single sign-on from the identity service.
func IdentitySSO(id *identity.Service) SSO { return identitySSO{id} }

type identitySSO struct{ id *identity.Service }

func (s identitySSO) Start(ctx context.Context, email, next string, in RequestInfo) (SSOStarted, error) {
	st, err := s.id.StartSSO(ctx, caller(in), email, next)
	return SSOStarted{URL: st.URL, Form: st.Form, Binding: st.Binding, SAML: st.Protocol == rempart.SSOProtocolSAML}, err
}

func (s identitySSO) SAMLResponse(ctx context.Context, samlResponse, binding string, in RequestInfo) (Session, string, error) {
	out, err := s.id.SAMLResponse(ctx, caller(in), samlResponse, binding)
	if err != nil {
		return Session{}, "", err
	}
	return Session{Token: out.Session.Token, ExpiresAt: out.Session.ExpiresAt, Challenge: out.Challenge}, out.ReturnTo, nil
}

func (s identitySSO) Callback(ctx context.Context, state, code, binding, providerError string, in RequestInfo) (Session, string, error) {
	out, err := s.id.SSOCallback(ctx, caller(in), state, code, binding, providerError)
	if err != nil {
		return Session{}, "", err
	}
	return Session{Token: out.Session.Token, ExpiresAt: out.Session.ExpiresAt, Challenge: out.Challenge}, out.ReturnTo, nil
}

type ssoContinuePage struct {
	view
	URL string
	// Fields, when set, are posted to URL by the page's form.
	Fields []ssoField
}

type ssoField struct{ Name, Value string }

// ssoStart checks the sign-in form's CSRF token and sends the browser to
// the provider, through a page that continues there by itself: the
// console's CSP lets forms post only to the console, which a redirect of
// the form post to another site would break.
func (s *server) ssoStart(w http.ResponseWriter, r *http.Request) {
	if s.cfg.SSO == nil {
		s.notFound(w, r)
		return
	}
	if !s.signInFormOK(w, r) {
		return
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	next := postedNext(r)
	if email == "" {
		s.showSignIn(w, r, http.StatusBadRequest, "Enter your email address to sign in with single sign-on.", "", next)
		return
	}
	st, err := s.cfg.SSO.Start(r.Context(), email, next, s.info(r))
	if err != nil {
		s.showSignIn(w, r, s.status(w, r, err), rempart.ErrorMessage(err), email, next)
		return
	}
	u, err := url.Parse(st.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		s.showSignIn(w, r, http.StatusBadGateway, "The sign-in provider is misconfigured.", email, next)
		return
	}
	ck := &http.Cookie{Name: ssoCookie, Value: st.Binding, Path: "/", MaxAge: int(ssoCookieLife.Seconds()),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode}
	if st.SAML {
		ck.Name, ck.SameSite = samlCookie, http.SameSiteNoneMode
	}
	http.SetCookie(w, ck)
	p := ssoContinuePage{view: s.view(r, nil, "Continue to sign in", ""), URL: u.String()}
	if st.Form == nil {
		s.render(w, r, http.StatusOK, "sso-continue", p)
		return
	}
	// A SAML request by the HTTP-POST binding: a form posting to the
	// identity provider, submitted by the console's own script. The CSP of
	// this page alone lets forms post to that one origin too.
	if !cspHostRE.MatchString(u.Host) {
		s.showSignIn(w, r, http.StatusBadGateway, "The sign-in provider is misconfigured.", email, next)
		return
	}
	for _, k := range slices.Sorted(maps.Keys(st.Form)) {
		p.Fields = append(p.Fields, ssoField{k, st.Form[k]})
	}
	w.Header().Set("Content-Security-Policy", strings.Replace(csp, "form-action 'self'", "form-action 'self' "+u.Scheme+"://"+u.Host, 1))
	s.render(w, r, http.StatusOK, "sso-continue-post", p)
}

// ssoCallback completes a sign-in and opens the console session. The
// browser goes on only to a local path; a refusal shows the sign-in page
// with one generic message, the reason being in the audit trail.
func (s *server) ssoCallback(w http.ResponseWriter, r *http.Request) {
	if s.cfg.SSO == nil {
		s.notFound(w, r)
		return
	}
	binding := ""
	if ck, err := r.Cookie(ssoCookie); err == nil {
		binding = ck.Value
	}
	clearCookie(w, ssoCookie)
	q := r.URL.Query()
	sess, next, err := s.cfg.SSO.Callback(r.Context(), q.Get("state"), q.Get("code"), binding, q.Get("error"), s.info(r))
	s.ssoSignedIn(w, r, sess, next, err)
}

// samlACS is the SAML assertion consumer service (HTTP-POST binding): the
// identity provider's page posts the response here, from its own site, so
// the route is exempt from the cross-origin check; what binds the response
// to this browser is the request it answers and the binding cookie. Any
// RelayState is ignored: the path to go on to was kept server-side.
func (s *server) samlACS(w http.ResponseWriter, r *http.Request) {
	if s.cfg.SSO == nil {
		s.notFound(w, r)
		return
	}
	binding := ""
	if ck, err := r.Cookie(samlCookie); err == nil {
		binding = ck.Value
	}
	clearSAMLCookie(w)
	sess, next, err := s.cfg.SSO.SAMLResponse(r.Context(), r.PostFormValue("SAMLResponse"), binding, s.info(r))
	s.ssoSignedIn(w, r, sess, next, err)
}

// clearSAMLCookie removes the SAML binding cookie (with the attributes it
// was set with, so that the browser accepts the removal from a cross-site
// post).
func clearSAMLCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: samlCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteNoneMode})
}

// samlMetadata serves the SAML service provider's metadata document.
func (s *server) samlMetadata(w http.ResponseWriter, r *http.Request) {
	if s.cfg.SAMLMetadata == nil {
		s.notFound(w, r)
		return
	}
	b, err := s.cfg.SAMLMetadata()
	if err != nil {
		s.renderError(w, r, nil, err)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(b)
}

// ssoSignedIn ends a single sign-on: the session, or the second step still
// due, or the sign-in page with the generic refusal.
func (s *server) ssoSignedIn(w http.ResponseWriter, r *http.Request, sess Session, next string, err error) {
	if err != nil {
		s.showSignIn(w, r, s.status(w, r, err), rempart.ErrorMessage(err), "", "")
		return
	}
	if !localPath(next) {
		next = "/"
	}
	if sess.Challenge != "" {
		// A person with a second factor still gives it (IAM-4).
		s.showCode(w, r, http.StatusOK, "", sess.Challenge, next)
		return
	}
	setSession(w, sess)
	clearCookie(w, signInCookie)
	http.Redirect(w, r, next, http.StatusSeeOther)
}
