package keys

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Provider holds the root key and wraps key-encryption keys with it (ENC-3).
// Implementations never expose the root key itself.
type Provider interface {
	// KeyID identifies the root key (version) that Wrap uses, so that wrapped
	// keys record which root key can unwrap them.
	KeyID() string
	// Wrap encrypts a key under the root key, bound to ad.
	Wrap(ctx context.Context, key, ad []byte) ([]byte, error)
	// Unwrap reverses Wrap; it fails if the wrapped key or ad was altered.
	Unwrap(ctx context.Context, wrapped, ad []byte) ([]byte, error)
}

// RootKeys is where the versions of the root key live: a local file and its
// successors, the key objects of an HSM token, or one KMS key. It is the only
// way rempart obtains, makes or destroys a root key (ENC-3); rempart never
// falls back to a key of its own making when a source cannot give one.
//
// A Provider is one version. The database records which version wrapped each
// key-encryption key (WrappedKeys.RootKeyID) and which version is active; a
// rotation makes a new version active, re-wraps every KEK under it in the
// background, and destroys the old one once nothing refers to it.
type RootKeys interface {
	// Describe names the source for operators, without any secret
	// (for example "PKCS#11 token rempart, slot 1").
	Describe() string
	// Open returns the version with this ID (Provider.KeyID). A version that
	// does not exist is an error wrapping ErrNoRootKey.
	Open(ctx context.Context, id string) (Provider, error)
	// Latest returns the newest version, or an error wrapping ErrNoRootKey
	// when the source holds none yet.
	Latest(ctx context.Context) (Provider, error)
	// Create makes a new version, newer than every other, and returns it.
	// Sources whose versions are managed elsewhere (a KMS rotates its own
	// key) return an error wrapping ErrUnsupported.
	Create(ctx context.Context) (Provider, error)
	// Destroy deletes the version for good: what it wrapped can no longer
	// be unwrapped. Sources that cannot destroy return an error wrapping
	// ErrUnsupported.
	Destroy(ctx context.Context, id string) error
	// Versions lists the IDs of the versions the source holds, oldest
	// first.
	Versions(ctx context.Context) ([]string, error)
}

// ErrUnsupported reports an operation a root key source does not offer.
var ErrUnsupported = errors.New("not supported by this root key source")

// LocalFile is a root key kept in a local file: 32 random bytes, hex encoded,
// readable by its owner only.
type LocalFile struct {
	id  string
	key []byte
}

// ErrNoRootKey reports that a root key (version) does not exist.
var ErrNoRootKey = errors.New("root key not found")

// OpenLocalFile reads the root key at path. The file must be a regular file
// that neither group nor others can read or write (mode 0600 or stricter).
func OpenLocalFile(path string) (*LocalFile, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNoRootKey, path)
	} else if err != nil {
		return nil, fmt.Errorf("stat root key: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("root key %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("root key %s has mode %#o: it must not be accessible to group or others (chmod 600)", path, perm)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read root key: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("root key %s is not 64 hexadecimal characters (a 256-bit key)", path)
	}
	return newLocal(key), nil
}

// CreateLocalFile writes a new random root key at path with mode 0600. It
// refuses to overwrite an existing file.
func CreateLocalFile(path string) (*LocalFile, error) {
	key := randomKey()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create root key: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write root key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("sync root key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("close root key: %w", err)
	}
	return newLocal(key), nil
}

func newLocal(key []byte) *LocalFile {
	sum := sha256.Sum256(append([]byte("rempart root key id\x00"), key...))
	return &LocalFile{id: "local:" + hex.EncodeToString(sum[:8]), key: key}
}

// KeyID returns "local:" and a fingerprint that does not reveal the key.
func (l *LocalFile) KeyID() string { return l.id }

// Wrap seals key with AES-256-GCM under the root key.
func (l *LocalFile) Wrap(_ context.Context, key, ad []byte) ([]byte, error) {
	aead, err := NewAEAD(l.key)
	if err != nil {
		return nil, err
	}
	return Seal(aead, key, ad), nil
}

// Unwrap opens a key sealed by Wrap.
func (l *LocalFile) Unwrap(_ context.Context, wrapped, ad []byte) ([]byte, error) {
	aead, err := NewAEAD(l.key)
	if err != nil {
		return nil, err
	}
	return Open(aead, wrapped, ad)
}
