//go:build cgo

package hsm_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/rempart/rempart/internal/softhsm"
	"github.com/rempart/rempart/keys"
	"github.com/rempart/rempart/keys/hsm"
)

// open starts a fresh SoftHSM2 token and opens it; the source is closed at
// the end of the test.
func open(t *testing.T) (*hsm.Source, *softhsm.Token) {
	t.Helper()
	tk := softhsm.New(t)
	s := openURI(t, tk.URI)
	return s, tk
}

func openURI(t *testing.T, uri string) *hsm.Source {
	t.Helper()
	s, err := hsm.Open(uri)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func create(t *testing.T, s *hsm.Source) keys.Provider {
	t.Helper()
	p, err := s.Create(context.Background())
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return p
}

func wrap(t *testing.T, p keys.Provider, key, ad []byte) []byte {
	t.Helper()
	w, err := p.Wrap(context.Background(), key, ad)
	if err != nil {
		t.Fatalf("wrap: %v", err)
	}
	return w
}

func TestEmptyTokenHasNoRootKey(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	if _, err := s.Latest(ctx); !errors.Is(err, keys.ErrNoRootKey) {
		t.Fatalf("latest on an empty token: got %v, want ErrNoRootKey", err)
	}
	if ids, err := s.Versions(ctx); err != nil || len(ids) != 0 {
		t.Fatalf("versions on an empty token: got %q, %v, want none", ids, err)
	}
	if _, err := s.Open(ctx, "pkcs11:rempart/rempart-root-1"); !errors.Is(err, keys.ErrNoRootKey) {
		t.Fatalf("open on an empty token: got %v, want ErrNoRootKey", err)
	}
	for _, id := range []string{"", "local:abcd", "pkcs11:other/rempart-root-1", "pkcs11:rempart/rempart-root-x", "pkcs11:rempart/rempart-root-01"} {
		if _, err := s.Open(ctx, id); !errors.Is(err, keys.ErrNoRootKey) {
			t.Errorf("open %q: got %v, want ErrNoRootKey", id, err)
		}
	}
}

func TestCreateLatestOpen(t *testing.T) {
	s, tk := open(t)
	ctx := context.Background()
	p := create(t, s)
	if got, want := p.KeyID(), "pkcs11:rempart/rempart-root-1"; got != want {
		t.Fatalf("key id: got %s, want %s", got, want)
	}
	latest, err := s.Latest(ctx)
	if err != nil {
		t.Fatalf("latest: %v", err)
	}
	if got := latest.KeyID(); got != p.KeyID() {
		t.Fatalf("latest: got %s, want %s", got, p.KeyID())
	}
	opened, err := s.Open(ctx, p.KeyID())
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	key := bytes.Repeat([]byte{7}, 32)
	got, err := opened.Unwrap(ctx, wrap(t, p, key, []byte("ad")), []byte("ad"))
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("unwrap through Open: got %x, %v, want %x", got, err, key)
	}
	if d := s.Describe(); !bytes.Contains([]byte(d), []byte(`"rempart"`)) || bytes.Contains([]byte(d), []byte(tk.PIN)) {
		t.Fatalf("describe: got %q, want the token label and no PIN", d)
	}
}

// TestWrapUnwrap: a PKCS#11 token holds the root key and wraps keys with
// it; the key never leaves the token (ENC-3).
func TestWrapUnwrap(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	p := create(t, s)
	key := []byte("0123456789abcdef0123456789abcdef")
	ad := keys.AD("rempart/kek/v1", "ten_a")
	w := wrap(t, p, key, ad)
	if got, want := len(w), 12+len(key)+16; got != want {
		t.Fatalf("wrapped length: got %d, want %d (iv ‖ ciphertext ‖ tag)", got, want)
	}
	if bytes.Contains(w, key) {
		t.Fatal("wrapped blob contains the key")
	}
	if w2 := wrap(t, p, key, ad); bytes.Equal(w[:12], w2[:12]) {
		t.Fatal("two wraps used the same IV")
	}
	got, err := p.Unwrap(ctx, w, ad)
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("unwrap: got %x, %v, want %x", got, err, key)
	}

	if _, err := p.Unwrap(ctx, w, keys.AD("rempart/kek/v1", "ten_b")); !errors.Is(err, keys.ErrDecrypt) {
		t.Fatalf("unwrap with another ad: got %v, want ErrDecrypt", err)
	}
	for _, i := range []int{0, 11, 12, 12 + 31, len(w) - 1} { // iv, ciphertext, tag
		bad := bytes.Clone(w)
		bad[i] ^= 1
		if _, err := p.Unwrap(ctx, bad, ad); !errors.Is(err, keys.ErrDecrypt) {
			t.Errorf("unwrap with bit flipped at %d: got %v, want ErrDecrypt", i, err)
		}
	}
	for _, bad := range [][]byte{nil, w[:27], w[:len(w)-1], append(bytes.Clone(w), 0)} {
		if _, err := p.Unwrap(ctx, bad, ad); !errors.Is(err, keys.ErrDecrypt) {
			t.Errorf("unwrap of %d bytes: got %v, want ErrDecrypt", len(bad), err)
		}
	}
	// The sessions are still usable after all those failures.
	if got, err := p.Unwrap(ctx, w, ad); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("unwrap after failures: got %x, %v, want %x", got, err, key)
	}
	empty := wrap(t, p, key, nil)
	if got, err := p.Unwrap(ctx, empty, nil); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("unwrap with empty ad: got %x, %v, want %x", got, err, key)
	}
}

func TestVersionsCoexist(t *testing.T) {
	s, tk := open(t)
	ctx := context.Background()
	v1, v2 := create(t, s), create(t, s)
	if got, want := v2.KeyID(), "pkcs11:rempart/rempart-root-2"; got != want {
		t.Fatalf("second version: got %s, want %s", got, want)
	}
	key, ad := bytes.Repeat([]byte{1}, 32), []byte("ad")
	w1, w2 := wrap(t, v1, key, ad), wrap(t, v2, key, ad)
	ids, err := s.Versions(ctx)
	if err != nil || len(ids) != 2 || ids[0] != v1.KeyID() || ids[1] != v2.KeyID() {
		t.Fatalf("versions: got %q, %v, want [%s %s]", ids, err, v1.KeyID(), v2.KeyID())
	}
	if _, err := v2.Unwrap(ctx, w1, ad); !errors.Is(err, keys.ErrDecrypt) {
		t.Fatalf("v2 unwraps v1's blob: got %v, want ErrDecrypt", err)
	}
	if _, err := v1.Unwrap(ctx, w2, ad); !errors.Is(err, keys.ErrDecrypt) {
		t.Fatalf("v1 unwraps v2's blob: got %v, want ErrDecrypt", err)
	}

	// The versions live on the token: a new source, after the first is
	// closed and the module finalised, still finds and uses them.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openURI(t, tk.URI)
	latest, err := s2.Latest(ctx)
	if err != nil || latest.KeyID() != v2.KeyID() {
		t.Fatalf("latest after reopen: got %v, %v, want %s", latest, err, v2.KeyID())
	}
	for _, c := range []struct {
		id string
		w  []byte
	}{{v1.KeyID(), w1}, {v2.KeyID(), w2}} {
		p, err := s2.Open(ctx, c.id)
		if err != nil {
			t.Fatalf("open %s after reopen: %v", c.id, err)
		}
		if got, err := p.Unwrap(ctx, c.w, ad); err != nil || !bytes.Equal(got, key) {
			t.Fatalf("unwrap under %s after reopen: got %x, %v, want %x", c.id, got, err, key)
		}
	}
}

func TestDestroy(t *testing.T) {
	s, tk := open(t)
	ctx := context.Background()
	v1 := create(t, s)
	key, ad := bytes.Repeat([]byte{2}, 32), []byte("ad")
	w := wrap(t, v1, key, ad)
	if err := s.Destroy(ctx, v1.KeyID()); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if _, err := s.Open(ctx, v1.KeyID()); !errors.Is(err, keys.ErrNoRootKey) {
		t.Fatalf("open after destroy: got %v, want ErrNoRootKey", err)
	}
	if _, err := s.Latest(ctx); !errors.Is(err, keys.ErrNoRootKey) {
		t.Fatalf("latest after destroying the only version: got %v, want ErrNoRootKey", err)
	}
	if got, err := v1.Unwrap(ctx, w, ad); err == nil {
		t.Fatalf("unwrap under a destroyed version: got %x, want an error", got)
	}
	if _, err := v1.Wrap(ctx, key, ad); !errors.Is(err, keys.ErrNoRootKey) {
		t.Fatalf("wrap under a destroyed version: got %v, want ErrNoRootKey", err)
	}
	if err := s.Destroy(ctx, v1.KeyID()); !errors.Is(err, keys.ErrNoRootKey) {
		t.Fatalf("destroy twice: got %v, want ErrNoRootKey", err)
	}
	// A destroyed version's number is never given to a new key.
	if got, want := create(t, s).KeyID(), "pkcs11:rempart/rempart-root-2"; got != want {
		t.Fatalf("create after destroy: got %s, want %s", got, want)
	}
	if got, err := v1.Unwrap(ctx, w, ad); err == nil {
		t.Fatalf("unwrap under a destroyed version, after a new one: got %x, want an error", got)
	}

	// Destroyed through another source (as by another node): the key is
	// gone from the token, so this source's version stops working too.
	v2, err := s.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w2 := wrap(t, v2, key, ad)
	if err := openURI(t, tk.URI).Destroy(ctx, v2.KeyID()); err != nil {
		t.Fatalf("destroy through another source: %v", err)
	}
	if got, err := v2.Unwrap(ctx, w2, ad); !errors.Is(err, keys.ErrNoRootKey) {
		t.Fatalf("unwrap under a version destroyed elsewhere: got %x, %v, want ErrNoRootKey", got, err)
	}
}

func TestKeyringOverHSM(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	kr := keys.NewKeyring(create(t, s), 1)
	wk, err := kr.NewTenantKeys(ctx, "ten_a")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := wk.RootKeyID, "pkcs11:rempart/rempart-root-1"; got != want {
		t.Fatalf("root key id: got %s, want %s", got, want)
	}
	if _, err := kr.Unwrap(ctx, wk); err != nil {
		t.Fatalf("keyring unwrap: %v", err)
	}
	wk.TenantID = "ten_b"
	if _, err := kr.Unwrap(ctx, wk); err == nil {
		t.Fatal("keyring unwrap under another tenant: got nil error")
	}
}

func TestClose(t *testing.T) {
	s, _ := open(t)
	p := create(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close twice: got %v, want nil", err)
	}
	if _, err := p.Wrap(context.Background(), make([]byte, 32), nil); err == nil {
		t.Fatal("wrap after close: got nil error")
	}
}
