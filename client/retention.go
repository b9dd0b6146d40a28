package client

import (
	"context"
	"net/http"

	"github.com/rempart/rempart"
)

// Retention returns a tenant's retention rules, the default that applies to
// its collections without one, and the bounds of the values (its admins,
// system admins).
func (c *Client) Retention(ctx context.Context, tenant string) (rempart.Retention, error) {
	var out rempart.Retention
	err := c.call(ctx, request{method: http.MethodGet, segs: []string{"tenants", tenant, "retention"}, want: http.StatusOK}, &out)
	return out, err
}

// SetRetentionDefault sets a tenant's default rule, for its collections
// without a rule of their own.
func (c *Client) SetRetentionDefault(ctx context.Context, tenant string, in rempart.RetentionRuleSet) (rempart.RetentionRule, error) {
	return c.putRule(ctx, in, "tenants", tenant, "retention")
}

// DeleteRetentionDefault removes a tenant's default rule: the deployment's
// retention applies again to its collections without a rule.
func (c *Client) DeleteRetentionDefault(ctx context.Context, tenant string) error {
	return c.call(ctx, request{method: http.MethodDelete, segs: []string{"tenants", tenant, "retention"}, want: http.StatusNoContent}, nil)
}

// SetRetentionRule sets the rule of one of a tenant's collections.
func (c *Client) SetRetentionRule(ctx context.Context, tenant, collection string, in rempart.RetentionRuleSet) (rempart.RetentionRule, error) {
	return c.putRule(ctx, in, "tenants", tenant, "retention", collection)
}

// DeleteRetentionRule removes the rule of a tenant's collection.
func (c *Client) DeleteRetentionRule(ctx context.Context, tenant, collection string) error {
	return c.call(ctx, request{method: http.MethodDelete, segs: []string{"tenants", tenant, "retention", collection}, want: http.StatusNoContent}, nil)
}

func (c *Client) putRule(ctx context.Context, in rempart.RetentionRuleSet, segs ...string) (rempart.RetentionRule, error) {
	var out rempart.RetentionRule
	b, err := jsonBody(in)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{method: http.MethodPut, segs: segs, body: b, want: http.StatusOK}, &out)
	return out, err
}
