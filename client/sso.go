package client

import (
	"context"
	"net/http"

	"github.com/rempart/rempart"
)

// Single sign-on providers (IAM-5) of a tenant, or of the staff for tenant
// "": OpenID providers, or SAML 2.0 identity providers (Protocol "saml",
// with their metadata). A client secret is sent, never returned.

// SSOProviders lists the providers.
func (c *Client) SSOProviders(ctx context.Context, tenant string) ([]rempart.SSOProvider, error) {
	var out rempart.SSOProviderList
	err := c.call(ctx, request{method: http.MethodGet, segs: peopleSegs(tenant, "sso", "providers"), want: http.StatusOK}, &out)
	return out.Providers, err
}

// CreateSSOProvider configures a provider; the server checks its discovery
// document (OpenID) or its metadata (SAML) first.
func (c *Client) CreateSSOProvider(ctx context.Context, tenant string, in rempart.SSOProviderInput) (rempart.SSOProvider, error) {
	var out rempart.SSOProvider
	b, err := jsonBody(in)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{method: http.MethodPost, segs: peopleSegs(tenant, "sso", "providers"), body: b, want: http.StatusCreated}, &out)
	return out, err
}

// SSOProvider returns one provider.
func (c *Client) SSOProvider(ctx context.Context, tenant, id string) (rempart.SSOProvider, error) {
	var out rempart.SSOProvider
	err := c.call(ctx, request{method: http.MethodGet, segs: peopleSegs(tenant, "sso", "providers", id), want: http.StatusOK}, &out)
	return out, err
}

// UpdateSSOProvider replaces a provider's settings; an empty client secret
// keeps the stored one.
func (c *Client) UpdateSSOProvider(ctx context.Context, tenant, id string, in rempart.SSOProviderInput) (rempart.SSOProvider, error) {
	var out rempart.SSOProvider
	b, err := jsonBody(in)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{method: http.MethodPut, segs: peopleSegs(tenant, "sso", "providers", id), body: b, want: http.StatusOK}, &out)
	return out, err
}

// DeleteSSOProvider removes a provider; its people keep their accounts.
func (c *Client) DeleteSSOProvider(ctx context.Context, tenant, id string) error {
	return c.call(ctx, request{method: http.MethodDelete, segs: peopleSegs(tenant, "sso", "providers", id), want: http.StatusNoContent}, nil)
}
