package identity

import (
	"context"
	"strings"

	"github.com/rempart/rempart"
)

const bootstrapPrefix = "rb_"

// EnsureBootstrap issues a new one-time bootstrap token when no system
// administrator holds a usable key (none yet, or all expired or revoked), and returns it ("" when one exists). Only its
// hash is stored; the token is for the operator's eyes, printed once.
func (s *Service) EnsureBootstrap(ctx context.Context) (string, error) {
	ok, err := s.store.HasSystemAdmin(ctx)
	if err != nil || ok {
		return "", err
	}
	secret := rempart.RandomSecret(32)
	e := rempart.AuditEntry{Action: "bootstrap.issue", Outcome: rempart.OutcomeSuccess, Reason: "no administrator yet"}
	if err := s.store.SetBootstrapToken(ctx, e, hashSecret(secret), s.clock.Now().Add(s.cfg.BootstrapLifetime)); err != nil {
		return "", err
	}
	return bootstrapPrefix + secret, nil
}

// Bootstrap exchanges the bootstrap token for the first system
// administrator and its API key. The token works once.
func (s *Service) Bootstrap(ctx context.Context, c rempart.Caller, token string) (rempart.Bootstrapped, error) {
	admin := rempart.ServiceAccount{ID: rempart.NewID("sa"), Name: "admin", Role: rempart.RoleSystemAdmin, CreatedAt: s.clock.Now()}
	e := c.Entry("", "bootstrap.redeem", "principals/"+admin.ID)
	secret, ok := strings.CutPrefix(token, bootstrapPrefix)
	if !ok || len(secret) != 52 {
		return rempart.Bootstrapped{}, s.deny(ctx, e, errBadCredential)
	}
	keyID, keySecret, hash := newSecret()
	k := KeyRow{ID: keyID, Principal: rempart.Principal{ID: admin.ID, Name: admin.Name, Role: admin.Role}, Hash: hash, CreatedAt: admin.CreatedAt, ExpiresAt: admin.CreatedAt.Add(s.cfg.KeyLifetime)}
	e.PrincipalID, e.CredentialID = admin.ID, keyID
	if err := s.store.Bootstrap(ctx, e, hashSecret(secret), admin, k); err != nil {
		return rempart.Bootstrapped{}, err
	}
	return rempart.Bootstrapped{Principal: admin, Key: rempart.APIKeyCreated{APIKey: rempart.APIKey{ID: keyID, PrincipalID: admin.ID, CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt}, Secret: keySecret}}, nil
}
