package keys_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rempart/rempart/keys"
)

func TestLocalFileModeAndErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "root.key")
	if _, err := keys.OpenLocalFile(path); !errors.Is(err, keys.ErrNoRootKey) {
		t.Fatalf("open missing: got %v, want ErrNoRootKey", err)
	}
	k1, err := keys.CreateLocalFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Fatalf("mode: got %#o, want 0600", got)
	}
	if _, err := keys.CreateLocalFile(path); err == nil {
		t.Fatal("create over an existing key: got nil error, want refusal")
	}
	k2, err := keys.OpenLocalFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if k1.KeyID() != k2.KeyID() {
		t.Fatalf("key id: got %s, want %s", k2.KeyID(), k1.KeyID())
	}
	os.Chmod(path, 0o644)
	if _, err := keys.OpenLocalFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable key: got %v, want refusal", err)
	}
	os.Chmod(path, 0o600)
	os.WriteFile(path, []byte("not hex"), 0o600)
	if _, err := keys.OpenLocalFile(path); err == nil {
		t.Fatal("garbage key: got nil error")
	}
}

func TestKeyringRoundTripAndBinding(t *testing.T) {
	ctx := context.Background()
	root, err := keys.CreateLocalFile(filepath.Join(t.TempDir(), "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	kr := keys.NewKeyring(root, 2)
	wa, err := kr.NewTenantKeys(ctx, "ten_a")
	if err != nil {
		t.Fatal(err)
	}
	wb, _ := kr.NewTenantKeys(ctx, "ten_b")
	if bytes.Equal(wa.WrappedKEK, wb.WrappedKEK) || wa.DataKeyID == wb.DataKeyID {
		t.Fatal("two tenants share key material")
	}
	dka, err := kr.Unwrap(ctx, wa)
	if err != nil {
		t.Fatal(err)
	}
	ad := keys.AD("ten_a", "calls", "rec_1", "1")
	sealed := keys.Seal(dka.AEAD, []byte("secret"), ad)
	if bytes.Contains(sealed, []byte("secret")) {
		t.Fatal("plaintext visible in ciphertext")
	}
	pt, err := keys.Open(dka.AEAD, sealed, ad)
	if err != nil || string(pt) != "secret" {
		t.Fatalf("open: got %q, %v; want secret", pt, err)
	}
	// Ciphertext bound to tenant, record and version (TEN-2).
	for _, other := range [][]byte{keys.AD("ten_b", "calls", "rec_1", "1"), keys.AD("ten_a", "calls", "rec_2", "1"), keys.AD("ten_a", "calls", "rec_1", "2")} {
		if _, err := keys.Open(dka.AEAD, sealed, other); !errors.Is(err, keys.ErrDecrypt) {
			t.Fatalf("open with other AD: got %v, want ErrDecrypt", err)
		}
	}
	// Tenant B's key does not open tenant A's data.
	dkb, _ := kr.Unwrap(ctx, wb)
	if _, err := keys.Open(dkb.AEAD, sealed, ad); !errors.Is(err, keys.ErrDecrypt) {
		t.Fatalf("open with other tenant's key: got %v, want ErrDecrypt", err)
	}
	// A KEK moved to another tenant does not unwrap.
	swapped := wb
	swapped.WrappedKEK = wa.WrappedKEK
	kr2 := keys.NewKeyring(root, 2)
	if _, err := kr2.Unwrap(ctx, swapped); err == nil {
		t.Fatal("KEK of tenant A unwrapped as tenant B's")
	}
}

func TestKeyringCacheBound(t *testing.T) {
	ctx := context.Background()
	root, _ := keys.CreateLocalFile(filepath.Join(t.TempDir(), "root.key"))
	kr := keys.NewKeyring(root, 2)
	var ws []keys.WrappedKeys
	for _, id := range []string{"t1", "t2", "t3"} {
		w, _ := kr.NewTenantKeys(ctx, id)
		ws = append(ws, w)
		if _, err := kr.Unwrap(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := kr.Cached("t1", ws[0].DataKeyID); ok {
		t.Fatal("cache kept 3 keys with a bound of 2")
	}
	if _, ok := kr.Cached("t3", ws[2].DataKeyID); !ok {
		t.Fatal("most recent key not cached")
	}
	kr.Forget("t3")
	if _, ok := kr.Cached("t3", ws[2].DataKeyID); ok {
		t.Fatal("Forget left the key cached")
	}
}

func TestADUnambiguous(t *testing.T) {
	if bytes.Equal(keys.AD("ab", "c"), keys.AD("a", "bc")) {
		t.Fatal("AD(ab,c) == AD(a,bc)")
	}
}

func BenchmarkSealOpen1KiB(b *testing.B) {
	aead, _ := keys.NewAEAD(bytes.Repeat([]byte{7}, 32))
	pt := bytes.Repeat([]byte("x"), 1024)
	ad := keys.AD("ten_a", "calls", "rec_1", "1")
	b.SetBytes(1024)
	for b.Loop() {
		if _, err := keys.Open(aead, keys.Seal(aead, pt, ad), ad); err != nil {
			b.Fatal(err)
		}
	}
}
