// Package grants is the just-in-time access of the vendor's staff to a
// tenant's service data (IAM-7). Staff hold no standing access to any
// tenant's records: support and engineers ask for a grant (tenant, reason,
// scope read or write, 15 minutes to 8 hours), a security admin who is not
// the requester approves it, a tenant admin too when the tenant requires
// it, and the grant ends by itself at its expiry or at once when revoked.
// guard checks grants on every access (guard.AuthorizeGrant) and the audit
// entry of every access under one names it; tenant admins see every grant
// on their tenant and every access made under it (access transparency).
// Every step is audited, refusals too.
package grants

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
)

// Store is what grants need from storage. Writes take the audit entry that
// commits with them (AUD-1).
type Store interface {
	Audit(ctx context.Context, e rempart.AuditEntry) (rempart.AuditEntry, error)
	Tenant(ctx context.Context, id string) (rempart.Tenant, error)

	CreateGrant(ctx context.Context, e rempart.AuditEntry, g rempart.Grant) error
	// Grant returns one grant, or ENOTFOUND.
	Grant(ctx context.Context, id string) (rempart.Grant, error)
	// Grants lists grants newest first, of one tenant and/or one requester
	// when those are set, at most limit.
	Grants(ctx context.Context, q Query) ([]rempart.Grant, error)
	// UpdateGrant loads a grant in the write transaction, passes it to fn
	// and stores what fn leaves in it; fn's error aborts the change.
	UpdateGrant(ctx context.Context, e rempart.AuditEntry, id string, fn func(g *rempart.Grant) error) (rempart.Grant, error)
	// GrantSettings returns a tenant's settings (the zero rule when never
	// set).
	GrantSettings(ctx context.Context, tenantID string) (rempart.GrantSettings, error)
	SetGrantSettings(ctx context.Context, s guard.Scope, e rempart.AuditEntry, gs rempart.GrantSettings) error
	// GrantAccesses returns the audit entries of the scope's tenant that
	// name grant g, oldest first, at most limit.
	GrantAccesses(ctx context.Context, s guard.Scope, g rempart.Grant, limit int) ([]rempart.AuditEntry, error)
}

// Query selects grants.
type Query struct {
	TenantID    string
	RequesterID string
	Limit       int
}

// MaxList bounds a listing of grants, and of the accesses under one.
const MaxList = 500

// Service manages grants.
type Service struct {
	store Store
	clock rempart.Clock
}

// New returns the grants service.
func New(store Store, clock rempart.Clock) *Service { return &Service{store: store, clock: clock} }

func (s *Service) deny(ctx context.Context, e rempart.AuditEntry, err error) error {
	e.Outcome = rempart.OutcomeDenied
	switch rempart.ErrorCode(err) {
	case rempart.EFORBIDDEN, rempart.EUNAUTHORIZED, rempart.ENOTFOUND, rempart.EMFAREQUIRED:
	default:
		e.Outcome = rempart.OutcomeFailure
	}
	if e.Reason == "" {
		e.Reason = rempart.ErrorCode(err)
	}
	if _, aerr := s.store.Audit(ctx, e); aerr != nil {
		return aerr
	}
	return err
}

func resource(id string) string { return "grants/" + id }

// staff reports whether c is one of the vendor's staff.
func staff(c rempart.Caller) bool { return !c.Anonymous() && c.Principal.TenantID == "" }

func (s *Service) withStatus(g rempart.Grant) rempart.Grant {
	g.Status = g.StatusAt(s.clock.Now())
	return g
}

// Request asks for a grant. The tenant's "require our approval" setting at
// this moment decides whether a tenant admin must approve as well.
func (s *Service) Request(ctx context.Context, c rempart.Caller, in rempart.GrantCreate) (rempart.Grant, error) {
	id := rempart.NewID("grt")
	// The entry goes to the tenant's trail only once the caller is known to
	// be staff who may ask and the tenant exists: nobody else files entries
	// into a tenant's trail by naming it.
	e := c.Entry("", "grant.request", resource(id))
	if err := guard.AuthorizeSystem(c, guard.GrantsRequest); err != nil || !staff(c) {
		if err == nil {
			err = rempart.Errorf(rempart.EFORBIDDEN, "Only staff ask for access grants.")
		}
		return rempart.Grant{}, s.deny(ctx, e, err)
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if n := utf8.RuneCountInString(in.Reason); n < rempart.GrantReasonMin || n > rempart.GrantReasonMax || !utf8.ValidString(in.Reason) {
		return rempart.Grant{}, s.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "reason must be %d to %d characters: say why the access is needed (a ticket, an incident).", rempart.GrantReasonMin, rempart.GrantReasonMax))
	}
	perm := guard.RequestPermission(in.Scope)
	if perm == "" {
		return rempart.Grant{}, s.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "scope must be read or write."))
	}
	d := time.Duration(in.DurationMinutes) * time.Minute
	if d < rempart.GrantMinDuration || d > rempart.GrantMaxDuration {
		return rempart.Grant{}, s.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "duration_minutes must be between %d and %d.", int(rempart.GrantMinDuration/time.Minute), int(rempart.GrantMaxDuration/time.Minute)))
	}
	if err := guard.AuthorizeSystem(c, perm); err != nil {
		return rempart.Grant{}, s.deny(ctx, e, err)
	}
	t, err := s.store.Tenant(ctx, in.TenantID)
	if err != nil {
		if rempart.ErrorCode(err) == rempart.ENOTFOUND {
			return rempart.Grant{}, s.deny(ctx, e, err)
		}
		return rempart.Grant{}, err
	}
	e.TenantID = t.ID
	settings, err := s.store.GrantSettings(ctx, t.ID)
	if err != nil {
		return rempart.Grant{}, err
	}
	g := rempart.Grant{ID: id, TenantID: t.ID, RequesterID: c.Principal.ID, Reason: in.Reason, Scope: in.Scope, DurationMinutes: in.DurationMinutes,
		TenantApprovalRequired: settings.RequireApproval, CreatedAt: s.clock.Now()}
	e.Reason = in.Scope + " for " + d.String() + ": " + in.Reason
	if err := s.store.CreateGrant(ctx, e, g); err != nil {
		return rempart.Grant{}, err
	}
	return s.withStatus(g), nil
}

// List returns grants for staff: every grant to those who see them all
// (security admins, auditors), one's own to those who ask for them.
// tenant, if set, narrows the list.
func (s *Service) List(ctx context.Context, c rempart.Caller, tenant string) ([]rempart.Grant, error) {
	e := c.Entry("", "grant.list", "grants")
	q := Query{TenantID: tenant, Limit: MaxList}
	if err := guard.AuthorizeSystem(c, guard.GrantsRead); err != nil {
		if guard.AuthorizeSystem(c, guard.GrantsRequest) != nil || !staff(c) {
			return nil, s.deny(ctx, e, err)
		}
		q.RequesterID = c.Principal.ID
	}
	if len(tenant) > 128 {
		return nil, s.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "tenant is not a tenant ID."))
	}
	return s.list(ctx, e, q)
}

func (s *Service) list(ctx context.Context, e rempart.AuditEntry, q Query) ([]rempart.Grant, error) {
	out, err := s.store.Grants(ctx, q)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i] = s.withStatus(out[i])
	}
	if _, err := s.store.Audit(ctx, e); err != nil {
		return nil, err
	}
	return out, nil
}

// Get returns one grant to staff who may see it (see List).
func (s *Service) Get(ctx context.Context, c rempart.Caller, id string) (rempart.Grant, error) {
	e := c.Entry("", "grant.read", resource(id))
	g, err := s.staffGrant(ctx, c, id, &e, guard.GrantsRead)
	if err != nil {
		return g, err
	}
	if _, err := s.store.Audit(ctx, e); err != nil {
		return rempart.Grant{}, err
	}
	return s.withStatus(g), nil
}

// staffGrant authorises a staff caller on grant id: with perm, or as its
// requester. Unknown grants, and others' grants to a requester, are
// ENOTFOUND.
func (s *Service) staffGrant(ctx context.Context, c rempart.Caller, id string, e *rempart.AuditEntry, perm guard.Permission) (rempart.Grant, error) {
	full := guard.AuthorizeSystem(c, perm) == nil
	if !full && (guard.AuthorizeSystem(c, guard.GrantsRequest) != nil || !staff(c)) {
		return rempart.Grant{}, s.deny(ctx, *e, guard.AuthorizeSystem(c, perm))
	}
	g, err := s.store.Grant(ctx, id)
	if err == nil && !full && g.RequesterID != c.Principal.ID {
		err = rempart.Errorf(rempart.ENOTFOUND, "Grant not found.")
	}
	if err != nil {
		if rempart.ErrorCode(err) == rempart.ENOTFOUND {
			return rempart.Grant{}, s.deny(ctx, *e, err)
		}
		return rempart.Grant{}, err
	}
	e.TenantID = g.TenantID
	return g, nil
}

// Approve is a security admin's approval (never the requester's), from a
// session with a second factor proven recently, since it opens a tenant's
// data to a staff member (IAM-7, IAM-4, IAM-10). The grant becomes active
// now if the tenant's approval is not needed or already in.
func (s *Service) Approve(ctx context.Context, c rempart.Caller, id string) (rempart.Grant, error) {
	e := c.Entry("", "grant.approve", resource(id))
	if _, err := s.staffGrant(ctx, c, id, &e, guard.GrantsApprove); err != nil {
		return rempart.Grant{}, err
	}
	if err := guard.AuthorizeSystem(c, guard.GrantsApprove); err != nil {
		return rempart.Grant{}, s.deny(ctx, e, err)
	}
	if err := guard.StepUp(c); err != nil {
		return rempart.Grant{}, s.deny(ctx, e, err)
	}
	return s.update(ctx, e, id, func(g *rempart.Grant, now time.Time) error {
		if g.RequesterID == c.Principal.ID {
			return rempart.Errorf(rempart.EFORBIDDEN, "A grant is approved by someone other than its requester.")
		}
		if g.ApprovedAt != nil {
			return rempart.Errorf(rempart.ECONFLICT, "The grant is already approved by staff.")
		}
		g.ApprovedBy, g.ApprovedAt = c.Principal.ID, &now
		activate(g, now)
		return nil
	})
}

// activate starts the grant's time once every approval it needs is in.
func activate(g *rempart.Grant, now time.Time) {
	if g.ApprovedAt == nil || g.TenantApprovalRequired && g.TenantApprovedAt == nil {
		return
	}
	end := now.Add(time.Duration(g.DurationMinutes) * time.Minute)
	g.ActiveFrom, g.ExpiresAt = &now, &end
}

// update changes a pending grant (or, with anyState, a pending or active
// one) in one transaction; the change's refusal is audited.
func (s *Service) update(ctx context.Context, e rempart.AuditEntry, id string, fn func(g *rempart.Grant, now time.Time) error, anyState ...bool) (rempart.Grant, error) {
	now := s.clock.Now()
	var refused error
	g, err := s.store.UpdateGrant(ctx, e, id, func(g *rempart.Grant) error {
		st := g.StatusAt(now)
		if st != rempart.GrantPending && !(len(anyState) > 0 && st == rempart.GrantActive) {
			refused = rempart.Errorf(rempart.ECONFLICT, "The grant is %s.", st)
			return refused
		}
		if err := fn(g, now); err != nil {
			refused = err
			return err
		}
		return nil
	})
	if err != nil {
		if refused != nil || rempart.ErrorCode(err) == rempart.ENOTFOUND {
			return rempart.Grant{}, s.deny(ctx, e, err)
		}
		return rempart.Grant{}, err
	}
	return s.withStatus(g), nil
}

// Deny refuses a pending grant (a security admin; IAM-7).
func (s *Service) Deny(ctx context.Context, c rempart.Caller, id string) (rempart.Grant, error) {
	e := c.Entry("", "grant.deny", resource(id))
	if _, err := s.staffGrant(ctx, c, id, &e, guard.GrantsApprove); err != nil {
		return rempart.Grant{}, err
	}
	if err := guard.AuthorizeSystem(c, guard.GrantsApprove); err != nil {
		return rempart.Grant{}, s.deny(ctx, e, err)
	}
	return s.update(ctx, e, id, func(g *rempart.Grant, now time.Time) error {
		g.DeniedBy, g.DeniedAt = c.Principal.ID, &now
		return nil
	})
}

// Revoke ends a pending or active grant at once: its requester or a
// security admin (IAM-7, IAM-8).
func (s *Service) Revoke(ctx context.Context, c rempart.Caller, id string) (rempart.Grant, error) {
	e := c.Entry("", "grant.revoke", resource(id))
	if _, err := s.staffGrant(ctx, c, id, &e, guard.GrantsApprove); err != nil {
		return rempart.Grant{}, err
	}
	return s.update(ctx, e, id, revoke(c), true)
}

func revoke(c rempart.Caller) func(g *rempart.Grant, now time.Time) error {
	return func(g *rempart.Grant, now time.Time) error {
		g.RevokedBy, g.RevokedAt = c.Principal.ID, &now
		return nil
	}
}
