package client

import (
	"context"
	"net/http"

	"github.com/rempart/rempart"
)

// KeyInventory returns the root key's versions and every tenant's keys
// (system admin); never key material.
func (c *Client) KeyInventory(ctx context.Context) (rempart.KeyInventory, error) {
	var out rempart.KeyInventory
	err := c.call(ctx, request{method: http.MethodGet, segs: []string{"keys"}, want: http.StatusOK}, &out)
	return out, err
}

// RotateRootKey makes a new root key version active and returns the job that
// re-wraps every key under it (system admin).
func (c *Client) RotateRootKey(ctx context.Context) (rempart.Job, error) {
	var out rempart.Job
	err := c.call(ctx, request{method: http.MethodPost, segs: []string{"keys", "root", "rotate"}, want: http.StatusAccepted}, &out)
	return out, err
}

// TenantKeys returns a tenant's keys (its admins, system admins).
func (c *Client) TenantKeys(ctx context.Context, tenant string) (rempart.TenantKeys, error) {
	var out rempart.TenantKeys
	err := c.call(ctx, request{method: http.MethodGet, segs: []string{"tenants", tenant, "keys"}, want: http.StatusOK}, &out)
	return out, err
}

// RotateTenantKeys makes new keys active for a tenant and returns the job
// that re-seals its data under them.
func (c *Client) RotateTenantKeys(ctx context.Context, tenant string) (rempart.Job, error) {
	var out rempart.Job
	err := c.call(ctx, request{method: http.MethodPost, segs: []string{"tenants", tenant, "keys", "rotate"}, want: http.StatusAccepted}, &out)
	return out, err
}

// SetCustomerKey makes the tenant's own key, at uri, wrap its keys.
func (c *Client) SetCustomerKey(ctx context.Context, tenant, uri string) (rempart.TenantKeys, error) {
	var out rempart.TenantKeys
	b, err := jsonBody(rempart.CustomerKeySet{URI: uri})
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{method: http.MethodPut, segs: []string{"tenants", tenant, "keys", "customer"}, body: b, want: http.StatusOK}, &out)
	return out, err
}

// RemoveCustomerKey goes back to the deployment's root key for a tenant.
func (c *Client) RemoveCustomerKey(ctx context.Context, tenant string) (rempart.TenantKeys, error) {
	var out rempart.TenantKeys
	err := c.call(ctx, request{method: http.MethodDelete, segs: []string{"tenants", tenant, "keys", "customer"}, want: http.StatusOK}, &out)
	return out, err
}
