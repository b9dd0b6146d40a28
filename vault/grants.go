package vault

import (
	"context"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
)

// GrantLookup finds the grants a staff principal holds on a tenant
// (IAM-7): those not revoked, denied or past their expiry at now. guard
// decides which, if any, covers the access.
type GrantLookup interface {
	ActiveGrants(ctx context.Context, principalID, tenantID string, now time.Time) ([]rempart.Grant, error)
}

// underGrant authorises a staff caller's access to tenant t's records under
// one of its grants. Only staff get here (guard.NeedsGrant), so tenant
// principals pay no lookup. Without a grant that covers the access, the
// refusal is audited and a security event of its own is recorded, the way
// sign-in lockouts are, for monitoring to watch.
func (s *Service) underGrant(ctx context.Context, c rempart.Caller, t rempart.Tenant, p guard.Permission, e *rempart.AuditEntry) (guard.Scope, error) {
	now := s.clock.Now()
	var grants []rempart.Grant
	if s.grants != nil {
		var err error
		if grants, err = s.grants.ActiveGrants(ctx, c.Principal.ID, t.ID, now); err != nil {
			return guard.Scope{}, err
		}
	}
	scope, err := guard.AuthorizeGrant(c, t, p, grants, now)
	if err == nil {
		e.GrantID = scope.GrantID()
		return scope, nil
	}
	ev := *e
	ev.Action, ev.Outcome, ev.Reason = rempart.EventAccessWithoutGrant, rempart.OutcomeDenied, e.Action+" needs "+string(p)
	if _, aerr := s.store.Audit(ctx, ev); aerr != nil {
		return guard.Scope{}, aerr
	}
	return guard.Scope{}, s.deny(ctx, *e, err)
}
