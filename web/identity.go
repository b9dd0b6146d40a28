package web

import (
	"context"

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
	out, err := s.id.SignIn(ctx, caller(in.RequestInfo), rempart.SignIn{Email: in.Email, Password: in.Password, Code: in.Code}, rempart.SessionConsole)
	if err != nil {
		return Session{}, err
	}
	return Session{Token: out.Token, ExpiresAt: out.ExpiresAt}, nil
}

func (s identitySessions) Resume(ctx context.Context, token string, in RequestInfo) (rempart.Caller, error) {
	return s.id.AuthenticateSession(ctx, caller(in), token, rempart.SessionConsole)
}

func (s identitySessions) SignOut(ctx context.Context, c rempart.Caller) error {
	return s.id.SignOut(ctx, c)
}
