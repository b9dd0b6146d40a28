package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/httpsrv"
)

// csp is the Content-Security-Policy of every console response: scripts,
// styles and images from the console itself only, nothing inline, no
// framing, forms posting only back to the console.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'"

const (
	// sessionCookie holds the session token. The __Host- prefix makes the
	// browser refuse it unless it is Secure, host-only and for Path=/.
	sessionCookie = "__Host-rempart-session"
	// signInCookie holds a random value that the sign-in form's CSRF token is
	// derived from, before there is a session.
	signInCookie = "__Host-rempart-signin"
	// csrfField is the hidden form field holding the CSRF token.
	csrfField = "csrf"
	// maxFormBytes bounds a form post.
	maxFormBytes = 64 << 10
)

type ctxKey int

const reqIDKey ctxKey = 0

func requestID(r *http.Request) string {
	id, _ := r.Context().Value(reqIDKey).(string)
	return id
}

// secure sets the security headers of every response, gives the request an
// ID, limits each client address's rate (NET-2), and refuses cross-origin
// state-changing requests before any handler runs.
func (s *server) secure(h http.Handler) http.Handler {
	h = s.cop.Handler(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store")
		id := rempart.NewID("req")
		hd.Set("X-Request-Id", id)
		r = r.WithContext(context.WithValue(r.Context(), reqIDKey, id))
		if ok, after := s.ipLimit.Allow("ip:" + httpsrv.ClientIP(r, s.cfg.TrustedProxies)); !ok {
			s.renderError(w, r, nil, &rempart.Error{Code: rempart.ERATELIMIT, Message: "Too many requests from your address; retry in a moment.", RetryAfter: after})
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		}
		h.ServeHTTP(w, r)
	})
}

// crossOriginDenied answers a state-changing request that another site's
// page made (http.CrossOriginProtection).
func (s *server) crossOriginDenied(w http.ResponseWriter, r *http.Request) {
	s.renderError(w, r, nil, rempart.Errorf(rempart.EFORBIDDEN, "This request came from another site and was refused."))
}

// csrfToken derives the CSRF token of a session (or of a sign-in form's
// cookie value) under the server key. It needs no storage: the server
// recomputes it from the cookie the browser sends, and another site can read
// neither the cookie nor the token.
func (s *server) csrfToken(purpose, secret string) string {
	m := hmac.New(sha256.New, s.csrf)
	m.Write([]byte("rempart console csrf v1\x00" + purpose + "\x00" + secret))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF compares the form's token with the expected one in constant time.
func checkCSRF(r *http.Request, want string) error {
	got := r.PostFormValue(csrfField)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return rempart.Errorf(rempart.EFORBIDDEN, "The form has expired or did not come from this console. Reload the page and try again.")
	}
	return nil
}

// setSession stores the session token in its cookie.
func setSession(w http.ResponseWriter, sess Session) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sess.Token, Path: "/", Expires: sess.ExpiresAt,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// clearCookie removes a cookie.
func clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// signInSecret returns the random value of the sign-in cookie, setting a new
// one when the browser has none.
func signInSecret(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(signInCookie); err == nil && len(c.Value) >= 26 && len(c.Value) <= 64 {
		return c.Value
	}
	v := rempart.RandomSecret(20)
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Value: v, Path: "/", MaxAge: int((12 * time.Hour).Seconds()),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return v
}

// localPath reports whether next is a path on this site to return to after
// signing in: it must start with a single "/", and hold no backslash or
// control character that a browser could read as the start of another host
// ("//evil", "/\evil", "/\t/evil").
func localPath(next string) bool {
	if next == "" || next[0] != '/' || len(next) > 2048 {
		return false
	}
	if len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return false
	}
	return !strings.ContainsFunc(next, func(r rune) bool { return r == '\\' || r < 0x20 || r == 0x7f })
}
