package kms

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// schemes are the KMS URL schemes rempart accepts, with the name operators
// know them by.
var schemes = map[string]string{
	"awskms":        "AWS KMS",
	"gcpkms":        "Google Cloud KMS",
	"azurekeyvault": "Azure Key Vault",
	"hashivault":    "HashiCorp Vault Transit",
	"base64key":     "key in the URL",
}

const schemeList = "awskms, gcpkms, azurekeyvault, hashivault or base64key"

// target is a checked KMS URL.
type target struct {
	scheme string
	id     string   // KeyID: no secret
	name   string   // for Describe: no secret
	local  [32]byte // base64key only
}

// parseURL checks a KMS URL. Its errors never quote the URL, since a
// base64key URL holds a key.
func parseURL(raw string) (target, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return target{}, errors.New("kms url is empty: want " + schemeList + " (scheme://…)")
	}
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || !validScheme(scheme) {
		return target{}, errors.New("kms url must look like scheme://…, with scheme " + schemeList)
	}
	scheme = strings.ToLower(scheme)
	if _, ok := schemes[scheme]; !ok {
		return target{}, fmt.Errorf("kms url scheme %q is not supported: want %s", scheme, schemeList)
	}
	if scheme == "base64key" {
		return parseLocal(rest)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return target{}, fmt.Errorf("kms url (%s) is not a valid URL", scheme)
	}
	if u.User != nil {
		return target{}, fmt.Errorf("kms url (%s) must not contain credentials: they come from the environment", scheme)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return target{}, fmt.Errorf("kms url (%s) must not have a fragment (#…)", scheme)
	}
	key := strings.Trim(u.Host+u.Path, "/")
	if key == "" {
		return target{}, fmt.Errorf("kms url (%s) names no key", scheme)
	}
	if scheme == "azurekeyvault" && len(strings.Split(strings.Trim(u.Path, "/"), "/")) != 3 {
		return target{}, errors.New("kms url (azurekeyvault) must name the key version, as in " +
			"azurekeyvault://<vault>.vault.azure.net/keys/<key>/<version>: Key Vault decrypts with the version " +
			"in the URL, so a URL without one stops unwrapping after the key is rotated")
	}
	noQuery := scheme + "://" + u.Host + u.Path
	return target{scheme: scheme, id: "kms:" + noQuery, name: schemes[scheme] + " key " + noQuery}, nil
}

// parseLocal reads the key of a base64key URL: 32 bytes in URL-safe base64.
func parseLocal(rest string) (target, error) {
	if strings.ContainsAny(rest, "?#") {
		return target{}, errors.New("kms url (base64key) takes no query or fragment")
	}
	if rest == "" {
		return target{}, errors.New("kms url (base64key) holds no key: rempart never makes up a root key; " +
			"generate one with: openssl rand -base64 32 | tr '+/' '-_'")
	}
	var key []byte
	for _, enc := range []*base64.Encoding{base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(rest); err == nil {
			key = b
			break
		}
	}
	if len(key) != 32 {
		return target{}, errors.New("kms url (base64key) must hold a 32-byte key in URL-safe base64")
	}
	t := target{scheme: "base64key"}
	copy(t.local[:], key)
	sum := sha256.Sum256(key)
	fp := hex.EncodeToString(sum[:8])
	t.id = "kms:base64key:" + fp
	t.name = "base64key " + fp + " (a key in the URL: for tests and development only)"
	return t, nil
}

// validScheme reports whether s has the syntax of a URL scheme (RFC 3986).
func validScheme(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}
