package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/backup"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/keys"
)

// TestKeysUnderAnOldRootAreRefused: once a rotation has made another root
// key version active, a key wrapped under the old one (by a node that has
// not followed yet) is refused in its own transaction, so the rotation never
// destroys a version something was being written under (ENC-3).
func TestKeysUnderAnOldRootAreRefused(t *testing.T) {
	dialects(t, func(t *testing.T, open func(t *testing.T) *db.DB) {
		ctx := context.Background()
		d := open(t)
		s := newTenant(t, d, "Acme") // under the root version "test", before any is recorded
		if err := d.PutMeta(ctx, entry("key.root.rotate"), "root_key_id", []byte("local:v2")); err != nil {
			t.Fatal(err)
		}
		// A tenant created, or a tenant's keys rotated, under the old version.
		now0 := time.Now().UTC()
		late := rempart.Tenant{ID: rempart.NewID("ten"), Name: "Late", Status: rempart.TenantActive, CreatedAt: now0, UpdatedAt: now0}
		old := keys.WrappedKeys{TenantID: late.ID, KEKID: rempart.NewID("kek"), DataKeyID: rempart.NewID("dk"), RootKeyID: "local:v1", WrappedKEK: []byte("k"), WrappedDEK: []byte("d")}
		if _, err := d.CreateTenant(ctx, entry("tenant.create"), late, old); rempart.ErrorCode(err) != rempart.ECONFLICT {
			t.Fatalf("tenant under the old root: got %v, want conflict", err)
		}
		old.TenantID = s.TenantID()
		if err := d.RotateTenantKeys(ctx, s, entry("key.tenant.rotate"), old); rempart.ErrorCode(err) != rempart.ECONFLICT {
			t.Fatalf("tenant rotation under the old root: got %v, want conflict", err)
		}
		old.RootKeyID = "local:v2"
		if err := d.RotateTenantKeys(ctx, s, entry("key.tenant.rotate"), old); err != nil {
			t.Fatalf("tenant rotation under the active root: %v", err)
		}
		now := time.Now()
		err := d.BackupStarted(ctx, entry("backup.start"), backup.Record{ID: "bk_old", Status: backup.StatusRunning, RootKeyID: "local:v1", WrappedKey: []byte("w"), CreatedAt: now})
		if rempart.ErrorCode(err) != rempart.ECONFLICT {
			t.Fatalf("backup key under the old root: got %v, want conflict", err)
		}
		if refs, _ := d.RootRefs(ctx); refs["local:v1"] != 0 {
			t.Fatalf("refs under the old root after the refusal: got %d, want 0", refs["local:v1"])
		}
		if err := d.BackupStarted(ctx, entry("backup.start"), backup.Record{ID: "bk_new", Status: backup.StatusRunning, RootKeyID: "local:v2", WrappedKey: []byte("w"), CreatedAt: now}); err != nil {
			t.Fatalf("backup key under the active root: %v", err)
		}

		ks, err := d.TenantKEKs(ctx, s)
		if err != nil || len(ks) == 0 {
			t.Fatalf("tenant KEKs: %v, %v", ks, err)
		}
		err = d.SetKEKWrapper(ctx, s, entry("key.tenant.customer_key.remove"), "local:v1", "", ks)
		if rempart.ErrorCode(err) != rempart.ECONFLICT {
			t.Fatalf("KEKs re-wrapped under the old root: got %v, want conflict", err)
		}
		if err := d.SetKEKWrapper(ctx, s, entry("key.tenant.customer_key.set"), keys.CustomerPrefix+"pkcs11:t/k", "pkcs11:token=t;object=k", ks); err != nil {
			t.Fatalf("KEKs under a tenant's own key: %v", err)
		}
	})
}
