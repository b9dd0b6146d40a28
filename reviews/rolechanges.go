package reviews

import (
	"context"

	"github.com/rempart/rempart"
)

// Role changes (IAM-10): request → approval → change. The role of an account
// changes only when a second authorised person approves: never the one who
// asked, never the account's own holder. The change and its audit entry are
// one transaction; sessions and keys read their principal's role on every
// request, so the subject's open sessions act with the new role at once.

// RequestRoleChange asks for the role of a user or service account of a
// scope ("" staff) to change, with a reason.
func (s *Service) RequestRoleChange(ctx context.Context, c rempart.Caller, tenant string, in rempart.RoleChangeCreate) (rempart.RoleChange, error) {
	rc := rempart.RoleChange{ID: rempart.NewID("rch"), TenantID: tenant, PrincipalID: in.PrincipalID, ToRole: in.Role,
		RequestedBy: c.Principal.ID, RequestedAt: s.clock.Now(), Status: rempart.RoleChangePending}
	e := c.Entry(tenant, "role_change.request", scopePath(tenant)+"/role-changes/"+rc.ID)
	if err := s.authorizeChange(ctx, c, tenant, e); err != nil {
		return rempart.RoleChange{}, err
	}
	if err := s.fillRequest(ctx, tenant, &rc, in.Reason); err != nil {
		return rempart.RoleChange{}, s.deny(ctx, e, err)
	}
	e.Reason = rc.PrincipalID + ": " + rc.FromRole + " → " + rc.ToRole
	if err := s.store.CreateRoleChange(ctx, e, rc); err != nil {
		return rempart.RoleChange{}, err
	}
	return rc, nil
}

// fillRequest validates a request of rc.PrincipalID to rc.ToRole and fills
// in the subject's current role and name.
func (s *Service) fillRequest(ctx context.Context, tenant string, rc *rempart.RoleChange, reason string) error {
	var err error
	if rc.Reason, err = text("reason", reason, 1, 500); err != nil {
		return err
	}
	if err := validRole(tenant, rc.ToRole); err != nil {
		return err
	}
	a, err := s.store.ReviewAccount(ctx, tenant, rc.PrincipalID)
	if err != nil {
		return err
	}
	if a.Principal.Role == rc.ToRole {
		return rempart.Errorf(rempart.EINVALID, "%s already has the role %s.", a.Principal.Name, rc.ToRole)
	}
	rc.FromRole, rc.SubjectName = a.Principal.Role, a.Principal.Name
	return nil
}

// RoleChanges lists a scope's role change requests, newest first.
func (s *Service) RoleChanges(ctx context.Context, c rempart.Caller, tenant string) ([]rempart.RoleChange, error) {
	e := c.Entry(tenant, "role_change.list", scopePath(tenant)+"/role-changes")
	if err := s.authorize(ctx, c, tenant, e); err != nil {
		return nil, err
	}
	out, err := s.store.RoleChanges(ctx, tenant, maxList)
	if err != nil {
		return nil, err
	}
	_, err = s.store.Audit(ctx, e)
	return out, err
}

// ApproveRoleChange approves a pending request: the role changes now.
func (s *Service) ApproveRoleChange(ctx context.Context, c rempart.Caller, tenant, id string, in rempart.RoleChangeDecision) (rempart.RoleChange, error) {
	return s.decideRoleChange(ctx, c, tenant, id, rempart.RoleChangeApproved, in)
}

// RejectRoleChange rejects a pending request: the role stays.
func (s *Service) RejectRoleChange(ctx context.Context, c rempart.Caller, tenant, id string, in rempart.RoleChangeDecision) (rempart.RoleChange, error) {
	return s.decideRoleChange(ctx, c, tenant, id, rempart.RoleChangeRejected, in)
}

func (s *Service) decideRoleChange(ctx context.Context, c rempart.Caller, tenant, id, status string, in rempart.RoleChangeDecision) (rempart.RoleChange, error) {
	action := map[string]string{rempart.RoleChangeApproved: "role_change.approve", rempart.RoleChangeRejected: "role_change.reject"}[status]
	e := c.Entry(tenant, action, scopePath(tenant)+"/role-changes/"+id)
	if err := s.authorizeChange(ctx, c, tenant, e); err != nil {
		return rempart.RoleChange{}, err
	}
	note, err := text("note", in.Note, 0, 500)
	if err != nil {
		return rempart.RoleChange{}, s.deny(ctx, e, err)
	}
	rc, err := s.store.RoleChange(ctx, tenant, id)
	if rempart.ErrorCode(err) == rempart.ENOTFOUND {
		return rempart.RoleChange{}, s.deny(ctx, e, err)
	} else if err != nil {
		return rempart.RoleChange{}, err
	}
	e.Reason = rc.PrincipalID + ": " + rc.FromRole + " → " + rc.ToRole
	switch {
	case rc.Status != rempart.RoleChangePending:
		return rempart.RoleChange{}, s.deny(ctx, e, rempart.Errorf(rempart.ECONFLICT, "This request was already %s.", rc.Status))
	case rc.RequestedBy == c.Principal.ID:
		e.Reason += "; the requester cannot decide"
		return rempart.RoleChange{}, s.deny(ctx, e, rempart.Errorf(rempart.EFORBIDDEN, "Another person must decide on a request you made."))
	case rc.PrincipalID == c.Principal.ID:
		e.Reason += "; the subject cannot decide"
		return rempart.RoleChange{}, s.deny(ctx, e, rempart.Errorf(rempart.EFORBIDDEN, "Another person must decide on a change of your own role."))
	}
	now := s.clock.Now()
	if err := s.store.DecideRoleChange(ctx, e, tenant, id, status, c.Principal.ID, note, now); err != nil {
		return rempart.RoleChange{}, err
	}
	rc.Status, rc.DecidedBy, rc.DecidedAt, rc.Note = status, c.Principal.ID, &now, note
	return rc, nil
}

// Accounts lists the live accounts of a scope whose role may be changed, for
// the request form.
func (s *Service) Accounts(ctx context.Context, c rempart.Caller, tenant string) ([]Account, error) {
	e := c.Entry(tenant, "role_change.accounts", scopePath(tenant)+"/role-changes")
	if err := s.authorize(ctx, c, tenant, e); err != nil {
		return nil, err
	}
	out, err := s.store.ReviewAccounts(ctx, tenant)
	if err != nil {
		return nil, err
	}
	_, err = s.store.Audit(ctx, e)
	return out, err
}
