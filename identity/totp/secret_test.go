package totp

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rempart/rempart"
)

func TestNewSecret(t *testing.T) {
	a, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != SecretSize {
		t.Errorf("len: got %d, want %d", len(a), SecretSize)
	}
	if bytes.Equal(a, b) {
		t.Errorf("two secrets are equal: %x", a)
	}
}

func TestEncodeSecret(t *testing.T) {
	// RFC 6238's seed in base32, as oathtool -v prints it.
	if got, want := EncodeSecret(rfcSecret), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	s, _ := NewSecret()
	enc := EncodeSecret(s)
	if len(enc) != 32 || strings.Contains(enc, "=") {
		t.Errorf("20-byte secret encodes as %q; want 32 characters, no padding", enc)
	}
}

func TestDecodeSecret(t *testing.T) {
	for _, in := range []string{
		"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
		"gezd gnbv gy3t qojq gezd gnbv gy3t qojq",
		"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ====",
	} {
		got, err := DecodeSecret(in)
		if err != nil {
			t.Errorf("DecodeSecret(%q): %v", in, err)
			continue
		}
		if !bytes.Equal(got, rfcSecret) {
			t.Errorf("DecodeSecret(%q): got %q, want %q", in, got, rfcSecret)
		}
	}
	for _, in := range []string{"", "GEZDGNB1", "not base32!"} {
		_, err := DecodeSecret(in)
		wantCode(t, err, rempart.EINVALID)
	}
}
