package keys

import (
	"context"
	"crypto/cipher"
	"fmt"
)

// Sealer seals secrets of the deployment that must be used again in clear,
// such as a single sign-on provider's client secret (IAM-5), with
// AES-256-GCM under a deployment key. That key is kept wrapped by the root
// key among the deployment's secrets, so a root rotation re-wraps the one
// key and every sealed secret stays readable (ENC-3).
type Sealer struct{ aead cipher.AEAD }

// NewSealer returns a Sealer under a 32-byte key.
func NewSealer(key []byte) (Sealer, error) {
	aead, err := NewAEAD(key)
	if err != nil {
		return Sealer{}, fmt.Errorf("sealer: %w", err)
	}
	return Sealer{aead}, nil
}

// Seal encrypts secret, bound to ad.
func (s Sealer) Seal(_ context.Context, secret, ad []byte) ([]byte, error) {
	return Seal(s.aead, secret, ad), nil
}

// Open decrypts a sealed secret; another ad, key or a changed byte fails.
func (s Sealer) Open(_ context.Context, sealed, ad []byte) ([]byte, error) {
	return Open(s.aead, sealed, ad)
}
