package main

import (
	"net/http"
	"net/netip"

	"github.com/rempart/rempart/web"
)

// publicHandler serves the API under /api/ and the console everywhere else,
// on the one HTTPS listener; each limits a client address to the rate-ip
// setting (NET-2).
func (m *Main) publicHandler(proxies []netip.Prefix, ipRate float64, ipBurst int) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/", m.API.Handler())
	var sso web.SSO
	var ssoAdmin web.SSOProviderService
	var samlMetadata func() ([]byte, error)
	if *m.publicURL != "" {
		sso, ssoAdmin = web.IdentitySSO(m.Identity), m.Identity
	}
	if m.samlSP != nil {
		samlMetadata = m.samlSP.Metadata
	}
	mux.Handle("/", web.New(web.Config{
		Sessions: web.IdentitySessions(m.Identity), MFA: web.IdentityMFA(m.Identity), Tenants: m.Vault, Accounts: m.Identity, Audit: m.Log,
		Keys: m.KeyAdmin, TenantKeys: m.TenantKeys, Retention: m.Vault, Backups: m.Deployment.Backups, Jobs: m.Jobs, Grants: m.Grants, Reviews: m.Reviews,
		People: m.Identity,
		SSO:    sso, SSOAdmin: ssoAdmin, SSOCallbackURL: m.ssoCallback,
		SAMLMetadata: samlMetadata, SAMLEntityID: m.samlMetadata, SAMLACSURL: m.samlACS,
		CSRFKey: m.Deployment.ConsoleKey, TrustedProxies: proxies, IPRate: ipRate, IPBurst: ipBurst, Logger: m.Logger,
	}))
	return mux
}
