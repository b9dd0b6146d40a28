package main

import (
	"context"
	"net/http"
	"net/netip"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/identity"
	"github.com/rempart/rempart/web"
)

// consoleSessions gives the console people's console sessions from the
// identity service.
type consoleSessions struct{ id *identity.Service }

func caller(in web.RequestInfo) rempart.Caller {
	return rempart.Caller{IP: in.IP, UserAgent: in.UserAgent, RequestID: in.RequestID}
}

func (s consoleSessions) SignIn(ctx context.Context, in web.SignIn) (web.Session, error) {
	out, err := s.id.SignIn(ctx, caller(in.RequestInfo), rempart.SignIn{Email: in.Email, Password: in.Password, Code: in.Code}, rempart.SessionConsole)
	if err != nil {
		return web.Session{}, err
	}
	return web.Session{Token: out.Token, ExpiresAt: out.ExpiresAt}, nil
}

func (s consoleSessions) Resume(ctx context.Context, token string, in web.RequestInfo) (rempart.Caller, error) {
	return s.id.AuthenticateSession(ctx, caller(in), token, rempart.SessionConsole)
}

func (s consoleSessions) SignOut(ctx context.Context, token string) error {
	c, err := s.id.AuthenticateSession(ctx, rempart.Caller{}, token, rempart.SessionConsole)
	if err != nil {
		return nil // already over
	}
	return s.id.SignOut(ctx, c)
}

// publicHandler serves the API under /api/ and the console everywhere else,
// on the one HTTPS listener.
func (m *Main) publicHandler(proxies []netip.Prefix) http.Handler {
	mux := http.NewServeMux()
	api := m.API.Handler()
	mux.Handle("/api/", api)
	mux.Handle("/", web.New(web.Config{
		Sessions: consoleSessions{m.Identity}, Tenants: m.Vault, Accounts: m.Identity, Audit: m.Log,
		Keys: m.KeyAdmin, TenantKeys: m.TenantKeys, Backups: m.Deployment.Backups, Jobs: m.Jobs,
		CSRFKey: m.Deployment.ConsoleKey, TrustedProxies: proxies, Logger: m.Logger,
	}))
	return mux
}
