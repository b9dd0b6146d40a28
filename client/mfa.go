package client

import (
	"context"
	"errors"
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

// SignInChallenge returns the pending second step carried by SignIn's
// mfa_required error when the password was right and no code was given:
// continue with SignInCode, or SignInWebAuthnOptions then SignInWebAuthn,
// without sending the password again. Nil for any other error.
func SignInChallenge(err error) *rempart.MFAChallenge {
	var e *Error
	if errors.As(err, &e) && e.Problem.Code == rempart.EMFAREQUIRED {
		return e.Problem.MFAChallenge
	}
	return nil
}

// SignInCode completes a pending sign-in with a TOTP code or a recovery
// code, for an API access token.
func (c *Client) SignInCode(ctx context.Context, in rempart.SignInCode) (rempart.SessionCreated, error) {
	var out rempart.SessionCreated
	b, err := jsonBody(in)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{method: http.MethodPost, segs: []string{"sessions", "code"}, body: b, want: http.StatusCreated}, &out)
	return out, err
}

// SignInWebAuthnOptions starts the security-key step of a pending sign-in:
// the options for navigator.credentials.get and the ceremony's state.
func (c *Client) SignInWebAuthnOptions(ctx context.Context, challenge string) (rempart.WebAuthnOptions, error) {
	var out rempart.WebAuthnOptions
	b, err := jsonBody(rempart.SignInChallenge{Challenge: challenge})
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{method: http.MethodPost, segs: []string{"sessions", "webauthn", "options"}, body: b, want: http.StatusOK}, &out)
	return out, err
}

// SignInWebAuthn completes a pending sign-in with the security key's
// answer, for an API access token.
func (c *Client) SignInWebAuthn(ctx context.Context, in rempart.SignInWebAuthn) (rempart.SessionCreated, error) {
	var out rempart.SessionCreated
	b, err := jsonBody(in)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{method: http.MethodPost, segs: []string{"sessions", "webauthn"}, body: b, want: http.StatusCreated}, &out)
	return out, err
}

// StartWebAuthn starts registering a security key named name: the options
// for navigator.credentials.create and the ceremony's state, for
// FinishWebAuthn.
func (c *Client) StartWebAuthn(ctx context.Context, name string) (rempart.WebAuthnOptions, error) {
	var out rempart.WebAuthnOptions
	b, err := jsonBody(rempart.WebAuthnStart{Name: name})
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{method: http.MethodPost, segs: []string{"me", "factors", "webauthn"}, body: b, want: http.StatusOK}, &out)
	return out, err
}

// FinishWebAuthn stores the security key of the browser's answer; the
// first factor comes with recovery codes.
func (c *Client) FinishWebAuthn(ctx context.Context, in rempart.WebAuthnAnswer) (rempart.FactorConfirmed, error) {
	var out rempart.FactorConfirmed
	b, err := jsonBody(in)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{method: http.MethodPost, segs: []string{"me", "factors", "webauthn", "finish"}, body: b, want: http.StatusCreated}, &out)
	return out, err
}

// StepUpWebAuthnOptions starts step-up with a security key: the options for
// navigator.credentials.get and the ceremony's state, for VerifyMFAWebAuthn.
func (c *Client) StepUpWebAuthnOptions(ctx context.Context) (rempart.WebAuthnOptions, error) {
	var out rempart.WebAuthnOptions
	err := c.call(ctx, request{method: http.MethodPost, segs: []string{"mfa", "webauthn", "options"}, want: http.StatusOK}, &out)
	return out, err
}

// VerifyMFAWebAuthn proves a second factor again (step-up) with the
// security key's answer.
func (c *Client) VerifyMFAWebAuthn(ctx context.Context, in rempart.WebAuthnAnswer) error {
	b, err := jsonBody(in)
	if err != nil {
		return err
	}
	return c.call(ctx, request{method: http.MethodPost, segs: []string{"mfa", "webauthn"}, body: b, want: http.StatusNoContent}, nil)
}
