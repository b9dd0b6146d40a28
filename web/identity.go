package web

import (
	"context"
	"slices"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/identity"
)

// IdentitySessions gives the console the console sessions of people from
// the identity service (IAM-3, IAM-6): the binary and the browser tests use
// it alike.
func IdentitySessions(id *identity.Service) Sessions { return identitySessions{id} }

type identitySessions struct{ id *identity.Service }

func caller(in RequestInfo) rempart.Caller {
	return rempart.Caller{IP: in.IP, UserAgent: in.UserAgent, RequestID: in.RequestID}
}

func (s identitySessions) SignIn(ctx context.Context, in SignIn) (Session, error) {
	if in.Code != "" {
		out, err := s.id.SignIn(ctx, caller(in.RequestInfo), rempart.SignIn{Email: in.Email, Password: in.Password, Code: in.Code}, rempart.SessionConsole)
		if err != nil {
			return Session{}, err
		}
		return Session{Token: out.Token, ExpiresAt: out.ExpiresAt}, nil
	}
	// The second factor, if any, comes in a second step (IAM-4).
	out, challenge, err := s.id.StartSignIn(ctx, caller(in.RequestInfo), rempart.SignIn{Email: in.Email, Password: in.Password})
	if err != nil {
		return Session{}, err
	}
	return Session{Token: out.Token, ExpiresAt: out.ExpiresAt, Challenge: challenge}, nil
}

func (s identitySessions) Resume(ctx context.Context, token string, in RequestInfo) (rempart.Caller, error) {
	return s.id.AuthenticateSession(ctx, caller(in), token, rempart.SessionConsole)
}

func (s identitySessions) SignOut(ctx context.Context, c rempart.Caller) error {
	return s.id.SignOut(ctx, c)
}

// IdentityMFA gives the console second factors from the identity service
// (IAM-4).
func IdentityMFA(id *identity.Service) MFAService { return identitySessions{id} }

func (s identitySessions) CompleteSignIn(ctx context.Context, challenge, code string, in RequestInfo) (Session, error) {
	out, err := s.id.CompleteSignIn(ctx, caller(in), challenge, code, rempart.SessionConsole)
	if err != nil {
		return Session{}, err
	}
	return Session{Token: out.Token, ExpiresAt: out.ExpiresAt}, nil
}

func (s identitySessions) Factors(ctx context.Context, c rempart.Caller) (rempart.FactorList, error) {
	return s.id.Factors(ctx, c)
}

func (s identitySessions) StartTOTP(ctx context.Context, c rempart.Caller, name string) (rempart.TOTPEnrolment, error) {
	return s.id.StartTOTP(ctx, c, rempart.TOTPStart{Name: name})
}

func (s identitySessions) ConfirmTOTP(ctx context.Context, c rempart.Caller, id, code string) (rempart.FactorConfirmed, error) {
	return s.id.ConfirmTOTP(ctx, c, id, rempart.MFACode{Code: code})
}

func (s identitySessions) DeleteFactor(ctx context.Context, c rempart.Caller, id string) error {
	return s.id.DeleteFactor(ctx, c, id)
}

func (s identitySessions) RegenerateRecoveryCodes(ctx context.Context, c rempart.Caller) (rempart.RecoveryCodes, error) {
	return s.id.RegenerateRecoveryCodes(ctx, c)
}

func (s identitySessions) VerifyMFA(ctx context.Context, c rempart.Caller, code string) error {
	return s.id.VerifyMFA(ctx, c, rempart.MFACode{Code: code})
}

func (s identitySessions) BeginWebAuthnRegistration(ctx context.Context, c rempart.Caller, name string) ([]byte, string, error) {
	return s.id.BeginWebAuthnRegistration(ctx, c, name)
}

func (s identitySessions) FinishWebAuthnRegistration(ctx context.Context, c rempart.Caller, state string, response []byte) (rempart.FactorConfirmed, error) {
	return s.id.FinishWebAuthnRegistration(ctx, c, state, response)
}

func (s identitySessions) BeginWebAuthnLogin(ctx context.Context, challenge string, in RequestInfo) ([]byte, string, error) {
	if !slices.Contains(s.id.ChallengeFactors(challenge), rempart.FactorWebAuthn) {
		return nil, "", nil
	}
	return s.id.BeginWebAuthnLogin(ctx, caller(in), challenge, rempart.SessionConsole)
}

func (s identitySessions) CompleteSignInWebAuthn(ctx context.Context, challenge, state string, response []byte, in RequestInfo) (Session, error) {
	out, err := s.id.CompleteSignInWebAuthn(ctx, caller(in), challenge, state, response, rempart.SessionConsole)
	if err != nil {
		return Session{}, err
	}
	return Session{Token: out.Token, ExpiresAt: out.ExpiresAt}, nil
}

func (s identitySessions) BeginWebAuthnStepUp(ctx context.Context, c rempart.Caller) ([]byte, string, error) {
	if has, err := s.id.HasSecurityKey(ctx, c.Principal.ID); err != nil || !has {
		return nil, "", err
	}
	return s.id.BeginWebAuthnStepUp(ctx, c)
}

func (s identitySessions) VerifyMFAWebAuthn(ctx context.Context, c rempart.Caller, state string, response []byte) error {
	return s.id.VerifyMFAWebAuthn(ctx, c, state, response)
}

func (s identitySessions) MFAPolicy(ctx context.Context, c rempart.Caller, tenant string) (rempart.MFAPolicy, error) {
	return s.id.MFAPolicy(ctx, c, tenant)
}

func (s identitySessions) SetMFAPolicy(ctx context.Context, c rempart.Caller, tenant string, required bool) error {
	return s.id.SetMFAPolicy(ctx, c, tenant, rempart.MFAPolicy{Required: required})
}
