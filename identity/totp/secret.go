package totp

import (
	"crypto/rand"
	"encoding/base32"
	"strings"

	"github.com/rempart/rempart"
)

// SecretSize is the size in bytes of a generated secret: 160 bits, the
// length RFC 4226 recommends (the size of an HMAC-SHA1 output).
const SecretSize = 20

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret returns SecretSize bytes from crypto/rand.
func NewSecret() ([]byte, error) {
	s := make([]byte, SecretSize)
	if _, err := rand.Read(s); err != nil {
		return nil, rempart.Errorf(rempart.EINTERNAL, "totp: random secret: %v", err)
	}
	return s, nil
}

// EncodeSecret returns the secret in upper-case base32 without padding, the
// form authenticator apps take for manual entry and in key URIs.
func EncodeSecret(secret []byte) string {
	return b32.EncodeToString(secret)
}

// DecodeSecret reverses EncodeSecret. It accepts lower case, spaces and
// trailing padding, as people type them.
func DecodeSecret(s string) ([]byte, error) {
	s = strings.ToUpper(strings.Join(strings.Fields(s), ""))
	s = strings.TrimRight(s, "=")
	secret, err := b32.DecodeString(s)
	if err != nil || len(secret) == 0 {
		return nil, rempart.Errorf(rempart.EINVALID, "The secret is not valid base32.")
	}
	return secret, nil
}
