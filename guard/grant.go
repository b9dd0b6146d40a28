package guard

import (
	"time"

	"github.com/rempart/rempart"
)

// GrantID is the staff access grant the scope was authorised under (IAM-7),
// "" for a tenant's own principals. Every audit entry of an access under the
// scope names it.
func (s Scope) GrantID() string { return s.grantID }

// NeedsGrant reports whether c may use p on a tenant's data only under a
// just-in-time grant (IAM-7): c is the vendor's staff (a principal of no
// tenant) and p is access to service data. It is false for every tenant
// principal, so that their authorisation costs no grant lookup.
func NeedsGrant(c rempart.Caller, p Permission) bool {
	return !c.Anonymous() && c.Principal.TenantID == "" && (p == RecordsRead || p == RecordsWrite)
}

// grantAllows is what each grant scope allows.
var grantAllows = map[string][]Permission{
	rempart.GrantRead:  {RecordsRead},
	rempart.GrantWrite: {RecordsRead, RecordsWrite},
}

// RequestPermission is the permission a staff member needs to ask for a
// grant of the given scope; "" for an unknown scope.
func RequestPermission(scope string) Permission {
	switch scope {
	case rempart.GrantRead:
		return GrantsRequest
	case rempart.GrantWrite:
		return GrantsRequestWrite
	}
	return ""
}

// errNoGrant is the answer to staff without a grant that covers the access:
// 403, not 404, since tenants are no secret to the vendor's staff (see
// docs/adr/0004-cross-tenant-404.md: 404 hides a tenant from other tenants).
var errNoGrant = rempart.Errorf(rempart.EFORBIDDEN, "Staff reach a tenant's data only under an active access grant that covers it.")

// AuthorizeGrant checks that the staff caller c may use p on tenant t under
// one of grants, the caller's grants on t as stored, at now (IAM-7). The
// grant must be the caller's own, for t, active at now (approved by all who
// must, not expired, not revoked), of a scope that allows p, and the caller's
// role must still allow asking for that scope. The scope returned carries
// the grant's ID. Anything else is EFORBIDDEN (see errNoGrant).
func AuthorizeGrant(c rempart.Caller, t rempart.Tenant, p Permission, grants []rempart.Grant, now time.Time) (Scope, error) {
	if c.Anonymous() {
		return Scope{}, rempart.Errorf(rempart.EUNAUTHORIZED, "A valid credential is required.")
	}
	if !NeedsGrant(c, p) {
		return Scope{}, errNoGrant
	}
	if t.Status != rempart.TenantActive {
		return Scope{}, rempart.Errorf(rempart.EFORBIDDEN, "Tenant is %s.", t.Status)
	}
	for _, g := range grants {
		if g.ID == "" || g.TenantID != t.ID || g.RequesterID != c.Principal.ID || !g.ActiveAt(now) {
			continue
		}
		if !Has(c.Principal.Role, RequestPermission(g.Scope)) {
			continue
		}
		for _, q := range grantAllows[g.Scope] {
			if q == p {
				return Scope{tenantID: t.ID, perm: p, caller: c, grantID: g.ID}, nil
			}
		}
	}
	return Scope{}, errNoGrant
}
