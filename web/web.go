// Package web serves rempart's console: server-rendered HTML pages for
// people, beside the JSON API. It is a transport like httpapi: it turns form
// posts into calls of the domain services, which authorise and audit, and
// renders their answers with html/template. It holds no business rules.
//
// Every response carries a strict Content-Security-Policy (no inline script
// or style), nosniff, no-referrer and frame denial; state-changing requests
// pass http.CrossOriginProtection and a per-session CSRF token. See
// docs/console.md.
//
// The binary mounts the console at "/" on the same listener as the API:
//
//	mux := http.NewServeMux()
//	mux.Handle("/api/", api.Handler())
//	mux.Handle("/", web.New(web.Config{…}))
//
// so that "/api/…" keeps answering problem documents and everything else is
// the console.
package web

import (
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/netip"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/httpsrv"
)

// Config is what the console needs: the domain services and a few settings.
type Config struct {
	Sessions   Sessions
	Tenants    TenantService
	Accounts   AccountService
	Audit      AuditService
	Keys       KeyService
	TenantKeys TenantKeyService
	Retention  RetentionService // retention rules (GOV-5); nil: no retention pages
	Backups    BackupService
	Jobs       JobService
	Grants     GrantService // staff access grants (IAM-7); nil: no grants pages
	Reviews    ReviewService
	// MFA is second factors (IAM-4); without it the security pages are
	// not found.
	MFA MFAService
	// People is people, invitations and one's own account; the people
	// pages are absent when nil.
	People PeopleService
	// SSO, when set, offers single sign-on on the sign-in page (IAM-5).
	SSO SSO
	// SSOAdmin, when set, serves the pages that configure providers, and
	// SSOCallbackURL is the redirect URI they tell admins to register.
	SSOAdmin       SSOProviderService
	SSOCallbackURL string
	// SAMLMetadata, when set, gives the SAML service provider's metadata
	// (served at /sso/saml/metadata); SAMLEntityID and SAMLACSURL are what
	// the configuration pages tell admins to register at an identity
	// provider.
	SAMLMetadata             func() ([]byte, error)
	SAMLEntityID, SAMLACSURL string

	// CSRFKey derives the CSRF token of each session (HMAC-SHA256 of the
	// session token), so that tokens need no storage. Every node of a
	// deployment must share it; 32 random bytes. When empty a random key is
	// made, which is right for a single node: a restart only means that forms
	// open before it must be reloaded.
	CSRFKey []byte
	// TrustedProxies may set X-Forwarded-For (the client IP in audit entries).
	TrustedProxies []netip.Prefix
	// IPRate and IPBurst limit each client address's requests (NET-2);
	// 2000 a second with bursts of 4000 when zero, as the API's.
	IPRate  float64
	IPBurst int
	// Logger records the server's own errors (default: discard).
	Logger *slog.Logger
}

// server is the console.
type server struct {
	cfg   Config
	csrf  []byte
	log   *slog.Logger
	pages *pages
	mux   *routeMux
	cop   *http.CrossOriginProtection
	// ipLimit limits each client address (NET-2).
	ipLimit *httpsrv.RateLimiter
}

// New returns the console's handler, to mount at "/".
func New(cfg Config) http.Handler {
	s := newServer(cfg)
	return s.secure(s.mux)
}

func newServer(cfg Config) *server {
	s := &server{cfg: cfg, csrf: cfg.CSRFKey, log: cfg.Logger}
	if len(s.csrf) == 0 {
		s.csrf = make([]byte, 32)
		rand.Read(s.csrf)
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.IPRate <= 0 || cfg.IPBurst <= 0 {
		cfg.IPRate, cfg.IPBurst = 2000, 4000
	}
	s.ipLimit = httpsrv.NewRateLimiter(cfg.IPRate, cfg.IPBurst, rempart.SystemClock{})
	s.pages = mustParsePages()
	s.cop = http.NewCrossOriginProtection()
	s.cop.SetDenyHandler(http.HandlerFunc(s.crossOriginDenied))
	// A SAML identity provider posts its response from its own site
	// (HTTP-POST binding); see samlACS for what protects that route.
	s.cop.AddInsecureBypassPattern("POST /sso/saml/acs")
	s.mux = &routeMux{ServeMux: http.NewServeMux()}
	s.routes()
	return s
}

// routeMux is the console's ServeMux. It remembers the patterns routes.go
// registers, so that the authorisation test can require a row for each.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

func (m *routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}
