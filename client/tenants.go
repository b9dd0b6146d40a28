package client

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/rempart/rempart"
)

// Bootstrap exchanges the one-time bootstrap token printed by the server's
// first start for the first administrator and its API key. It sends token
// instead of the client's API key.
func (c *Client) Bootstrap(ctx context.Context, token string) (rempart.Bootstrapped, error) {
	var out rempart.Bootstrapped
	if token == "" {
		return out, rempart.Errorf(rempart.EINVALID, "The bootstrap token is empty.")
	}
	err := c.call(ctx, request{method: http.MethodPost, segs: []string{"bootstrap"}, bearer: token, want: http.StatusCreated}, &out)
	return out, err
}

// OpenAPI returns the server's OpenAPI document.
func (c *Client) OpenAPI(ctx context.Context) (json.RawMessage, error) {
	var out json.RawMessage
	err := c.call(ctx, request{method: http.MethodGet, segs: []string{"openapi.json"}, want: http.StatusOK}, &out)
	return out, err
}

// ListTenants returns every tenant (system admin).
func (c *Client) ListTenants(ctx context.Context) ([]rempart.Tenant, error) {
	var out struct {
		Tenants []rempart.Tenant `json:"tenants"`
	}
	err := c.call(ctx, request{method: http.MethodGet, segs: []string{"tenants"}, want: http.StatusOK}, &out)
	return out.Tenants, err
}

// CreateTenant creates a tenant (system admin).
func (c *Client) CreateTenant(ctx context.Context, in rempart.TenantCreate) (rempart.Tenant, error) {
	return c.tenantCall(ctx, http.MethodPost, http.StatusCreated, in, "tenants")
}

// GetTenant returns one tenant.
func (c *Client) GetTenant(ctx context.Context, tenant string) (rempart.Tenant, error) {
	return c.tenantCall(ctx, http.MethodGet, http.StatusOK, nil, "tenants", tenant)
}

// SuspendTenant suspends a tenant: its principals are refused until it is
// resumed (system admin).
func (c *Client) SuspendTenant(ctx context.Context, tenant string) (rempart.Tenant, error) {
	return c.tenantCall(ctx, http.MethodPost, http.StatusOK, nil, "tenants", tenant, "suspend")
}

// ResumeTenant lifts a suspension (system admin).
func (c *Client) ResumeTenant(ctx context.Context, tenant string) (rempart.Tenant, error) {
	return c.tenantCall(ctx, http.MethodPost, http.StatusOK, nil, "tenants", tenant, "resume")
}

// DeleteTenant deletes a tenant and destroys its keys (system admin).
func (c *Client) DeleteTenant(ctx context.Context, tenant string) error {
	return c.call(ctx, request{method: http.MethodDelete, segs: []string{"tenants", tenant}, want: http.StatusNoContent}, nil)
}

func (c *Client) tenantCall(ctx context.Context, method string, want int, in any, segs ...string) (rempart.Tenant, error) {
	var out rempart.Tenant
	req := request{method: method, segs: segs, want: want}
	if in != nil {
		b, err := jsonBody(in)
		if err != nil {
			return out, err
		}
		req.body = b
	}
	err := c.call(ctx, req, &out)
	return out, err
}

// ListServiceAccounts returns a tenant's service accounts.
func (c *Client) ListServiceAccounts(ctx context.Context, tenant string) ([]rempart.ServiceAccount, error) {
	var out struct {
		ServiceAccounts []rempart.ServiceAccount `json:"service_accounts"`
	}
	err := c.call(ctx, request{method: http.MethodGet, segs: []string{"tenants", tenant, "service-accounts"}, want: http.StatusOK}, &out)
	return out.ServiceAccounts, err
}

// CreateServiceAccount creates a service account with one of
// rempart.TenantRoles.
func (c *Client) CreateServiceAccount(ctx context.Context, tenant string, in rempart.ServiceAccountCreate) (rempart.ServiceAccount, error) {
	var out rempart.ServiceAccount
	b, err := jsonBody(in)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{method: http.MethodPost, segs: []string{"tenants", tenant, "service-accounts"}, body: b, want: http.StatusCreated}, &out)
	return out, err
}

// DeleteServiceAccount removes a service account; its keys stop working at
// once.
func (c *Client) DeleteServiceAccount(ctx context.Context, tenant, account string) error {
	return c.call(ctx, request{method: http.MethodDelete, segs: []string{"tenants", tenant, "service-accounts", account}, want: http.StatusNoContent}, nil)
}

// ListAPIKeys returns the keys of a service account (never their secrets).
func (c *Client) ListAPIKeys(ctx context.Context, tenant, account string) ([]rempart.APIKey, error) {
	var out struct {
		Keys []rempart.APIKey `json:"keys"`
	}
	err := c.call(ctx, request{method: http.MethodGet, segs: []string{"tenants", tenant, "service-accounts", account, "keys"}, want: http.StatusOK}, &out)
	return out.Keys, err
}

// CreateAPIKey issues a key for a service account; the answer holds its
// secret, shown this once.
func (c *Client) CreateAPIKey(ctx context.Context, tenant, account string, in rempart.APIKeyCreate) (rempart.APIKeyCreated, error) {
	var out rempart.APIKeyCreated
	b, err := jsonBody(in)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{method: http.MethodPost, segs: []string{"tenants", tenant, "service-accounts", account, "keys"}, body: b, want: http.StatusCreated}, &out)
	return out, err
}

// RevokeAPIKey revokes a key at once.
func (c *Client) RevokeAPIKey(ctx context.Context, tenant, account, key string) error {
	return c.call(ctx, request{method: http.MethodDelete, segs: []string{"tenants", tenant, "service-accounts", account, "keys", key}, want: http.StatusNoContent}, nil)
}
