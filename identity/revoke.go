package identity

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/rempart/rempart"
)

// RevokeAccess is the one action for a person who leaves (kind offboard) or
// whose account is suspected compromised (kind compromise): in one
// transaction it suspends the user and revokes every session and API
// access token, personal API key, second factor, recovery code and staff grant not yet over;
// offboarding also removes the password (IAM-8, PPL-3). Sessions and grants
// are checked against the database on every request, on every node, so the
// revocation holds from the moment this returns. The audit entry
// (user.offboard or user.compromise) records the reason and what was
// revoked; the same counts are returned as evidence.
func (s *Service) RevokeAccess(ctx context.Context, c rempart.Caller, tenant, id string, in rempart.RevocationRequest) (rempart.Revocation, error) {
	action := map[string]string{rempart.RevokeOffboard: "user.offboard", rempart.RevokeCompromise: "user.compromise"}[in.Kind]
	if action == "" {
		return rempart.Revocation{}, rempart.Errorf(rempart.EINVALID, "kind must be %s or %s.", rempart.RevokeOffboard, rempart.RevokeCompromise)
	}
	e := c.Entry(tenant, action, peoplePath(tenant)+"/users/"+id)
	if err := s.authorizePeopleChange(ctx, c, tenant, e); err != nil {
		return rempart.Revocation{}, err
	}
	reason := strings.TrimSpace(in.Reason)
	if n := utf8.RuneCountInString(reason); n < 10 || n > 500 || strings.ContainsAny(reason, "\r\n\t") {
		return rempart.Revocation{}, s.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "reason must be 10 to 500 characters on one line."))
	}
	u, err := s.store.User(ctx, id)
	if rempart.ErrorCode(err) == rempart.ENOTFOUND || err == nil && u.TenantID != tenant {
		return rempart.Revocation{}, s.deny(ctx, e, rempart.Errorf(rempart.ENOTFOUND, "User not found."))
	} else if err != nil {
		return rempart.Revocation{}, err
	}
	if id == c.Principal.ID {
		return rempart.Revocation{}, s.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "You cannot revoke your own access; ask another administrator."))
	}
	e.Reason = reason
	r, err := s.store.RevokeAccess(ctx, e, tenant, id, in.Kind == rempart.RevokeOffboard)
	if err != nil {
		return rempart.Revocation{}, err
	}
	r.Kind, r.Reason = in.Kind, reason
	return r, nil
}
