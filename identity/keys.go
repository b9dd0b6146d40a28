package identity

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"github.com/rempart/rempart"
)

// Secrets look like "rk_<key id suffix>.<secret>": the key ID lets the server
// find the hash without scanning, the secret has 320 random bits.
const secretPrefix = "rk_"

func newSecret() (keyID, secret string, hash []byte) {
	keyID = rempart.NewID("key")
	s := rempart.RandomSecret(40)
	return keyID, secretPrefix + strings.TrimPrefix(keyID, "key_") + "." + s, hashSecret(s)
}

// parseSecret splits a presented secret into key ID and the hash of its
// secret part; ok is false for anything malformed.
func parseSecret(token string) (keyID string, hash []byte, ok bool) {
	rest, found := strings.CutPrefix(token, secretPrefix)
	if !found || len(token) > 200 {
		return "", nil, false
	}
	id, s, found := strings.Cut(rest, ".")
	if !found || len(id) != 26 || len(s) != 64 {
		return "", nil, false
	}
	return "key_" + id, hashSecret(s), true
}

func hashSecret(s string) []byte {
	h := sha256.Sum256([]byte("rempart api key v1\x00" + s))
	return h[:]
}

func constantTimeEqual(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }
