package kms

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"

	"gocloud.dev/gcerrors"
	"gocloud.dev/secrets"
	_ "gocloud.dev/secrets/awskms"        // awskms://
	_ "gocloud.dev/secrets/azurekeyvault" // azurekeyvault://
	_ "gocloud.dev/secrets/gcpkms"        // gcpkms://
	_ "gocloud.dev/secrets/hashivault"    // hashivault://
	"gocloud.dev/secrets/localsecrets"    // base64key://

	"github.com/rempart/rempart/keys"
)

// Source is one KMS key. It implements keys.RootKeys with a single version,
// itself: it also implements keys.Provider.
type Source struct {
	t      target
	keeper *secrets.Keeper
}

var (
	_ keys.RootKeys = (*Source)(nil)
	_ keys.Provider = (*Source)(nil)
)

// Open checks url (see the package documentation for the forms), connects
// to the KMS and checks that the key encrypts and decrypts. Its errors never
// contain a base64key key.
func Open(ctx context.Context, url string) (*Source, error) {
	t, err := parseURL(url)
	if err != nil {
		return nil, err
	}
	s := &Source{t: t}
	if t.scheme == "base64key" {
		s.keeper = localsecrets.NewKeeper(t.local)
	} else if s.keeper, err = secrets.OpenKeeper(ctx, url); err != nil {
		return nil, fmt.Errorf("open %s: %w", t.name, err)
	}
	if err := s.probe(ctx); err != nil {
		s.keeper.Close()
		return nil, fmt.Errorf("check %s: %w", t.name, err)
	}
	return s, nil
}

// probe wraps and unwraps a random key, so that missing credentials or
// permissions show at startup rather than at the first tenant.
func (s *Source) probe(ctx context.Context) error {
	key := make([]byte, 32)
	rand.Read(key)
	ad := keys.AD("rempart/kms/probe")
	w, err := s.Wrap(ctx, key, ad)
	if err != nil {
		return err
	}
	got, err := s.Unwrap(ctx, w, ad)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return errors.New("the key did not survive encryption and decryption")
	}
	return nil
}

// Describe names the KMS and the key, without query parameters or secrets.
func (s *Source) Describe() string { return s.t.name }

// Close releases the KMS client.
func (s *Source) Close() error { return s.keeper.Close() }

// KeyID returns "kms:" and the URL without its query, or for base64key a
// fingerprint: "kms:base64key:" and the first 16 hex digits of the key's
// SHA-256.
func (s *Source) KeyID() string { return s.t.id }

// Open returns the source itself when id is its KeyID.
func (s *Source) Open(_ context.Context, id string) (keys.Provider, error) {
	if id != s.t.id {
		return nil, fmt.Errorf("%w: %q is not the KeyID of %s, the one version a KMS key has for rempart", keys.ErrNoRootKey, id, s.t.name)
	}
	return s, nil
}

// Latest returns the source itself.
func (s *Source) Latest(context.Context) (keys.Provider, error) { return s, nil }

// Versions returns the one KeyID.
func (s *Source) Versions(context.Context) ([]string, error) { return []string{s.t.id}, nil }

// Create is not supported: a KMS rotates its own key.
func (s *Source) Create(context.Context) (keys.Provider, error) {
	return nil, fmt.Errorf("create a root key in %s: %w: rotate the key in the KMS itself, "+
		"which keeps its earlier versions able to decrypt", s.t.name, keys.ErrUnsupported)
}

// Destroy is not supported: a KMS key is disabled or deleted in the KMS.
func (s *Source) Destroy(context.Context, string) error {
	return fmt.Errorf("destroy a root key in %s: %w: disable the key or schedule its deletion in the KMS itself", s.t.name, keys.ErrUnsupported)
}

// bindingSize is the length of the SHA-256 that binds a wrapped key to its
// associated data.
const bindingSize = sha256.Size

// binding is SHA-256 of a domain label and ad. A KMS keeper takes no
// associated data, so Wrap encrypts binding(ad) ‖ key and Unwrap compares.
func binding(ad []byte) []byte {
	h := sha256.New()
	h.Write([]byte("rempart/kms-wrap/v1\x00"))
	h.Write(ad)
	return h.Sum(nil)
}

// Wrap has the KMS encrypt SHA-256(domain ‖ ad) ‖ key.
func (s *Source) Wrap(ctx context.Context, key, ad []byte) ([]byte, error) {
	pt := append(binding(ad), key...)
	defer clear(pt)
	w, err := s.keeper.Encrypt(ctx, pt)
	if err != nil {
		return nil, fmt.Errorf("kms encrypt: %w", err)
	}
	return w, nil
}

// Unwrap has the KMS decrypt and returns the key if it was bound to ad. A
// blob or ad that was altered gives keys.ErrDecrypt; a KMS that cannot be
// reached or refuses access gives its own error.
func (s *Source) Unwrap(ctx context.Context, wrapped, ad []byte) ([]byte, error) {
	pt, err := s.keeper.Decrypt(ctx, wrapped)
	if err != nil {
		if s.t.scheme == "base64key" || gcerrors.Code(err) == gcerrors.InvalidArgument {
			return nil, keys.ErrDecrypt
		}
		return nil, fmt.Errorf("kms decrypt: %w", err)
	}
	defer clear(pt)
	if len(pt) < bindingSize || subtle.ConstantTimeCompare(pt[:bindingSize], binding(ad)) != 1 {
		return nil, keys.ErrDecrypt
	}
	return append([]byte(nil), pt[bindingSize:]...), nil
}
