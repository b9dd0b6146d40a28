// Package httpapi serves the JSON REST API (/api/v1): routes, authentication
// of API keys, rate limits, request validation at the edge (NET-2), RFC 9457
// problem details, and the OpenAPI document. Handlers translate HTTP to the
// domain services and back; they hold no business rules.
package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/grants"
	"github.com/rempart/rempart/httpsrv"
	"github.com/rempart/rempart/identity"
	"github.com/rempart/rempart/jobs"
	"github.com/rempart/rempart/reviews"
	"github.com/rempart/rempart/vault"
)

// AuditService is the audit log as the API offers it (AUD-2, AUD-4).
type AuditService interface {
	TenantEntries(ctx context.Context, c rempart.Caller, tenant string, start uint64, limit int, action, principal string) (rempart.AuditList, error)
	Entries(ctx context.Context, c rempart.Caller, start uint64, limit int, action, principal string) (rempart.AuditList, error)
	Checkpoint(ctx context.Context, c rempart.Caller) (rempart.Checkpoint, error)
	InclusionProof(ctx context.Context, c rempart.Caller, index, size uint64) (rempart.Proof, error)
	ConsistencyProof(ctx context.Context, c rempart.Caller, from, to uint64) (rempart.Proof, error)
	Export(ctx context.Context, c rempart.Caller, w io.Writer) error
}

// BackupService is the backups as the API offers them (BCK-1, BCK-2).
type BackupService interface {
	RequestBackup(ctx context.Context, c rempart.Caller) (rempart.Job, error)
	RequestVerify(ctx context.Context, c rempart.Caller, id string) (rempart.Job, error)
	RequestRestoreTest(ctx context.Context, c rempart.Caller) (rempart.Job, error)
	Records(ctx context.Context, c rempart.Caller) (rempart.BackupList, error)
	History(ctx context.Context, c rempart.Caller, limit int) (rempart.RestoreTestList, error)
}

// JobService is the background jobs as the API offers them.
type JobService interface {
	List(ctx context.Context, c rempart.Caller, q jobs.Query) (rempart.JobList, error)
	Get(ctx context.Context, c rempart.Caller, id string) (rempart.Job, error)
}

// KeyService is the root key's administration (ENC-3).
type KeyService interface {
	Inventory(ctx context.Context, c rempart.Caller) (rempart.KeyInventory, error)
	RotateRoot(ctx context.Context, c rempart.Caller) (rempart.Job, error)
}

// TenantKeyService is a tenant's keys.
type TenantKeyService interface {
	Inventory(ctx context.Context, c rempart.Caller, tenant string) (rempart.TenantKeys, error)
	Rotate(ctx context.Context, c rempart.Caller, tenant string) (rempart.Job, error)
	SetCustomerKey(ctx context.Context, c rempart.Caller, tenant, uri string) (rempart.TenantKeys, error)
	RemoveCustomerKey(ctx context.Context, c rempart.Caller, tenant string) (rempart.TenantKeys, error)
}

// Services are the domain services behind the API.
type Services struct {
	Vault      *vault.Service
	Identity   *identity.Service
	Audit      AuditService
	Backups    BackupService
	Jobs       JobService
	Keys       KeyService
	TenantKeys TenantKeyService
	Grants     *grants.Service // staff access grants (IAM-7)
	// Reviews runs role changes and access reviews (IAM-9, IAM-10).
	Reviews *reviews.Service
}

// Config tunes the API edge.
type Config struct {
	// Per-IP and per-credential request rates (requests per second) and
	// bursts (NET-2).
	IPRate, CredentialRate   float64
	IPBurst, CredentialBurst int
	// TrustedProxies may set X-Forwarded-For.
	TrustedProxies []netip.Prefix
	// MaxBodyBytes bounds any request body (default 1 MiB + 4 KiB) but an
	// attachment upload's, which the vault's MaxAttachmentBytes bounds.
	MaxBodyBytes int64
}

// Server is the REST API.
type Server struct {
	vault    *vault.Service
	identity *identity.Service
	audit    AuditService
	backups  BackupService
	jobs     JobService
	keys     KeyService
	tkeys    TenantKeyService
	grants   *grants.Service
	reviews  *reviews.Service
	logger   *slog.Logger
	clock    rempart.Clock
	cfg      Config
	ipLimit  *httpsrv.RateLimiter
	keyLimit *httpsrv.RateLimiter
	metrics  *metrics
	mux      *http.ServeMux
	patterns []string
}

// New returns the API server.
func New(svc Services, logger *slog.Logger, clock rempart.Clock, cfg Config) *Server {
	if cfg.IPRate <= 0 {
		cfg.IPRate, cfg.IPBurst = 2000, 4000
	}
	if cfg.CredentialRate <= 0 {
		cfg.CredentialRate, cfg.CredentialBurst = 2000, 4000
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1<<20 + 4<<10
	}
	s := &Server{vault: svc.Vault, identity: svc.Identity, audit: svc.Audit, backups: svc.Backups, jobs: svc.Jobs, keys: svc.Keys, tkeys: svc.TenantKeys, grants: svc.Grants, reviews: svc.Reviews, logger: logger, clock: clock, cfg: cfg,
		ipLimit:  httpsrv.NewRateLimiter(cfg.IPRate, cfg.IPBurst, clock),
		keyLimit: httpsrv.NewRateLimiter(cfg.CredentialRate, cfg.CredentialBurst, clock),
		metrics:  newMetrics(),
		mux:      http.NewServeMux(),
	}
	s.routes()
	return s
}

// Handler returns the API's HTTP handler.
func (s *Server) Handler() http.Handler { return s.mux }

// MetricsHandler serves Prometheus metrics, for the internal listener.
func (s *Server) MetricsHandler() http.Handler { return s.metrics.handler() }

type ctxKey int

const reqIDKey ctxKey = 0

func requestID(r *http.Request) string {
	id, _ := r.Context().Value(reqIDKey).(string)
	return id
}

// handlerFunc is an API handler: it gets the authenticated caller and returns
// an error to be written as a problem.
type handlerFunc func(w http.ResponseWriter, r *http.Request, c rempart.Caller) error

// edge is what every API request goes through: request ID, per-IP rate limit,
// body bound, metrics.
func (s *Server) edge(pattern string, h handlerFunc) http.Handler {
	return s.edgeLimit(pattern, s.cfg.MaxBodyBytes, h)
}

// edgeLimit is edge with a body bound of its own.
func (s *Server) edgeLimit(pattern string, maxBody int64, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := rempart.NewID("req")
		r = r.WithContext(context.WithValue(r.Context(), reqIDKey, id))
		w.Header().Set("X-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w}
		c := rempart.Caller{IP: httpsrv.ClientIP(r, s.cfg.TrustedProxies), UserAgent: truncate(r.UserAgent(), 256), RequestID: id}
		err := s.limit(s.ipLimit, "ip:"+c.IP)
		if err == nil {
			if r.ContentLength > maxBody {
				err = &rempart.Error{Code: rempart.ETOOLARGE, Message: "The request body is too large."}
			} else {
				r.Body = http.MaxBytesReader(sw, r.Body, maxBody)
				err = h(sw, r, c)
			}
		}
		if err != nil {
			s.writeError(sw, r, err)
		}
		s.metrics.observe(pattern, sw.status(), time.Since(start))
	})
}

// authed wraps h so that it runs only for an authenticated caller within its
// credential's rate limit.
func (s *Server) authed(pattern string, h handlerFunc) http.Handler {
	return s.authedLimit(pattern, s.cfg.MaxBodyBytes, h)
}

// upload is authed for a route whose body is an attachment: its bound is the
// largest attachment rather than the largest record (NET-2). The body is
// read only once the caller is authenticated.
func (s *Server) upload(pattern string, h handlerFunc) http.Handler {
	return s.authedLimit(pattern, s.vault.MaxAttachmentBytes(), h)
}

func (s *Server) authedLimit(pattern string, maxBody int64, h handlerFunc) http.Handler {
	return s.edgeLimit(pattern, maxBody, func(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
		token, ok := bearer(r)
		if !ok {
			return s.identity.Unauthenticated(r.Context(), c, r.URL.Path)
		}
		c, err := s.identity.Authenticate(r.Context(), c, token)
		if err != nil {
			return err
		}
		if err := s.limit(s.keyLimit, "cred:"+c.CredentialID); err != nil {
			return err
		}
		return h(w, r, c)
	})
}

// public wraps a handler that needs no API key.
func (s *Server) public(pattern string, h handlerFunc) http.Handler { return s.edge(pattern, h) }

func (s *Server) limit(l *httpsrv.RateLimiter, key string) error {
	if ok, after := l.Allow(key); !ok {
		return &rempart.Error{Code: rempart.ERATELIMIT, Message: "Too many requests; retry later.", RetryAfter: after}
	}
	return nil
}

// bearer extracts the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return strings.TrimSpace(token), true
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection, to move the
// deadlines of long transfers.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}
