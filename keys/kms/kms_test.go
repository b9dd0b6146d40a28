package kms_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"gocloud.dev/secrets/localsecrets"

	"github.com/rempart/rempart/keys"
	"github.com/rempart/rempart/keys/kms"
)

// localKey returns a random key and its base64key URL.
func localKey(t *testing.T) ([32]byte, string) {
	t.Helper()
	var k [32]byte
	rand.Read(k[:])
	return k, "base64key://" + base64.URLEncoding.EncodeToString(k[:])
}

func open(t *testing.T, url string) *kms.Source {
	t.Helper()
	s, err := kms.Open(context.Background(), url)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// noSecret fails when text holds the key in any usual encoding.
func noSecret(t *testing.T, what, text string, key [32]byte) {
	t.Helper()
	for _, enc := range []string{
		base64.URLEncoding.EncodeToString(key[:]), base64.RawURLEncoding.EncodeToString(key[:]),
		base64.StdEncoding.EncodeToString(key[:]), hex.EncodeToString(key[:]), string(key[:]),
	} {
		if strings.Contains(text, enc) {
			t.Errorf("%s %q contains the key", what, text)
		}
	}
}

// TestWrapUnwrap: a KMS (gocloud.dev/secrets) holds the root key and wraps
// keys with it (ENC-3).
func TestWrapUnwrap(t *testing.T) {
	_, url := localKey(t)
	s := open(t, url)
	ctx := context.Background()
	key := bytes.Repeat([]byte{5}, 32)
	ad := keys.AD("rempart/kek/v1", "ten_a")
	w, err := s.Wrap(ctx, key, ad)
	if err != nil {
		t.Fatalf("wrap: %v", err)
	}
	if bytes.Contains(w, key) {
		t.Fatal("wrapped blob contains the key")
	}
	if w2, _ := s.Wrap(ctx, key, ad); bytes.Equal(w, w2) {
		t.Fatal("two wraps of one key are equal")
	}
	got, err := s.Unwrap(ctx, w, ad)
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("unwrap: got %x, %v, want %x", got, err, key)
	}

	if _, err := s.Unwrap(ctx, w, keys.AD("rempart/kek/v1", "ten_b")); !errors.Is(err, keys.ErrDecrypt) {
		t.Fatalf("unwrap with another ad: got %v, want ErrDecrypt", err)
	}
	if _, err := s.Unwrap(ctx, w, nil); !errors.Is(err, keys.ErrDecrypt) {
		t.Fatalf("unwrap with no ad: got %v, want ErrDecrypt", err)
	}
	for i := range w {
		bad := bytes.Clone(w)
		bad[i] ^= 0x80
		if _, err := s.Unwrap(ctx, bad, ad); !errors.Is(err, keys.ErrDecrypt) {
			t.Fatalf("unwrap with bit flipped at %d: got %v, want ErrDecrypt", i, err)
		}
	}
	for _, bad := range [][]byte{nil, w[:10], w[:len(w)-1], append(bytes.Clone(w), 0)} {
		if _, err := s.Unwrap(ctx, bad, ad); !errors.Is(err, keys.ErrDecrypt) {
			t.Errorf("unwrap of %d bytes: got %v, want ErrDecrypt", len(bad), err)
		}
	}
	_, other := localKey(t)
	if _, err := open(t, other).Unwrap(ctx, w, ad); !errors.Is(err, keys.ErrDecrypt) {
		t.Fatalf("unwrap under another key: got %v, want ErrDecrypt", err)
	}
}

// A blob that the KMS key really encrypted, but that lacks the binding to
// ad, does not unwrap: the check is rempart's, not the KMS's.
func TestUnwrapNeedsBinding(t *testing.T) {
	k, url := localKey(t)
	s := open(t, url)
	ctx := context.Background()
	keeper := localsecrets.NewKeeper(k)
	defer keeper.Close()
	key := bytes.Repeat([]byte{6}, 32)
	ad := []byte("ad")
	sum := sha256.Sum256(ad)
	for _, pt := range [][]byte{key, nil, append(sum[:], key...), append(make([]byte, 32), key...)} {
		w, err := keeper.Encrypt(ctx, pt)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.Unwrap(ctx, w, ad); !errors.Is(err, keys.ErrDecrypt) {
			t.Errorf("unwrap of an unbound %d-byte plaintext: got %x, %v, want ErrDecrypt", len(pt), got, err)
		}
	}
}

func TestOneVersion(t *testing.T) {
	k, url := localKey(t)
	s := open(t, url)
	ctx := context.Background()
	sum := sha256.Sum256(k[:])
	want := "kms:base64key:" + hex.EncodeToString(sum[:])[:16]
	if got := s.KeyID(); got != want {
		t.Fatalf("key id: got %s, want %s", got, want)
	}
	if got := open(t, url).KeyID(); got != want {
		t.Fatalf("key id on reopen: got %s, want %s", got, want)
	}
	latest, err := s.Latest(ctx)
	if err != nil || latest.KeyID() != want {
		t.Fatalf("latest: got %v, %v, want %s", latest, err, want)
	}
	opened, err := s.Open(ctx, want)
	if err != nil || opened.KeyID() != want {
		t.Fatalf("open: got %v, %v, want %s", opened, err, want)
	}
	if ids, err := s.Versions(ctx); err != nil || len(ids) != 1 || ids[0] != want {
		t.Fatalf("versions: got %q, %v, want [%s]", ids, err, want)
	}
	for _, id := range []string{"", "kms:base64key:0000000000000000", "local:abcd"} {
		if _, err := s.Open(ctx, id); !errors.Is(err, keys.ErrNoRootKey) {
			t.Errorf("open %q: got %v, want ErrNoRootKey", id, err)
		}
	}
	if _, err := s.Create(ctx); !errors.Is(err, keys.ErrUnsupported) || !strings.Contains(err.Error(), "in the KMS itself") {
		t.Errorf("create: got %v, want ErrUnsupported saying to rotate in the KMS", err)
	}
	if err := s.Destroy(ctx, want); !errors.Is(err, keys.ErrUnsupported) || !strings.Contains(err.Error(), "in the KMS itself") {
		t.Errorf("destroy: got %v, want ErrUnsupported saying to disable in the KMS", err)
	}
}

// Nothing rempart may log or store — KeyID, Describe, any error — holds
// the key of a base64key URL (ENC-3: no plaintext key in logs).
func TestNoSecretInIDsOrErrors(t *testing.T) {
	k, url := localKey(t)
	s := open(t, url)
	ctx := context.Background()
	noSecret(t, "key id", s.KeyID(), k)
	noSecret(t, "describe", s.Describe(), k)

	var errs []error
	_, err := s.Create(ctx)
	errs = append(errs, err, s.Destroy(ctx, s.KeyID()))
	_, err = s.Open(ctx, "kms:other")
	errs = append(errs, err)
	_, err = s.Unwrap(ctx, []byte("garbage"), nil)
	errs = append(errs, err)
	enc := strings.TrimPrefix(url, "base64key://")
	for _, bad := range []string{
		url + "?x=1", url + "#f", url + "/path", "base64key://" + enc[:20], "base64key://" + enc + enc,
		"base64key://*" + enc[1:], "BASE64KEY://" + enc + "!", "base64key:" + enc, enc,
		"base64key://" + enc + "%zz", "unknown://" + enc,
	} {
		_, err := kms.Open(ctx, bad)
		if err == nil {
			t.Errorf("open of a malformed base64key url: got nil error")
			continue
		}
		errs = append(errs, err)
	}
	for _, err := range errs {
		if err == nil {
			t.Error("got a nil error, want one")
			continue
		}
		noSecret(t, "error", err.Error(), k)
	}
}

func TestOpenURLErrors(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct{ url, want string }{
		{"", "empty"},
		{"   ", "empty"},
		{"alias/rempart", "scheme://"},
		{"file:///etc/key", `scheme "file" is not supported`},
		{"gs://bucket/key", `scheme "gs" is not supported`},
		{"awskms:", "scheme://"},
		{"base64key://", "holds no key"},
		{"base64key://c2hvcnQ=", "32-byte key"},
		{"awskms://", "names no key"},
		{"hashivault://user:s3cret@rempart-root", "must not contain credentials"},
		{"gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k#x", "fragment"},
		{"azurekeyvault://v.vault.azure.net/keys/root", "must name the key version"},
		{"azurekeyvault://v.vault.azure.net/keys/root/", "must name the key version"},
	} {
		s, err := kms.Open(ctx, c.url)
		if err == nil {
			s.Close()
			t.Errorf("open %q: got nil error, want %q", c.url, c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("open %q: got %q, want it to contain %q", c.url, err, c.want)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("open %q: error %q contains the password", c.url, err)
		}
	}
}

func TestKeyringOverKMS(t *testing.T) {
	_, url := localKey(t)
	s := open(t, url)
	ctx := context.Background()
	kr := keys.NewKeyring(s, 1)
	wk, err := kr.NewTenantKeys(ctx, "ten_a")
	if err != nil {
		t.Fatal(err)
	}
	if wk.RootKeyID != s.KeyID() {
		t.Fatalf("root key id: got %s, want %s", wk.RootKeyID, s.KeyID())
	}
	if _, err := keys.NewKeyring(open(t, url), 1).Unwrap(ctx, wk); err != nil {
		t.Fatalf("unwrap with a new source on the same key: %v", err)
	}
	wk.TenantID = "ten_b"
	if _, err := kr.Unwrap(ctx, wk); err == nil {
		t.Fatal("unwrap under another tenant: got nil error")
	}
}
