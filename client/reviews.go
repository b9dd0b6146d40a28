package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/rempart/rempart"
)

// Role changes (IAM-10) and access reviews (IAM-9) of a tenant, or of the
// staff for tenant "".

// RoleChanges lists a scope's role change requests, newest first.
func (c *Client) RoleChanges(ctx context.Context, tenant string) ([]rempart.RoleChange, error) {
	var out rempart.RoleChangeList
	err := c.call(ctx, request{method: http.MethodGet, segs: peopleSegs(tenant, "role-changes"), want: http.StatusOK}, &out)
	return out.RoleChanges, err
}

// RequestRoleChange asks for an account's role to change; another person
// approves.
func (c *Client) RequestRoleChange(ctx context.Context, tenant string, in rempart.RoleChangeCreate) (rempart.RoleChange, error) {
	var out rempart.RoleChange
	b, err := jsonBody(in)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{method: http.MethodPost, segs: peopleSegs(tenant, "role-changes"), body: b, want: http.StatusCreated}, &out)
	return out, err
}

// ApproveRoleChange approves a pending request: the role changes now.
func (c *Client) ApproveRoleChange(ctx context.Context, tenant, id string, in rempart.RoleChangeDecision) (rempart.RoleChange, error) {
	return c.decideRoleChange(ctx, tenant, id, "approve", in)
}

// RejectRoleChange rejects a pending request.
func (c *Client) RejectRoleChange(ctx context.Context, tenant, id string, in rempart.RoleChangeDecision) (rempart.RoleChange, error) {
	return c.decideRoleChange(ctx, tenant, id, "reject", in)
}

func (c *Client) decideRoleChange(ctx context.Context, tenant, id, verb string, in rempart.RoleChangeDecision) (rempart.RoleChange, error) {
	var out rempart.RoleChange
	b, err := jsonBody(in)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{method: http.MethodPost, segs: peopleSegs(tenant, "role-changes", id, verb), body: b, want: http.StatusOK}, &out)
	return out, err
}

// Campaigns lists a scope's access review campaigns, newest first.
func (c *Client) Campaigns(ctx context.Context, tenant string) ([]rempart.Campaign, error) {
	var out rempart.CampaignList
	err := c.call(ctx, request{method: http.MethodGet, segs: peopleSegs(tenant, "access-reviews"), want: http.StatusOK}, &out)
	return out.Campaigns, err
}

// CreateCampaign opens an access review campaign of a scope.
func (c *Client) CreateCampaign(ctx context.Context, tenant string, in rempart.CampaignCreate) (rempart.Campaign, error) {
	var out rempart.Campaign
	b, err := jsonBody(in)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{method: http.MethodPost, segs: peopleSegs(tenant, "access-reviews"), body: b, want: http.StatusCreated}, &out)
	return out, err
}

// Campaign returns a campaign with its accounts and decisions.
func (c *Client) Campaign(ctx context.Context, tenant, id string) (rempart.CampaignDetail, error) {
	var out rempart.CampaignDetail
	err := c.call(ctx, request{method: http.MethodGet, segs: peopleSegs(tenant, "access-reviews", id), want: http.StatusOK}, &out)
	return out, err
}

// DecideReviewItem records a decision on one account of a campaign.
func (c *Client) DecideReviewItem(ctx context.Context, tenant, campaign, principal string, in rempart.ReviewDecision) (rempart.ReviewDecided, error) {
	var out rempart.ReviewDecided
	b, err := jsonBody(in)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{method: http.MethodPost, segs: peopleSegs(tenant, "access-reviews", campaign, "items", principal), body: b, want: http.StatusOK}, &out)
	return out, err
}

// ExportCampaign writes a closed campaign's evidence to w, in format "csv"
// or "json".
func (c *Client) ExportCampaign(ctx context.Context, tenant, id, format string, w io.Writer) error {
	resp, err := c.do(ctx, request{method: http.MethodGet, segs: peopleSegs(tenant, "access-reviews", id, "export"), query: url.Values{"format": {format}},
		accept: "text/csv, application/json, application/problem+json", want: http.StatusOK})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("access review export: %w", err)
	}
	return nil
}
