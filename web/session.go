package web

import (
	"cmp"
	"net/http"
	"net/url"
	"strings"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/httpsrv"
)

// visit is one request of a signed-in person.
type visit struct {
	caller rempart.Caller
	token  string // the session token
	csrf   string // the session's CSRF token
}

// handler is a console handler for a signed-in person. An error it returns
// becomes an error page.
type handler func(w http.ResponseWriter, r *http.Request, v *visit) error

func (s *server) info(r *http.Request) RequestInfo {
	ua := r.UserAgent()
	if len(ua) > 256 {
		ua = ua[:256]
	}
	return RequestInfo{IP: httpsrv.ClientIP(r, s.cfg.TrustedProxies), UserAgent: ua, RequestID: requestID(r)}
}

// authed runs h for the caller of a live session, checking the form's CSRF
// token first on anything but a read. Without a session the browser is sent
// to sign in, and back here afterwards.
func (s *server) authed(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie(sessionCookie)
		if err != nil || ck.Value == "" {
			s.toSignIn(w, r)
			return
		}
		c, err := s.cfg.Sessions.Resume(r.Context(), ck.Value, s.info(r))
		if err != nil {
			if rempart.ErrorCode(err) == rempart.EUNAUTHORIZED {
				clearCookie(w, sessionCookie)
				s.toSignIn(w, r)
				return
			}
			s.renderError(w, r, nil, err)
			return
		}
		v := &visit{caller: c, token: ck.Value, csrf: s.csrfToken("session", ck.Value)}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := checkCSRF(r, v.csrf); err != nil {
				s.renderError(w, r, v, err)
				return
			}
		}
		if c.EnrolOnly && !enrolAllowed(r.URL.Path) {
			// A person who must enrol a second factor does that first (IAM-4).
			http.Redirect(w, r, securityPath, http.StatusSeeOther)
			return
		}
		if err := h(w, r, v); err != nil {
			s.renderError(w, r, v, err)
		}
	})
}

// toSignIn sends the browser to the sign-in page, to come back to the page
// it asked for (only for reads: a form post is not replayed).
func (s *server) toSignIn(w http.ResponseWriter, r *http.Request) {
	to := "/sign-in"
	if r.Method == http.MethodGet && r.URL.Path != "/" && localPath(r.URL.RequestURI()) {
		to += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

type signInPage struct {
	view
	Email string
	Next  string
	SSO   bool // offer single sign-on (sso.go)
}

// signInForm shows the sign-in form; a person already signed in goes on.
func (s *server) signInForm(w http.ResponseWriter, r *http.Request) {
	next := r.URL.Query().Get("next")
	if !localPath(next) {
		next = ""
	}
	if ck, err := r.Cookie(sessionCookie); err == nil && ck.Value != "" {
		_, err := s.cfg.Sessions.Resume(r.Context(), ck.Value, s.info(r))
		if err == nil {
			http.Redirect(w, r, cmp.Or(next, "/"), http.StatusSeeOther)
			return
		}
		// An ended session: forget it, so that each reload of this page
		// does not present (and audit) it again.
		clearCookie(w, sessionCookie)
	}
	s.showSignIn(w, r, http.StatusOK, "", "", next)
}

func (s *server) showSignIn(w http.ResponseWriter, r *http.Request, status int, alert, email, next string) {
	p := signInPage{view: s.view(r, nil, "Sign in", ""), Email: email, Next: next}
	p.CSRF = s.csrfToken("sign-in", signInSecret(w, r))
	p.Alert, p.SSO = alert, s.cfg.SSO != nil
	s.render(w, r, status, "sign-in", p)
}

// signInFormOK checks a post of a sign-in form: its CSRF token, bound to
// the sign-in cookie. On failure it answers with the sign-in page and
// reports false.
func (s *server) signInFormOK(w http.ResponseWriter, r *http.Request) bool {
	ck, err := r.Cookie(signInCookie)
	if err != nil {
		s.showSignIn(w, r, http.StatusForbidden, "The sign-in form has expired. Please try again.", "", "")
		return false
	}
	if err := checkCSRF(r, s.csrfToken("sign-in", ck.Value)); err != nil {
		s.showSignIn(w, r, http.StatusForbidden, rempart.ErrorMessage(err), "", "")
		return false
	}
	return true
}

// postedNext is the form's page to go to after signing in, if it is a
// local path (no open redirect).
func postedNext(r *http.Request) string {
	if next := r.PostFormValue("next"); localPath(next) {
		return next
	}
	return ""
}

// signIn checks the form and opens a session. The password and code are
// never written back into the form.
func (s *server) signIn(w http.ResponseWriter, r *http.Request) {
	if !s.signInFormOK(w, r) {
		return
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	next := postedNext(r)
	if email == "" || r.PostFormValue("password") == "" {
		s.showSignIn(w, r, http.StatusBadRequest, "Enter your email address and password.", email, next)
		return
	}
	sess, err := s.cfg.Sessions.SignIn(r.Context(), SignIn{Email: email, Password: r.PostFormValue("password"),
		Code: strings.TrimSpace(r.PostFormValue("code")), RequestInfo: s.info(r)})
	if err != nil {
		s.showSignIn(w, r, s.status(w, r, err), rempart.ErrorMessage(err), email, next)
		return
	}
	if sess.Challenge != "" {
		s.showCode(w, r, http.StatusOK, "", sess.Challenge, next)
		return
	}
	setSession(w, sess)
	clearCookie(w, signInCookie)
	http.Redirect(w, r, cmp.Or(next, "/"), http.StatusSeeOther)
}

// signOut ends the session.
func (s *server) signOut(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := s.cfg.Sessions.SignOut(r.Context(), v.caller); err != nil {
		return err
	}
	clearCookie(w, sessionCookie)
	http.Redirect(w, r, "/sign-in", http.StatusSeeOther)
	return nil
}
