package identity

import (
	"context"
	"sync"

	"github.com/rempart/rempart/identity/password"
)

// NewPasswords makes Passwords of a hasher and a policy checker (IAM-3).
func NewPasswords(h *password.Hasher, c *password.Checker) Passwords {
	return passwords{h: h, c: c}
}

var defaultPasswords = sync.OnceValue(func() Passwords {
	h, err := password.NewHasher(password.HasherConfig{})
	if err != nil {
		panic(err) // the default parameters are valid; a test pins them
	}
	return NewPasswords(h, &password.Checker{Policy: password.DefaultPolicy(), Hasher: h})
})

// DefaultPasswords is argon2id at the package's default costs, the default
// policy and the shipped blocklist, with no breach check.
func DefaultPasswords() Passwords { return defaultPasswords() }

type passwords struct {
	h *password.Hasher
	c *password.Checker
}

func (p passwords) Hash(ctx context.Context, pw string) (string, error) { return p.h.Hash(ctx, pw) }

func (p passwords) Verify(ctx context.Context, encoded, pw string) (bool, bool, error) {
	return p.h.Verify(ctx, pw, encoded)
}

func (p passwords) Equalize(ctx context.Context, pw string) { _ = p.h.Equalize(ctx, pw) }

func (p passwords) Check(ctx context.Context, pw, email, name string, previous []string) error {
	_, err := p.c.Check(ctx, pw, password.Account{Email: email, Name: name}, previous)
	return err
}
