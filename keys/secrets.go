package keys

import (
	"bytes"
	"context"
	"fmt"
)

// Secrets of the deployment itself (the audit log's and the backups' signing
// keys) are never stored in plaintext (ENC-3): they are stored wrapped by a root key version, with the version's ID, so
// that a root rotation can re-wrap them:
//
//	"rk1" 0x00 root key ID 0x00 wrapped
//
// A secret stored before versions existed is the wrapped bytes alone, under
// the root key the database was first encrypted with.
var secretPrefix = []byte("rk1\x00")

// WrapSecret wraps secret under the keyring's active root key version.
func (k *Keyring) WrapSecret(ctx context.Context, secret, ad []byte) ([]byte, error) {
	root := k.activeRoot()
	w, err := root.Wrap(ctx, secret, ad)
	if err != nil {
		return nil, fmt.Errorf("wrap secret: %w", err)
	}
	out := append(append([]byte(nil), secretPrefix...), root.KeyID()...)
	out = append(out, 0)
	return append(out, w...), nil
}

// SecretRootKeyID returns the root key version a stored secret is wrapped
// under; legacyID for a secret stored before versions.
func SecretRootKeyID(stored []byte, legacyID string) string {
	id, _, ok := splitSecret(stored)
	if !ok {
		return legacyID
	}
	return id
}

func splitSecret(stored []byte) (id string, wrapped []byte, ok bool) {
	rest, found := bytes.CutPrefix(stored, secretPrefix)
	if !found {
		return "", stored, false
	}
	i := bytes.IndexByte(rest, 0)
	if i < 0 {
		return "", stored, false
	}
	return string(rest[:i]), rest[i+1:], true
}

// UnwrapSecret unwraps a stored secret with the root key version it names
// (legacyID for one stored before versions).
func (k *Keyring) UnwrapSecret(ctx context.Context, stored, ad []byte, legacyID string) ([]byte, error) {
	id, wrapped, ok := splitSecret(stored)
	if !ok {
		id = legacyID
	}
	root, err := k.Root(ctx, id)
	if err != nil {
		return nil, err
	}
	secret, err := root.Unwrap(ctx, wrapped, ad)
	if err != nil {
		return nil, fmt.Errorf("unwrap secret under root key %s: %w", id, err)
	}
	return secret, nil
}
