package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/rempart/rempart"
)

// Staff access grants (IAM-7).

// RequestGrant asks for just-in-time access to a tenant's records (support
// and engineers).
func (c *Client) RequestGrant(ctx context.Context, in rempart.GrantCreate) (rempart.Grant, error) {
	var out rempart.Grant
	b, err := jsonBody(in)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{method: http.MethodPost, segs: []string{"grants"}, body: b, want: http.StatusCreated}, &out)
	return out, err
}

// Grants lists staff grants: all of them for security admins and auditors,
// one's own for requesters; tenant, if set, narrows the list.
func (c *Client) Grants(ctx context.Context, tenant string) ([]rempart.Grant, error) {
	var out rempart.GrantList
	req := request{method: http.MethodGet, segs: []string{"grants"}, want: http.StatusOK}
	if tenant != "" {
		req.query = url.Values{"tenant": {tenant}}
	}
	err := c.call(ctx, req, &out)
	return out.Grants, err
}

// Grant returns one staff grant.
func (c *Client) Grant(ctx context.Context, id string) (rempart.Grant, error) {
	var out rempart.Grant
	err := c.call(ctx, request{method: http.MethodGet, segs: []string{"grants", id}, want: http.StatusOK}, &out)
	return out, err
}

func (c *Client) grantStep(ctx context.Context, segs ...string) (rempart.Grant, error) {
	var out rempart.Grant
	err := c.call(ctx, request{method: http.MethodPost, segs: segs, want: http.StatusOK}, &out)
	return out, err
}

// ApproveGrant approves a grant as a security admin (never its requester).
func (c *Client) ApproveGrant(ctx context.Context, id string) (rempart.Grant, error) {
	return c.grantStep(ctx, "grants", id, "approve")
}

// DenyGrant refuses a pending grant as a security admin.
func (c *Client) DenyGrant(ctx context.Context, id string) (rempart.Grant, error) {
	return c.grantStep(ctx, "grants", id, "deny")
}

// RevokeGrant ends a grant at once (its requester or a security admin).
func (c *Client) RevokeGrant(ctx context.Context, id string) (rempart.Grant, error) {
	return c.grantStep(ctx, "grants", id, "revoke")
}

// TenantGrants lists every staff grant on a tenant (its admins).
func (c *Client) TenantGrants(ctx context.Context, tenant string) ([]rempart.Grant, error) {
	var out rempart.GrantList
	err := c.call(ctx, request{method: http.MethodGet, segs: []string{"tenants", tenant, "grants"}, want: http.StatusOK}, &out)
	return out.Grants, err
}

// TenantGrant returns a grant on a tenant with every access made under it.
func (c *Client) TenantGrant(ctx context.Context, tenant, id string) (rempart.GrantDetail, error) {
	var out rempart.GrantDetail
	err := c.call(ctx, request{method: http.MethodGet, segs: []string{"tenants", tenant, "grants", id}, want: http.StatusOK}, &out)
	return out, err
}

// TenantApproveGrant approves a grant as the tenant, when it requires so.
func (c *Client) TenantApproveGrant(ctx context.Context, tenant, id string) (rempart.Grant, error) {
	return c.grantStep(ctx, "tenants", tenant, "grants", id, "approve")
}

// TenantDenyGrant refuses a pending grant as the tenant.
func (c *Client) TenantDenyGrant(ctx context.Context, tenant, id string) (rempart.Grant, error) {
	return c.grantStep(ctx, "tenants", tenant, "grants", id, "deny")
}

// TenantRevokeGrant ends a grant on the tenant at once.
func (c *Client) TenantRevokeGrant(ctx context.Context, tenant, id string) (rempart.Grant, error) {
	return c.grantStep(ctx, "tenants", tenant, "grants", id, "revoke")
}

// GrantSettings returns a tenant's rule for staff grants.
func (c *Client) GrantSettings(ctx context.Context, tenant string) (rempart.GrantSettings, error) {
	var out rempart.GrantSettings
	err := c.call(ctx, request{method: http.MethodGet, segs: []string{"tenants", tenant, "grant-settings"}, want: http.StatusOK}, &out)
	return out, err
}

// SetGrantSettings sets whether a tenant admin must approve every new grant
// on the tenant.
func (c *Client) SetGrantSettings(ctx context.Context, tenant string, requireApproval bool) (rempart.GrantSettings, error) {
	var out rempart.GrantSettings
	b, err := jsonBody(map[string]bool{"require_approval": requireApproval})
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{method: http.MethodPut, segs: []string{"tenants", tenant, "grant-settings"}, body: b, want: http.StatusOK}, &out)
	return out, err
}
