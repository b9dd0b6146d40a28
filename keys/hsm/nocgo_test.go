//go:build !cgo

package hsm

import (
	"errors"
	"strings"
	"testing"
)

func TestOpenWithoutCgo(t *testing.T) {
	_, err := Open("pkcs11:token=t;object=o?module-path=/m.so&pin-value=" + secretPIN)
	if !errors.Is(err, ErrNoCgo) {
		t.Fatalf("open: got %v, want ErrNoCgo", err)
	}
	if _, err := Open("pkcs11:object=o?module-path=/m.so&pin-value=" + secretPIN); err == nil || !strings.Contains(err.Error(), "token") {
		t.Fatalf("open a malformed uri: got %v, want the uri error", err)
	}
}
