package grants

import (
	"context"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
)

// A tenant's side of grants: its admins see every grant on the tenant and
// every access made under each (access transparency), approve grants when
// the tenant requires it, deny and revoke them, and set that rule.

// authorize checks that c may manage grants of tenant: ENOTFOUND for
// another tenant's principal, as everywhere (TEN-1).
func (s *Service) authorize(ctx context.Context, c rempart.Caller, tenant string, e rempart.AuditEntry) (guard.Scope, error) {
	t, err := s.store.Tenant(ctx, tenant)
	if err != nil {
		if rempart.ErrorCode(err) == rempart.ENOTFOUND {
			return guard.Scope{}, s.deny(ctx, e, err)
		}
		return guard.Scope{}, err
	}
	scope, err := guard.Authorize(c, t, guard.TenantGrants)
	if err != nil {
		return guard.Scope{}, s.deny(ctx, e, err)
	}
	return scope, nil
}

func tenantResource(tenant, id string) string {
	r := "tenants/" + tenant + "/grants"
	if id != "" {
		r += "/" + id
	}
	return r
}

// TenantGrants lists every grant on the tenant, newest first.
func (s *Service) TenantGrants(ctx context.Context, c rempart.Caller, tenant string) ([]rempart.Grant, error) {
	e := c.Entry(tenant, "grant.list", tenantResource(tenant, ""))
	scope, err := s.authorize(ctx, c, tenant, e)
	if err != nil {
		return nil, err
	}
	return s.list(ctx, e, Query{TenantID: scope.TenantID(), Limit: MaxList})
}

// tenantGrant authorises c on the tenant and loads one of its grants; a
// grant of another tenant is ENOTFOUND.
func (s *Service) tenantGrant(ctx context.Context, c rempart.Caller, tenant, id string, e rempart.AuditEntry) (guard.Scope, rempart.Grant, error) {
	scope, err := s.authorize(ctx, c, tenant, e)
	if err != nil {
		return scope, rempart.Grant{}, err
	}
	g, err := s.store.Grant(ctx, id)
	if err == nil && g.TenantID != scope.TenantID() {
		err = rempart.Errorf(rempart.ENOTFOUND, "Grant not found.")
	}
	if err != nil {
		if rempart.ErrorCode(err) == rempart.ENOTFOUND {
			return scope, g, s.deny(ctx, e, err)
		}
		return scope, g, err
	}
	return scope, g, nil
}

// TenantGrant returns a grant on the tenant with every access made under
// it, from the audit trail.
func (s *Service) TenantGrant(ctx context.Context, c rempart.Caller, tenant, id string) (rempart.GrantDetail, error) {
	e := c.Entry(tenant, "grant.read", tenantResource(tenant, id))
	scope, g, err := s.tenantGrant(ctx, c, tenant, id, e)
	if err != nil {
		return rempart.GrantDetail{}, err
	}
	acc, err := s.store.GrantAccesses(ctx, scope, g, MaxList)
	if err != nil {
		return rempart.GrantDetail{}, err
	}
	if _, err := s.store.Audit(ctx, e); err != nil {
		return rempart.GrantDetail{}, err
	}
	return rempart.GrantDetail{Grant: s.withStatus(g), Accesses: acc}, nil
}

// TenantApprove is a tenant admin's approval of a grant that needs it. The
// grant becomes active now if the staff approval is already in.
func (s *Service) TenantApprove(ctx context.Context, c rempart.Caller, tenant, id string) (rempart.Grant, error) {
	e := c.Entry(tenant, "grant.tenant_approve", tenantResource(tenant, id))
	if _, _, err := s.tenantGrant(ctx, c, tenant, id, e); err != nil {
		return rempart.Grant{}, err
	}
	return s.update(ctx, e, id, func(g *rempart.Grant, now time.Time) error {
		if !g.TenantApprovalRequired {
			return rempart.Errorf(rempart.ECONFLICT, "This grant does not need the tenant's approval.")
		}
		if g.TenantApprovedAt != nil {
			return rempart.Errorf(rempart.ECONFLICT, "The grant is already approved by the tenant.")
		}
		g.TenantApprovedBy, g.TenantApprovedAt = c.Principal.ID, &now
		activate(g, now)
		return nil
	})
}

// TenantDeny refuses a pending grant on the tenant.
func (s *Service) TenantDeny(ctx context.Context, c rempart.Caller, tenant, id string) (rempart.Grant, error) {
	e := c.Entry(tenant, "grant.tenant_deny", tenantResource(tenant, id))
	if _, _, err := s.tenantGrant(ctx, c, tenant, id, e); err != nil {
		return rempart.Grant{}, err
	}
	return s.update(ctx, e, id, func(g *rempart.Grant, now time.Time) error {
		g.DeniedBy, g.DeniedAt = c.Principal.ID, &now
		return nil
	})
}

// TenantRevoke ends a pending or active grant on the tenant at once.
func (s *Service) TenantRevoke(ctx context.Context, c rempart.Caller, tenant, id string) (rempart.Grant, error) {
	e := c.Entry(tenant, "grant.revoke", tenantResource(tenant, id))
	if _, _, err := s.tenantGrant(ctx, c, tenant, id, e); err != nil {
		return rempart.Grant{}, err
	}
	return s.update(ctx, e, id, revoke(c), true)
}

// Settings returns the tenant's rule for grants.
func (s *Service) Settings(ctx context.Context, c rempart.Caller, tenant string) (rempart.GrantSettings, error) {
	e := c.Entry(tenant, "grant.settings.read", "tenants/"+tenant+"/grant-settings")
	scope, err := s.authorize(ctx, c, tenant, e)
	if err != nil {
		return rempart.GrantSettings{}, err
	}
	gs, err := s.store.GrantSettings(ctx, scope.TenantID())
	if err != nil {
		return gs, err
	}
	if _, err := s.store.Audit(ctx, e); err != nil {
		return rempart.GrantSettings{}, err
	}
	return gs, nil
}

// SetSettings sets whether a tenant admin must approve every new grant on
// the tenant; grants already requested keep the rule they were asked under.
func (s *Service) SetSettings(ctx context.Context, c rempart.Caller, tenant string, in rempart.GrantSettings) (rempart.GrantSettings, error) {
	e := c.Entry(tenant, "grant.settings.set", "tenants/"+tenant+"/grant-settings")
	scope, err := s.authorize(ctx, c, tenant, e)
	if err != nil {
		return rempart.GrantSettings{}, err
	}
	gs := rempart.GrantSettings{TenantID: scope.TenantID(), RequireApproval: in.RequireApproval, UpdatedAt: s.clock.Now()}
	e.Reason = "require_approval=false"
	if gs.RequireApproval {
		e.Reason = "require_approval=true"
	}
	if err := s.store.SetGrantSettings(ctx, scope, e, gs); err != nil {
		return rempart.GrantSettings{}, err
	}
	return gs, nil
}
