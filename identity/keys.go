package identity

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"github.com/rempart/rempart"
)

// Every secret rempart hands out looks like "<prefix><ID suffix>.<secret>":
// the ID lets the server find the stored hash without scanning, the secret
// has 320 random bits, and only tokenHash of the secret is stored. API keys
// are "rk_", sessions "rs_", invitations "ri_".
const secretPrefix = "rk_"

// newToken makes a token of prefix for a new ID of kind.
func newToken(prefix, kind string) (id, token, secret string) {
	id = rempart.NewID(kind)
	token, secret = tokenFor(prefix, kind, id)
	return id, token, secret
}

// tokenFor makes a new secret for an existing ID of kind, and its token.
func tokenFor(prefix, kind, id string) (token, secret string) {
	secret = rempart.RandomSecret(40)
	return prefix + strings.TrimPrefix(id, kind+"_") + "." + secret, secret
}

// parseToken splits a token of prefix into its ID and secret; ok is false
// for anything malformed.
func parseToken(token, prefix, kind string) (id, secret string, ok bool) {
	rest, found := strings.CutPrefix(token, prefix)
	if !found || len(token) > 200 {
		return "", "", false
	}
	suffix, secret, found := strings.Cut(rest, ".")
	if !found || len(suffix) != 26 || len(secret) != 64 {
		return "", "", false
	}
	return kind + "_" + suffix, secret, true
}

// tokenHash is the stored hash of a token's secret; purpose separates the
// kinds of token.
func tokenHash(purpose, secret string) []byte {
	h := sha256.Sum256([]byte("rempart " + purpose + " v1\x00" + secret))
	return h[:]
}

// equalHash compares two stored hashes in constant time.
func equalHash(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

func newSecret() (keyID, secret string, hash []byte) {
	keyID, secret, s := newToken(secretPrefix, "key")
	return keyID, secret, hashSecret(s)
}

// parseSecret splits a presented API key into its ID and the hash of its
// secret.
func parseSecret(token string) (keyID string, hash []byte, ok bool) {
	keyID, s, ok := parseToken(token, secretPrefix, "key")
	if !ok {
		return "", nil, false
	}
	return keyID, hashSecret(s), true
}

// hashSecret is the hash of an API key's (and the bootstrap token's) secret.
func hashSecret(s string) []byte { return tokenHash("api key", s) }
