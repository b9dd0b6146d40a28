package db_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/guard"
	"github.com/rempart/rempart/keys"
)

// TestMigration3KeepsKeys creates a tenant the way schema 2 stored its keys
// (the wrapped KEK beside each data key), migrates to the latest schema, and
// checks that the keys still unwrap and open what they sealed.
func TestMigration3KeepsKeys(t *testing.T) {
	places(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		root, err := keys.CreateLocalFile(filepath.Join(t.TempDir(), "root.key"))
		if err != nil {
			t.Fatal(err)
		}
		kr := keys.NewKeyring(root, 10)
		w, err := kr.NewTenantKeys(ctx, "ten_old")
		if err != nil {
			t.Fatal(err)
		}
		dk, err := kr.Unwrap(ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		sealed := keys.Seal(dk.AEAD, []byte("kept across migration 3"), []byte("ad"))

		old, err := db.Open(ctx, db.Config{DSN: dsn, Schema: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			`INSERT INTO tenants (id, name, status, created_at, updated_at) VALUES ('ten_old', 'Old Co', 'active', 1, 1)`,
		} {
			if err := old.ExecForTest(q); err != nil {
				t.Fatal(err)
			}
		}
		if err := old.ExecArgsForTest(`INSERT INTO tenant_keys (tenant_id, data_key_id, root_key_id, wrapped_kek, wrapped_dek, created_at, active) VALUES (?, ?, ?, ?, ?, 1, 1)`,
			"ten_old", w.DataKeyID, w.RootKeyID, w.WrappedKEK, w.WrappedDEK); err != nil {
			t.Fatal(err)
		}
		old.Close()

		d, err := db.Open(ctx, db.Config{DSN: dsn})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		ten, err := d.Tenant(ctx, "ten_old")
		if err != nil {
			t.Fatal(err)
		}
		c := rempart.Caller{Principal: rempart.Principal{ID: "sa_x", TenantID: ten.ID, Role: rempart.RoleWriter}}
		s, err := guard.Authorize(c, ten, guard.RecordsRead)
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.TenantKeys(ctx, s, "")
		if err != nil {
			t.Fatal(err)
		}
		if got.DataKeyID != w.DataKeyID || got.RootKeyID != w.RootKeyID || !bytes.Equal(got.WrappedKEK, w.WrappedKEK) || got.KEKID == "" {
			t.Fatalf("keys after migration: got %+v, want data key %s under root %s", got, w.DataKeyID, w.RootKeyID)
		}
		dk2, err := keys.NewKeyring(root, 10).Unwrap(ctx, got)
		if err != nil {
			t.Fatal(err)
		}
		if pt, err := keys.Open(dk2.AEAD, sealed, []byte("ad")); err != nil || string(pt) != "kept across migration 3" {
			t.Fatalf("open after migration: got %q, %v", pt, err)
		}
	})
}
