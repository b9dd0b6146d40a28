package client

import (
	"context"
	"net/http"

	"github.com/rempart/rempart"
)

// peopleSegs is the path of a tenant's people, or the staff's for "".
func peopleSegs(tenant string, rest ...string) []string {
	if tenant == "" {
		return append([]string{"staff"}, rest...)
	}
	return append([]string{"tenants", tenant}, rest...)
}

// SignIn exchanges a person's email and password for an API access token
// (at most one hour); use it with WithKey.
func (c *Client) SignIn(ctx context.Context, in rempart.SignIn) (rempart.SessionCreated, error) {
	var out rempart.SessionCreated
	b, err := jsonBody(in)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{method: http.MethodPost, segs: []string{"sessions"}, body: b, want: http.StatusCreated}, &out)
	return out, err
}

// ChangePassword replaces a person's password, given the current one.
func (c *Client) ChangePassword(ctx context.Context, in rempart.PasswordChange) error {
	b, err := jsonBody(in)
	if err != nil {
		return err
	}
	return c.call(ctx, request{method: http.MethodPost, segs: []string{"password"}, body: b, want: http.StatusNoContent}, nil)
}

// AcceptInvitation turns an invitation token into a user.
func (c *Client) AcceptInvitation(ctx context.Context, in rempart.InvitationAccept) (rempart.User, error) {
	var out rempart.User
	b, err := jsonBody(in)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{method: http.MethodPost, segs: []string{"invitations", "accept"}, body: b, want: http.StatusCreated}, &out)
	return out, err
}

// Me returns the signed-in person.
func (c *Client) Me(ctx context.Context) (rempart.User, error) {
	var out rempart.User
	err := c.call(ctx, request{method: http.MethodGet, segs: []string{"me"}, want: http.StatusOK}, &out)
	return out, err
}

// Sessions lists the signed-in person's sessions.
func (c *Client) Sessions(ctx context.Context) ([]rempart.Session, error) {
	var out rempart.SessionList
	err := c.call(ctx, request{method: http.MethodGet, segs: []string{"me", "sessions"}, want: http.StatusOK}, &out)
	return out.Sessions, err
}

// RevokeSession ends one of the signed-in person's sessions.
func (c *Client) RevokeSession(ctx context.Context, id string) error {
	return c.call(ctx, request{method: http.MethodDelete, segs: []string{"me", "sessions", id}, want: http.StatusNoContent}, nil)
}

// Invite invites a person to a tenant, or to the staff for tenant "".
// When the deployment mails invitations the answer has Mailed set and no
// Token; otherwise Token is the one-time token to pass on.
func (c *Client) Invite(ctx context.Context, tenant string, in rempart.InvitationCreate) (rempart.InvitationCreated, error) {
	var out rempart.InvitationCreated
	b, err := jsonBody(in)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{method: http.MethodPost, segs: peopleSegs(tenant, "invitations"), body: b, want: http.StatusCreated}, &out)
	return out, err
}

// Invitations lists a tenant's (or the staff's, for "") invitations.
func (c *Client) Invitations(ctx context.Context, tenant string) ([]rempart.Invitation, error) {
	var out rempart.InvitationList
	err := c.call(ctx, request{method: http.MethodGet, segs: peopleSegs(tenant, "invitations"), want: http.StatusOK}, &out)
	return out.Invitations, err
}

// RevokeInvitation withdraws a pending invitation of a tenant (or of the
// staff, for "").
func (c *Client) RevokeInvitation(ctx context.Context, tenant, id string) error {
	return c.call(ctx, request{method: http.MethodDelete, segs: peopleSegs(tenant, "invitations", id), want: http.StatusNoContent}, nil)
}

// ApproveInvitation approves an invitation for a privileged role that
// another person made (IAM-10). When the deployment mails invitations the
// answer has Mailed set; otherwise Token is the one-time token, shown only
// to the approver, to pass on.
func (c *Client) ApproveInvitation(ctx context.Context, tenant, id string, in rempart.RoleChangeDecision) (rempart.InvitationCreated, error) {
	var out rempart.InvitationCreated
	b, err := jsonBody(in)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{method: http.MethodPost, segs: peopleSegs(tenant, "invitations", id, "approve"), body: b, want: http.StatusOK}, &out)
	return out, err
}

// RejectInvitation rejects an invitation pending approval: it never becomes
// usable.
func (c *Client) RejectInvitation(ctx context.Context, tenant, id string, in rempart.RoleChangeDecision) (rempart.Invitation, error) {
	var out rempart.Invitation
	b, err := jsonBody(in)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{method: http.MethodPost, segs: peopleSegs(tenant, "invitations", id, "reject"), body: b, want: http.StatusOK}, &out)
	return out, err
}

// Users lists a tenant's (or the staff's, for "") users.
func (c *Client) Users(ctx context.Context, tenant string) ([]rempart.User, error) {
	var out rempart.UserList
	err := c.call(ctx, request{method: http.MethodGet, segs: peopleSegs(tenant, "users"), want: http.StatusOK}, &out)
	return out.Users, err
}

// SuspendUser suspends a user; every session of the user ends at once.
func (c *Client) SuspendUser(ctx context.Context, tenant, id string) error {
	return c.call(ctx, request{method: http.MethodPost, segs: peopleSegs(tenant, "users", id, "suspend"), want: http.StatusNoContent}, nil)
}

// RevokeAccess offboards a user of tenant ("" for staff), or cuts off a
// suspected compromise: every session, token, second factor, recovery code
// and grant is revoked at once (IAM-8). It returns what was revoked.
func (c *Client) RevokeAccess(ctx context.Context, tenant, id string, in rempart.RevocationRequest) (rempart.Revocation, error) {
	var out rempart.Revocation
	b, err := jsonBody(in)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{method: http.MethodPost, segs: peopleSegs(tenant, "users", id, "revoke-access"), body: b, want: http.StatusOK}, &out)
	return out, err
}

// ReactivateUser reactivates a suspended user.
func (c *Client) ReactivateUser(ctx context.Context, tenant, id string) error {
	return c.call(ctx, request{method: http.MethodPost, segs: peopleSegs(tenant, "users", id, "reactivate"), want: http.StatusNoContent}, nil)
}

// PasswordPolicy returns a tenant's password policy overrides and the
// policy in effect for its users (IAM-3).
func (c *Client) PasswordPolicy(ctx context.Context, tenant string) (rempart.PasswordPolicyInfo, error) {
	var out rempart.PasswordPolicyInfo
	err := c.call(ctx, request{method: http.MethodGet, segs: []string{"tenants", tenant, "password-policy"}, want: http.StatusOK}, &out)
	return out, err
}

// SetPasswordPolicy replaces a tenant's password policy overrides.
func (c *Client) SetPasswordPolicy(ctx context.Context, tenant string, in rempart.TenantPasswordPolicy) (rempart.PasswordPolicyInfo, error) {
	var out rempart.PasswordPolicyInfo
	b, err := jsonBody(in)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{method: http.MethodPut, segs: []string{"tenants", tenant, "password-policy"}, body: b, want: http.StatusOK}, &out)
	return out, err
}

// CreatePersonalKey issues an API key for the signed-in person (IAM-6),
// from a session with a recent second factor when the person has one. The
// secret is in the answer only.
func (c *Client) CreatePersonalKey(ctx context.Context, in rempart.PersonalKeyCreate) (rempart.PersonalKeyCreated, error) {
	var out rempart.PersonalKeyCreated
	b, err := jsonBody(in)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{method: http.MethodPost, segs: []string{"me", "api-keys"}, body: b, want: http.StatusCreated}, &out)
	return out, err
}

// PersonalKeys lists the signed-in person's API keys that still work,
// without their secrets.
func (c *Client) PersonalKeys(ctx context.Context) ([]rempart.PersonalKey, error) {
	var out rempart.PersonalKeyList
	err := c.call(ctx, request{method: http.MethodGet, segs: []string{"me", "api-keys"}, want: http.StatusOK}, &out)
	return out.Keys, err
}

// RevokePersonalKey revokes one of the signed-in person's API keys at once.
func (c *Client) RevokePersonalKey(ctx context.Context, id string) error {
	return c.call(ctx, request{method: http.MethodDelete, segs: []string{"me", "api-keys", id}, want: http.StatusNoContent}, nil)
}
