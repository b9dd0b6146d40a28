package keys

import "context"

// Sealer seals secrets of the deployment under the keyring's root key, for
// those that must be used again in clear, such as a single sign-on
// provider's client secret (IAM-5, ENC-3). Like the deployment's other
// secrets, each names the root key version it is wrapped under.
type Sealer struct{ Keyring *Keyring }

// Seal wraps secret under the active root key version.
func (s Sealer) Seal(ctx context.Context, secret, ad []byte) ([]byte, error) {
	return s.Keyring.WrapSecret(ctx, secret, ad)
}

// Open unwraps a sealed secret.
func (s Sealer) Open(ctx context.Context, sealed, ad []byte) ([]byte, error) {
	return s.Keyring.UnwrapSecret(ctx, sealed, ad, s.Keyring.RootKeyID())
}
