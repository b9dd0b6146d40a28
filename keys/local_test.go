package keys_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/rempart/rempart/keys"
)

func TestLocalKeysVersions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := keys.NewLocalKeys(filepath.Join(dir, "root.key"))
	if _, err := src.Latest(ctx); !errors.Is(err, keys.ErrNoRootKey) {
		t.Fatalf("latest of an empty source: got %v, want ErrNoRootKey", err)
	}
	v1, err := src.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	v2, err := src.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v1.KeyID() == v2.KeyID() {
		t.Fatal("two versions share a key ID")
	}
	if _, err := os.Stat(filepath.Join(dir, "root.key.2")); err != nil {
		t.Fatalf("second version file: %v", err)
	}
	if latest, err := src.Latest(ctx); err != nil || latest.KeyID() != v2.KeyID() {
		t.Fatalf("latest: got %v, %v; want %s", latest, err, v2.KeyID())
	}
	w1, err := v1.Wrap(ctx, []byte("a tenant key of 32 bytes, really"), []byte("ad"))
	if err != nil {
		t.Fatal(err)
	}
	o1, err := src.Open(ctx, v1.KeyID())
	if err != nil {
		t.Fatal(err)
	}
	if k, err := o1.Unwrap(ctx, w1, []byte("ad")); err != nil || !bytes.HasPrefix(k, []byte("a tenant key")) {
		t.Fatalf("unwrap with the reopened version: got %q, %v", k, err)
	}
	if _, err := v2.Unwrap(ctx, w1, []byte("ad")); err == nil {
		t.Fatal("version 2 unwrapped what version 1 wrapped")
	}
	if err := src.Destroy(ctx, v1.KeyID()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "root.key")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("destroyed version's file: got %v, want it gone", err)
	}
	if _, err := src.Open(ctx, v1.KeyID()); !errors.Is(err, keys.ErrNoRootKey) {
		t.Fatalf("open a destroyed version: got %v, want ErrNoRootKey", err)
	}
	if latest, err := src.Latest(ctx); err != nil || latest.KeyID() != v2.KeyID() {
		t.Fatalf("latest after destroying v1: got %v, %v", latest, err)
	}
	v3, err := src.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "root.key.3")); err != nil || v3.KeyID() == v2.KeyID() {
		t.Fatalf("third version: %v", err)
	}
	os.Chmod(filepath.Join(dir, "root.key.2"), 0o644)
	if _, err := src.Open(ctx, v3.KeyID()); err == nil {
		t.Fatal("a world-readable version was accepted while searching the source")
	}
}

func TestKeyringUnwrapsUnderOlderRootVersions(t *testing.T) {
	ctx := context.Background()
	src := keys.NewLocalKeys(filepath.Join(t.TempDir(), "root.key"))
	v1, _ := src.Create(ctx)
	kr := keys.NewKeyring(v1, 10)
	kr.SetSource(src)
	old, err := kr.NewTenantKeys(ctx, "ten_a")
	if err != nil {
		t.Fatal(err)
	}
	v2, _ := src.Create(ctx)
	kr.Activate(v2)
	fresh, err := kr.NewTenantKeys(ctx, "ten_b")
	if err != nil {
		t.Fatal(err)
	}
	if old.RootKeyID != v1.KeyID() || fresh.RootKeyID != v2.KeyID() {
		t.Fatalf("root key IDs: got %s and %s, want %s and %s", old.RootKeyID, fresh.RootKeyID, v1.KeyID(), v2.KeyID())
	}
	// A keyring that starts on v2 finds v1 in the source.
	kr2 := keys.NewKeyring(v2, 10)
	kr2.SetSource(src)
	if _, err := kr2.Unwrap(ctx, old); err != nil {
		t.Fatalf("unwrap under v1 from a keyring on v2: %v", err)
	}
	kr3 := keys.NewKeyring(v2, 10)
	if _, err := kr3.Unwrap(ctx, old); !errors.Is(err, keys.ErrNoRootKey) {
		t.Fatalf("unwrap under v1 without a source: got %v, want ErrNoRootKey", err)
	}
}
