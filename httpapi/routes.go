package httpapi

import (
	_ "embed"
	"net/http"
)

//go:embed openapi.json
var openAPIDocument []byte

// routes registers every API route. This file is the one list of them; a test
// checks it against the OpenAPI document.
func (s *Server) routes() {
	const (
		t  = "/api/v1/tenants/{tenant}"
		sa = t + "/service-accounts/{account}"
		rc = t + "/collections/{collection}/records"
		at = rc + "/{id}/attachments"
	)
	s.handle("POST /api/v1/bootstrap", s.public, s.bootstrap)
	s.handle("GET /api/v1/openapi.json", s.public, s.openAPI)

	s.handle("POST /api/v1/sessions", s.public, s.signIn)
	s.handle("POST /api/v1/sessions/code", s.public, s.signInCode)
	s.handle("POST /api/v1/sessions/webauthn/options", s.public, s.signInWebAuthnOptions)
	s.handle("POST /api/v1/sessions/webauthn", s.public, s.signInWebAuthn)
	s.handle("POST /api/v1/password", s.public, s.changePassword)
	s.handle("POST /api/v1/invitations/accept", s.public, s.acceptInvitation)
	s.handle("GET /api/v1/me", s.authed, s.me)
	s.handle("GET /api/v1/me/sessions", s.authed, s.mySessions)
	s.handle("DELETE /api/v1/me/sessions/{session}", s.authed, s.revokeMySession)
	s.handle("GET /api/v1/me/api-keys", s.authed, s.myPersonalKeys)
	s.handle("POST /api/v1/me/api-keys", s.authed, s.createPersonalKey)
	s.handle("DELETE /api/v1/me/api-keys/{key}", s.authed, s.revokePersonalKey)
	s.handle("GET /api/v1/me/factors", s.authed, s.myFactors)
	s.handle("POST /api/v1/me/factors/totp", s.authed, s.startTOTP)
	s.handle("POST /api/v1/me/factors/webauthn", s.authed, s.startWebAuthn)
	s.handle("POST /api/v1/me/factors/webauthn/finish", s.authed, s.finishWebAuthn)
	s.handle("POST /api/v1/me/factors/{factor}/confirm", s.authed, s.confirmFactor)
	s.handle("DELETE /api/v1/me/factors/{factor}", s.authed, s.deleteFactor)
	s.handle("POST /api/v1/me/recovery-codes", s.authed, s.regenerateRecoveryCodes)
	s.handle("POST /api/v1/mfa/verify", s.authed, s.verifyMFA)
	s.handle("POST /api/v1/mfa/webauthn/options", s.authed, s.stepUpWebAuthnOptions)
	s.handle("POST /api/v1/mfa/webauthn", s.authed, s.verifyMFAWebAuthn)
	s.handle("GET "+t+"/mfa-policy", s.authed, s.getMFAPolicy)
	s.handle("PUT "+t+"/mfa-policy", s.authed, s.putMFAPolicy)
	s.handle("GET "+t+"/password-policy", s.authed, s.getPasswordPolicy)
	s.handle("PUT "+t+"/password-policy", s.authed, s.putPasswordPolicy)
	for _, p := range []string{"/api/v1/staff", t} {
		s.handle("GET "+p+"/invitations", s.authed, s.listInvitations)
		s.handle("POST "+p+"/invitations", s.authed, s.createInvitation)
		s.handle("DELETE "+p+"/invitations/{invitation}", s.authed, s.revokeInvitation)
		s.handle("POST "+p+"/invitations/{invitation}/approve", s.authed, s.approveInvitation)
		s.handle("POST "+p+"/invitations/{invitation}/reject", s.authed, s.rejectInvitation)
		s.handle("GET "+p+"/users", s.authed, s.listUsers)
		s.handle("POST "+p+"/users/{user}/suspend", s.authed, s.suspendUser)
		s.handle("POST "+p+"/users/{user}/reactivate", s.authed, s.reactivateUser)
		s.handle("POST "+p+"/users/{user}/revoke-access", s.authed, s.revokeUserAccess)
		s.reviewRoutes(p)
		s.handle("GET "+p+"/sso/providers", s.authed, s.listSSOProviders)
		s.handle("POST "+p+"/sso/providers", s.authed, s.createSSOProvider)
		s.handle("GET "+p+"/sso/providers/{provider}", s.authed, s.getSSOProvider)
		s.handle("PUT "+p+"/sso/providers/{provider}", s.authed, s.updateSSOProvider)
		s.handle("DELETE "+p+"/sso/providers/{provider}", s.authed, s.deleteSSOProvider)
	}

	s.handle("GET /api/v1/tenants", s.authed, s.listTenants)
	s.handle("POST /api/v1/tenants", s.authed, s.createTenant)
	s.handle("GET "+t, s.authed, s.getTenant)
	s.handle("POST "+t+"/suspend", s.authed, s.suspendTenant)
	s.handle("POST "+t+"/resume", s.authed, s.resumeTenant)
	s.handle("DELETE "+t, s.authed, s.deleteTenant)

	s.handle("GET "+t+"/service-accounts", s.authed, s.listServiceAccounts)
	s.handle("POST "+t+"/service-accounts", s.authed, s.createServiceAccount)
	s.handle("DELETE "+sa, s.authed, s.deleteServiceAccount)
	s.handle("GET "+sa+"/keys", s.authed, s.listKeys)
	s.handle("POST "+sa+"/keys", s.authed, s.createKey)
	s.handle("DELETE "+sa+"/keys/{key}", s.authed, s.revokeKey)

	s.handle("GET "+t+"/collections", s.authed, s.listCollections)
	s.handle("GET "+rc, s.authed, s.listRecords)
	s.handle("POST "+rc, s.authed, s.createRecord)
	s.handle("GET "+rc+"/{id}", s.authed, s.getRecord)
	s.handle("PUT "+rc+"/{id}", s.authed, s.replaceRecord)
	s.handle("PATCH "+rc+"/{id}", s.authed, s.patchRecord)
	s.handle("DELETE "+rc+"/{id}", s.authed, s.deleteRecord)
	s.handle("POST "+rc+"/{id}/restore", s.authed, s.restoreRecord)

	s.handle("GET "+at, s.authed, s.listAttachments)
	s.handle("POST "+at, s.upload, s.uploadAttachment)
	s.handle("GET "+at+"/{attachment}", s.authed, s.downloadAttachment)
	s.handle("DELETE "+at+"/{attachment}", s.authed, s.deleteAttachment)
	s.handle("POST "+at+"/{attachment}/restore", s.authed, s.restoreAttachment)

	s.handle("GET "+t+"/audit", s.authed, s.tenantAudit)
	s.handle("GET /api/v1/audit/entries", s.authed, s.auditEntries)
	s.handle("GET /api/v1/audit/checkpoint", s.authed, s.checkpoint)
	s.handle("GET /api/v1/audit/proofs/inclusion", s.authed, s.inclusionProof)
	s.handle("GET /api/v1/audit/proofs/consistency", s.authed, s.consistencyProof)
	s.handle("GET /api/v1/audit/export", s.authed, s.export)

	s.handle("GET /api/v1/backups", s.authed, s.listBackups)
	s.handle("POST /api/v1/backups", s.authed, s.createBackup)
	s.handle("POST /api/v1/backups/{backup}/verify", s.authed, s.verifyBackup)
	s.handle("GET /api/v1/restore-tests", s.authed, s.listRestoreTests)
	s.handle("POST /api/v1/restore-tests", s.authed, s.createRestoreTest)
	s.handle("GET /api/v1/keys", s.authed, s.keyInventory)
	s.handle("POST /api/v1/keys/root/rotate", s.authed, s.rotateRoot)
	s.handle("GET "+t+"/keys", s.authed, s.tenantKeys)
	s.handle("POST "+t+"/keys/rotate", s.authed, s.rotateTenantKeys)
	s.handle("PUT "+t+"/keys/customer", s.authed, s.setCustomerKey)
	s.handle("DELETE "+t+"/keys/customer", s.authed, s.removeCustomerKey)
	s.handle("GET "+t+"/retention", s.authed, s.getRetention)
	s.handle("PUT "+t+"/retention", s.authed, s.setRetentionDefault)
	s.handle("DELETE "+t+"/retention", s.authed, s.deleteRetentionDefault)
	s.handle("PUT "+t+"/retention/{collection}", s.authed, s.setRetentionRule)
	s.handle("DELETE "+t+"/retention/{collection}", s.authed, s.deleteRetentionRule)
	s.handle("GET /api/v1/grants", s.authed, s.listGrants)
	s.handle("POST /api/v1/grants", s.authed, s.requestGrant)
	s.handle("GET /api/v1/grants/{grant}", s.authed, s.getGrant)
	s.handle("POST /api/v1/grants/{grant}/approve", s.authed, s.approveGrant)
	s.handle("POST /api/v1/grants/{grant}/deny", s.authed, s.denyGrant)
	s.handle("POST /api/v1/grants/{grant}/revoke", s.authed, s.revokeGrant)
	s.handle("GET "+t+"/grants", s.authed, s.tenantGrants)
	s.handle("GET "+t+"/grants/{grant}", s.authed, s.tenantGrant)
	s.handle("POST "+t+"/grants/{grant}/approve", s.authed, s.tenantApproveGrant)
	s.handle("POST "+t+"/grants/{grant}/deny", s.authed, s.tenantDenyGrant)
	s.handle("POST "+t+"/grants/{grant}/revoke", s.authed, s.tenantRevokeGrant)
	s.handle("GET "+t+"/grant-settings", s.authed, s.getGrantSettings)
	s.handle("PUT "+t+"/grant-settings", s.authed, s.setGrantSettings)
	s.handle("GET /api/v1/jobs", s.authed, s.listJobs)
	s.handle("GET /api/v1/jobs/{job}", s.authed, s.getJob)

	// Anything else under the API answers a problem document, not HTML.
	s.handle("/api/", s.public, s.notFound)
}

// patterns lists the registered route patterns, for the OpenAPI test.
func (s *Server) Patterns() []string { return s.patterns }

func (s *Server) handle(pattern string, wrap func(string, handlerFunc) http.Handler, h handlerFunc) {
	s.patterns = append(s.patterns, pattern)
	s.mux.Handle(pattern, wrap(pattern, h))
}
