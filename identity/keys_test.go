package identity

import (
	"encoding/hex"
	"strings"
	"testing"
)

// TestStoredHashesStable pins the hash of an API key's secret: a change
// would lock out every key already issued.
func TestStoredHashesStable(t *testing.T) {
	if got := hex.EncodeToString(hashSecret("abc")); got != "44f2ebea126b8716a45b1151216f73ce7761494e57d831f5229da931bbf81ddc" {
		t.Fatalf("got %s, want the hash existing deployments store", got)
	}
}

func TestTokenRoundTrip(t *testing.T) {
	id, token, secret := newToken(sessionPrefix, "ses")
	gotID, gotSecret, ok := parseToken(token, sessionPrefix, "ses")
	if !ok || gotID != id || gotSecret != secret || !strings.HasPrefix(token, "rs_") {
		t.Fatalf("got %q %q %v from %q; want %q %q", gotID, gotSecret, ok, token, id, secret)
	}
	for _, bad := range []string{"", "rs_", token[:len(token)-1], "rk_" + token[3:], token + "x", strings.Replace(token, ".", "", 1)} {
		if _, _, ok := parseToken(bad, sessionPrefix, "ses"); ok {
			t.Errorf("parseToken(%q) accepted a malformed token", bad)
		}
	}
}
