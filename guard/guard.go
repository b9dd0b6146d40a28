// Package guard decides who may do what (TEN-1, IAM-2). It is the only place
// that makes a Scope, and storage methods that touch a tenant's data require
// one, so no code path can reach service data without passing here.
package guard

import (
	"slices"
	"strings"

	"github.com/rempart/rempart"
)

// Permission is one thing a principal may do.
type Permission string

// Permissions. Tenant permissions apply inside the principal's own tenant;
// system permissions apply to the control plane.
const (
	RecordsRead    Permission = "records:read"
	RecordsWrite   Permission = "records:write"
	AccountsManage Permission = "accounts:manage" // service accounts, their keys, the tenant's users
	TenantRead     Permission = "tenant:read"     // see the tenant itself
	TenantAudit    Permission = "audit:tenant"    // read the tenant's audit trail (AUD-4)

	TenantsManage Permission = "tenants:manage" // create, suspend, delete tenants
	AuditLog      Permission = "audit:log"      // the whole log: entries, export
	AuditProof    Permission = "audit:proof"    // checkpoints and proofs
	BackupsManage Permission = "backups:manage" // backups, their verification and restore tests
	JobsRead      Permission = "jobs:read"      // background jobs and their progress
	KeysManage    Permission = "keys:manage"    // the root key: rotation, the whole key inventory
	TenantKeys    Permission = "keys:tenant"    // a tenant's keys: inventory and rotation
	Retention     Permission = "retention"      // a tenant's retention rules (GOV-5)
	StaffManage   Permission = "staff:manage"   // the vendor's staff users and their invitations

	// Just-in-time access (IAM-7), see grant.go.
	GrantsRequest      Permission = "grants:request"       // ask for a read grant on a tenant's records
	GrantsRequestWrite Permission = "grants:request_write" // ask for a write grant too
	GrantsApprove      Permission = "grants:approve"       // approve, deny and revoke staff grants
	GrantsRead         Permission = "grants:read"          // see every staff grant
	TenantGrants       Permission = "grants:tenant"        // a tenant's grants, the access under them, its approval
)

// rolePermissions is the permission matrix (IAM-2): each role gets what its
// job needs and nothing else. The system admin (the security admin of
// docs/grants.md) manages tenants and approves grants but has no access to
// any tenant's records: vendor staff reach service data only through
// just-in-time grants (IAM-7), which support and engineers ask for and which
// no role holds standing.
var rolePermissions = map[string][]Permission{
	rempart.RoleSystemAdmin: {TenantsManage, TenantRead, AccountsManage, TenantAudit, AuditLog, AuditProof, BackupsManage, JobsRead, KeysManage, TenantKeys, Retention, StaffManage, GrantsApprove, GrantsRead},
	rempart.RoleAuditor:     {AuditLog, AuditProof, JobsRead, GrantsRead},
	rempart.RoleSupport:     {GrantsRequest},
	rempart.RoleEngineer:    {GrantsRequest, GrantsRequestWrite},
	rempart.RoleAdmin:       {RecordsRead, RecordsWrite, AccountsManage, TenantRead, TenantAudit, AuditProof, TenantKeys, Retention, TenantGrants},
	rempart.RoleWriter:      {RecordsRead, RecordsWrite, TenantRead, AuditProof},
	rempart.RoleReader:      {RecordsRead, TenantRead, AuditProof},
}

// Matrix returns a copy of the permission matrix, for documentation and tests.
func Matrix() map[string][]Permission {
	m := make(map[string][]Permission, len(rolePermissions))
	for r, ps := range rolePermissions {
		m[r] = append([]Permission(nil), ps...)
	}
	return m
}

// Has reports whether role grants p.
func Has(role string, p Permission) bool {
	for _, q := range rolePermissions[role] {
		if q == p {
			return true
		}
	}
	return false
}

// ownTenantWork are the permissions that reach no further than the holder's
// own tenant's records: what a writer or reader does.
var ownTenantWork = []Permission{RecordsRead, RecordsWrite, TenantRead, AuditProof}

// Privileged reports whether a role holds any power beyond working on its
// own tenant's records: over other accounts (accounts:manage, staff:manage),
// over the deployment, its keys or its whole audit log, or the right to ask
// for access to a tenant's data (grants:request), which a second account of
// an administrator could otherwise approve for itself. Granting such a role
// through an invitation needs a second person (IAM-10). That is every staff
// role and a tenant's admin; an unknown role counts as privileged.
func Privileged(role string) bool {
	ps, ok := rolePermissions[role]
	if !ok {
		return true
	}
	for _, p := range ps {
		if !slices.Contains(ownTenantWork, p) {
			return true
		}
	}
	return false
}

// Scope is the proof that a caller was authorised for one permission on one
// tenant. Its fields are unexported: only Authorize makes a valid one.
type Scope struct {
	tenantID string
	perm     Permission
	caller   rempart.Caller
	grantID  string
}

// TenantID is the tenant every storage query under this scope is bound to.
func (s Scope) TenantID() string { return s.tenantID }

// Permission is what the scope allows.
func (s Scope) Permission() Permission { return s.perm }

// Caller is who was authorised.
func (s Scope) Caller() rempart.Caller { return s.caller }

// Valid reports whether the scope came from Authorize. Storage refuses a zero
// Scope.
func (s Scope) Valid() bool { return s.tenantID != "" && s.perm != "" && !s.caller.Anonymous() }

// Authorize checks that caller may use p on tenant t (TEN-1):
//   - no credential: EUNAUTHORIZED;
//   - a tenant principal of another tenant: ENOTFOUND, the same answer as for
//     a tenant that does not exist, so that tenant IDs cannot be probed;
//   - a role without p: EFORBIDDEN;
//   - a suspended tenant: EFORBIDDEN for everything but the system admin.
func Authorize(c rempart.Caller, t rempart.Tenant, p Permission) (Scope, error) {
	if c.Anonymous() {
		return Scope{}, rempart.Errorf(rempart.EUNAUTHORIZED, "A valid credential is required.")
	}
	if c.EnrolOnly {
		return Scope{}, ErrEnrolOnly
	}
	pr := c.Principal
	system := pr.TenantID == ""
	if !system && pr.TenantID != t.ID {
		return Scope{}, rempart.Errorf(rempart.ENOTFOUND, "Tenant not found.")
	}
	if !Has(pr.Role, p) {
		return Scope{}, rempart.Errorf(rempart.EFORBIDDEN, "Your role (%s) does not allow %s.", pr.Role, p)
	}
	if t.Status != rempart.TenantActive && !system {
		return Scope{}, rempart.Errorf(rempart.EFORBIDDEN, "Tenant is %s.", t.Status)
	}
	return Scope{tenantID: t.ID, perm: p, caller: c}, nil
}

// AuthorizeSystem checks a control-plane permission that is not bound to one
// tenant (tenant management, the whole audit log).
func AuthorizeSystem(c rempart.Caller, p Permission) error {
	if c.Anonymous() {
		return rempart.Errorf(rempart.EUNAUTHORIZED, "A valid credential is required.")
	}
	if c.EnrolOnly {
		return ErrEnrolOnly
	}
	if !Has(c.Principal.Role, p) {
		return rempart.Errorf(rempart.EFORBIDDEN, "Your role (%s) does not allow %s.", c.Principal.Role, p)
	}
	return nil
}

// Maintain is the permission of rempart's own background work on a tenant's
// stored data: re-encryption under a rotated key, purges. It belongs to no
// role: only Maintenance grants it, and only to a system principal.
const Maintain Permission = "data:maintain"

// Maintenance returns the scope of a background task on tenant t's data,
// such as re-encrypting its records after a key rotation. The caller is the
// system principal "system:<task>", so that the audit trail says which task
// touched the data; no person holds this scope (IAM-7: staff reach service
// data only through grants).
func Maintenance(t rempart.Tenant, task string) Scope {
	return Scope{tenantID: t.ID, perm: Maintain, caller: rempart.Caller{Principal: rempart.Principal{ID: "system:" + task}}}
}

// ErrEnrolOnly refuses an enrolment-only session (IAM-4).
var ErrEnrolOnly = rempart.Errorf(rempart.EMFAREQUIRED, "Enrol a second factor first: until you do, this session can only enrol one (IAM-4).")

// StepUp refuses a sensitive action (removing a second factor, new recovery
// codes, staff management, root key rotation) unless the person proved a
// second factor within the step-up window (IAM-4). It is the one check of
// re-authentication: identity sets RecentMFA when it authenticates the
// session. Service accounts' API keys are machine credentials without a
// second factor (IAM-6 governs them) and pass. A person's own API key
// (rempart.IsPersonalKey) never proves a second factor and never passes:
// it is not a way around MFA.
func StepUp(c rempart.Caller) error {
	if c.Anonymous() {
		return rempart.Errorf(rempart.EUNAUTHORIZED, "A valid credential is required.")
	}
	if rempart.IsPersonalKey(c.CredentialID) {
		return rempart.Errorf(rempart.EMFAREQUIRED, "This action needs a second factor proven in the last minutes, which a personal API key cannot give: do it from a session (sign in with your second factor).")
	}
	if strings.HasPrefix(c.CredentialID, "ses_") && !c.RecentMFA {
		return rempart.Errorf(rempart.EMFAREQUIRED, "This action needs a second factor proven in the last minutes: confirm a code (POST /api/v1/mfa/verify) or a security key (POST /api/v1/mfa/webauthn/options, then /api/v1/mfa/webauthn) and try again.")
	}
	return nil
}

// StaffStepUp is StepUp for a change of people's access in the scope of
// tenant: in the staff scope (""), where a change can make a system
// administrator, it needs a recent second factor; a tenant's changes do
// not (IAM-4, IAM-10). The one rule for identity's and reviews' changes.
func StaffStepUp(c rempart.Caller, tenant string) error {
	if tenant != "" {
		return nil
	}
	return StepUp(c)
}
