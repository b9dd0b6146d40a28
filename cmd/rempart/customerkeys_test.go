package main

import (
	"context"
	"strings"
	"testing"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/internal/softhsm"
)

// TestCustomerKeyOpenerAllowlist checks what a tenant may name as its own
// key: only the kinds the operator allows, only the PKCS#11 libraries the
// operator lists, and never a PIN carried in the URI.
func TestCustomerKeyOpenerAllowlist(t *testing.T) {
	ctx := context.Background()
	tok := softhsm.New(t)
	open := customerKeyOpener([]string{"pkcs11"}, []string{tok.Module})
	for _, c := range []struct{ name, uri, want string }{
		{"a kind not allowed", "awskms://alias/acme", "not accepted here"},
		{"a KMS for tests", "base64key://" + strings.Repeat("A", 43) + "=", "not accepted here"},
		{"a library not listed", strings.Replace(tok.URIWith("acme", "pin-source=file:"+tok.PINFile), tok.Module, "/tmp/evil.so", 1), "not one the operator allows"},
		{"a PIN in the URI", tok.URIWith("acme", "pin-value="+tok.PIN), "pin-source"},
		{"no such key on the token", tok.URIWith("acme", "pin-source=file:"+tok.PINFile), "not there"},
	} {
		_, _, err := open(ctx, c.uri)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error saying %q", c.name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), tok.PIN) {
			t.Errorf("%s: the error shows the PIN: %v", c.name, err)
		}
		if err != nil && rempart.ErrorCode(err) != rempart.EINVALID && c.name != "no such key on the token" {
			t.Errorf("%s: code %s, want invalid", c.name, rempart.ErrorCode(err))
		}
	}
}
