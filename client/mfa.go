package client

import (
	"context"
	"net/http"

	"github.com/rempart/rempart"
)

// Second factors (IAM-4).

// Factors lists the signed-in person's second factors.
func (c *Client) Factors(ctx context.Context) (rempart.FactorList, error) {
	var out rempart.FactorList
	err := c.call(ctx, request{method: http.MethodGet, segs: []string{"me", "factors"}, want: http.StatusOK}, &out)
	return out, err
}

// StartTOTP starts enrolling an authenticator app; confirm it with
// ConfirmFactor and a first code.
func (c *Client) StartTOTP(ctx context.Context, in rempart.TOTPStart) (rempart.TOTPEnrolment, error) {
	var out rempart.TOTPEnrolment
	b, err := jsonBody(in)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{method: http.MethodPost, segs: []string{"me", "factors", "totp"}, body: b, want: http.StatusCreated}, &out)
	return out, err
}

// ConfirmFactor completes an enrolment with a first code; the first factor
// comes with recovery codes.
func (c *Client) ConfirmFactor(ctx context.Context, id, code string) (rempart.FactorConfirmed, error) {
	var out rempart.FactorConfirmed
	b, err := jsonBody(rempart.MFACode{Code: code})
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{method: http.MethodPost, segs: []string{"me", "factors", id, "confirm"}, body: b, want: http.StatusOK}, &out)
	return out, err
}

// DeleteFactor removes a second factor; it needs a recent VerifyMFA.
func (c *Client) DeleteFactor(ctx context.Context, id string) error {
	return c.call(ctx, request{method: http.MethodDelete, segs: []string{"me", "factors", id}, want: http.StatusNoContent}, nil)
}

// RegenerateRecoveryCodes replaces the recovery codes; it needs a recent
// VerifyMFA.
func (c *Client) RegenerateRecoveryCodes(ctx context.Context) (rempart.RecoveryCodes, error) {
	var out rempart.RecoveryCodes
	err := c.call(ctx, request{method: http.MethodPost, segs: []string{"me", "recovery-codes"}, want: http.StatusCreated}, &out)
	return out, err
}

// VerifyMFA proves a second factor again (step-up), for the actions that
// answer mfa_required.
func (c *Client) VerifyMFA(ctx context.Context, code string) error {
	b, err := jsonBody(rempart.MFACode{Code: code})
	if err != nil {
		return err
	}
	return c.call(ctx, request{method: http.MethodPost, segs: []string{"mfa", "verify"}, body: b, want: http.StatusNoContent}, nil)
}

// MFAPolicy returns whether a tenant requires a second factor of its users.
func (c *Client) MFAPolicy(ctx context.Context, tenant string) (rempart.MFAPolicy, error) {
	var out rempart.MFAPolicy
	err := c.call(ctx, request{method: http.MethodGet, segs: []string{"tenants", tenant, "mfa-policy"}, want: http.StatusOK}, &out)
	return out, err
}

// SetMFAPolicy sets a tenant's requirement.
func (c *Client) SetMFAPolicy(ctx context.Context, tenant string, p rempart.MFAPolicy) (rempart.MFAPolicy, error) {
	var out rempart.MFAPolicy
	b, err := jsonBody(p)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{method: http.MethodPut, segs: []string{"tenants", tenant, "mfa-policy"}, body: b, want: http.StatusOK}, &out)
	return out, err
}
