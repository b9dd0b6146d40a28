package web

import (
	"io/fs"
	"net/http"
	"strings"
)

// routes registers every console route. This file is the one list of them.
// Reads are GET; every change is a POST from a form carrying the session's
// CSRF token (checked in authed) and passing http.CrossOriginProtection
// (checked in secure).
func (s *server) routes() {
	const (
		t  = "/tenants/{tenant}"
		sa = t + "/service-accounts/{account}"
	)
	s.mux.Handle("GET /assets/", s.assets())

	s.mux.HandleFunc("GET /sign-in", s.signInForm)
	s.mux.HandleFunc("POST /sign-in", s.signIn)
	s.mux.HandleFunc("POST /sign-in/code", s.signInCode)
	s.mux.HandleFunc("POST /sign-in/webauthn", s.signInWebAuthn)
	s.mux.Handle("POST /sign-out", s.authed(s.signOut))
	s.mux.Handle("GET "+securityPath, s.authed(s.security))
	s.mux.Handle("POST "+securityPath+"/totp", s.authed(s.startTOTP))
	s.mux.Handle("POST "+securityPath+"/totp/{factor}/confirm", s.authed(s.confirmTOTP))
	s.mux.Handle("POST "+securityPath+"/webauthn", s.authed(s.startWebAuthn))
	s.mux.Handle("POST "+securityPath+"/webauthn/finish", s.authed(s.finishWebAuthn))
	s.mux.Handle("POST "+securityPath+"/factors/{factor}/delete", s.authed(s.deleteFactor))
	s.mux.Handle("POST "+securityPath+"/recovery-codes", s.authed(s.regenerateCodes))
	s.mux.Handle("POST "+securityPath+"/tenant-policy", s.authed(s.setTenantPolicy))
	s.mux.Handle("POST /mfa/verify", s.authed(s.verifyMFA))
	s.mux.Handle("POST /mfa/verify/webauthn", s.authed(s.verifyMFAWebAuthn))
	s.mux.HandleFunc("POST /sso/start", s.ssoStart)
	s.mux.HandleFunc("GET /sso/callback", s.ssoCallback)
	s.mux.HandleFunc("POST /sso/saml/acs", s.samlACS)
	s.mux.HandleFunc("GET /sso/saml/metadata", s.samlMetadata)
	s.mux.Handle("GET /{$}", s.authed(s.home))

	s.mux.Handle("GET /tenants", s.authed(s.tenants))
	s.mux.Handle("POST /tenants", s.authed(s.createTenant))
	s.mux.Handle("POST "+t+"/suspend", s.authed(s.suspendTenant))
	s.mux.Handle("POST "+t+"/resume", s.authed(s.resumeTenant))
	s.mux.Handle("GET "+t+"/delete", s.authed(s.confirmDeleteTenant))
	s.mux.Handle("POST "+t+"/delete", s.authed(s.deleteTenant))

	s.mux.Handle("GET "+t+"/service-accounts", s.authed(s.accounts))
	s.mux.Handle("POST "+t+"/service-accounts", s.authed(s.createAccount))
	s.mux.Handle("GET "+sa, s.authed(s.account))
	s.mux.Handle("POST "+sa+"/keys", s.authed(s.createKey))
	s.mux.Handle("POST "+sa+"/keys/{key}/revoke", s.authed(s.revokeKey))

	s.mux.Handle("GET /audit", s.authed(s.audit))

	s.mux.Handle("GET /keys", s.authed(s.keys))
	s.mux.Handle("POST /keys/root/rotate", s.authed(s.rotateRoot))
	s.mux.Handle("GET "+t+"/keys", s.authed(s.tenantKeys))
	s.mux.Handle("POST "+t+"/keys/rotate", s.authed(s.rotateTenant))
	s.mux.Handle("POST "+t+"/keys/customer", s.authed(s.setCustomerKey))
	s.mux.Handle("POST "+t+"/keys/customer/delete", s.authed(s.removeCustomerKey))
	// Retention pages exist only when the console is given the rules.
	if s.cfg.Retention != nil {
		s.mux.Handle("GET "+t+"/retention", s.authed(s.retention))
		s.mux.Handle("POST "+t+"/retention/default", s.authed(s.setRetentionDefault))
		s.mux.Handle("POST "+t+"/retention/default/delete", s.authed(s.deleteRetentionDefault))
		s.mux.Handle("POST "+t+"/retention/rules", s.authed(s.setRetentionRule))
		s.mux.Handle("POST "+t+"/retention/rules/{collection}/delete", s.authed(s.deleteRetentionRule))
	}

	s.mux.Handle("GET /backups", s.authed(s.backups))
	s.mux.Handle("POST /backups", s.authed(s.createBackup))
	s.mux.Handle("POST /backups/{backup}/verify", s.authed(s.verifyBackup))
	s.mux.Handle("POST /restore-tests", s.authed(s.createRestoreTest))

	s.mux.Handle("GET /jobs", s.authed(s.jobs))

	s.mux.Handle("GET /grants", s.authed(s.grants))
	s.mux.Handle("POST /grants", s.authed(s.requestGrant))
	s.mux.Handle("POST /grants/{grant}/approve", s.authed(s.grantStep(GrantService.Approve, "grant-approved")))
	s.mux.Handle("POST /grants/{grant}/deny", s.authed(s.grantStep(GrantService.Deny, "grant-denied")))
	s.mux.Handle("POST /grants/{grant}/revoke", s.authed(s.grantStep(GrantService.Revoke, "grant-revoked")))
	s.mux.Handle("GET "+t+"/grants", s.authed(s.tenantGrants))
	s.mux.Handle("GET "+t+"/grants/{grant}", s.authed(s.tenantGrant))
	s.mux.Handle("POST "+t+"/grants/{grant}/approve", s.authed(s.tenantGrantStep(GrantService.TenantApprove, "grant-tenant-approved")))
	s.mux.Handle("POST "+t+"/grants/{grant}/deny", s.authed(s.tenantGrantStep(GrantService.TenantDeny, "grant-denied")))
	s.mux.Handle("POST "+t+"/grants/{grant}/revoke", s.authed(s.tenantGrantStep(GrantService.TenantRevoke, "grant-revoked")))
	s.mux.Handle("POST "+t+"/grant-settings", s.authed(s.setGrantSettings))
	for _, p := range []string{"/staff", t} {
		s.mux.Handle("GET "+p+"/role-changes", s.authed(s.roleChanges))
		s.mux.Handle("POST "+p+"/role-changes", s.authed(s.requestRoleChange))
		s.mux.Handle("POST "+p+"/role-changes/{change}/approve", s.authed(s.approveRoleChange))
		s.mux.Handle("POST "+p+"/role-changes/{change}/reject", s.authed(s.rejectRoleChange))
		s.mux.Handle("GET "+p+"/access-reviews", s.authed(s.campaigns))
		s.mux.Handle("POST "+p+"/access-reviews", s.authed(s.createCampaign))
		s.mux.Handle("GET "+p+"/access-reviews/{campaign}", s.authed(s.campaign))
		s.mux.Handle("POST "+p+"/access-reviews/{campaign}/items/{principal}", s.authed(s.decide))
		s.mux.Handle("GET "+p+"/access-reviews/{campaign}/export", s.authed(s.exportCampaign))
	}
	// People pages exist only when the console is given the people service.
	if s.cfg.People != nil {
		s.mux.HandleFunc("GET /join", s.joinForm)
		s.mux.HandleFunc("POST /join", s.join)
		for _, p := range []string{t + "/people", "/staff"} {
			s.mux.Handle("GET "+p, s.authed(s.people))
			s.mux.Handle("POST "+p+"/invitations", s.authed(s.invite))
			s.mux.Handle("POST "+p+"/invitations/{invitation}/withdraw", s.authed(s.withdrawInvitation))
			s.mux.Handle("POST "+p+"/invitations/{invitation}/approve", s.authed(s.approveInvitation))
			s.mux.Handle("POST "+p+"/invitations/{invitation}/reject", s.authed(s.rejectInvitation))
			s.mux.Handle("POST "+p+"/users/{user}/suspend", s.authed(s.suspendUser))
			s.mux.Handle("POST "+p+"/users/{user}/reactivate", s.authed(s.reactivateUser))
			s.mux.Handle("GET "+p+"/users/{user}/revoke-access", s.authed(s.confirmRevokeAccess))
			s.mux.Handle("POST "+p+"/users/{user}/revoke-access", s.authed(s.revokeAccess))
		}
		s.mux.Handle("GET /me", s.authed(s.me))
		s.mux.Handle("POST /me/password", s.authed(s.changePassword))
		s.mux.Handle("POST /me/sessions/{session}/revoke", s.authed(s.revokeSession))
		s.mux.Handle("POST /me/sessions/revoke-others", s.authed(s.signOutOthers))
		s.mux.Handle("POST /me/api-keys", s.authed(s.createPersonalKey))
		s.mux.Handle("POST /me/api-keys/{key}/revoke", s.authed(s.revokePersonalKey))
	}
	for _, p := range []string{"/staff/sso", t + "/sso"} {
		s.mux.Handle("GET "+p, s.authed(s.ssoProviders))
		s.mux.Handle("POST "+p, s.authed(s.createSSOProvider))
		s.mux.Handle("POST "+p+"/{provider}/delete", s.authed(s.deleteSSOProvider))
	}

	// Anything else is a 404 page (with the security headers).
	s.mux.HandleFunc("/", s.notFound)
}

func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	s.renderError(w, r, nil, errNotFound)
}

// assets serves the embedded stylesheet and script, and nothing else (no
// directory listings). They change only with the binary, so browsers may
// keep them for a while.
func (s *server) assets() http.Handler {
	sub, err := fs.Sub(assetFS, "assets")
	if err != nil {
		panic(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/assets/")
		if st, err := fs.Stat(sub, name); err != nil || st.IsDir() {
			s.notFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		http.ServeFileFS(w, r, sub, name)
	})
}
