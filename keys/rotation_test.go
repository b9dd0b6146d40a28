package keys_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/keys"
	"github.com/rempart/rempart/vault"
)

// freshDB opens an empty database of a dialect.
func freshDB(t *testing.T, dialect string) *db.DB {
	t.Helper()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "rempart.db")
	if dialect == "postgres" {
		base := os.Getenv("REMPART_TEST_POSTGRES")
		if base == "" {
			if os.Getenv("CI") != "" {
				t.Fatal("CI must run the PostgreSQL tests: set REMPART_TEST_POSTGRES")
			}
			t.Skip("REMPART_TEST_POSTGRES not set")
		}
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Fatal(err)
		}
		schema := fmt.Sprintf("rot_%d_%d", time.Now().UnixNano(), os.Getpid())
		if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); admin.Close() })
		sep := "?"
		if strings.Contains(base, "?") {
			sep = "&"
		}
		dsn = base + sep + "search_path=" + schema
	}
	d, err := db.Open(context.Background(), db.Config{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

var secrets = []keys.Secret{{Name: "audit_signer", Label: "rempart/audit-signer/v1"}}

// TestRootRotation rotates the root key of a deployment with tenants and a
// secret stored before versions existed: new KEKs go under the new version
// at once, a re-wrap interrupted after its first batch resumes, everything
// ends under the new version, the old version is destroyed only after the
// escrow hook ran, and every record still reads with a keyring that knows
// only the new version (ENC-3).
func TestRootRotation(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			d := freshDB(t, dialect)
			dir := t.TempDir()
			src := keys.NewLocalKeys(filepath.Join(dir, "root.key"))
			v1, err := src.Create(ctx)
			if err != nil {
				t.Fatal(err)
			}
			kr := keys.NewKeyring(v1, 1000)
			kr.SetSource(src)
			put := rempart.AuditEntry{Action: "test", Outcome: rempart.OutcomeSuccess}
			if err := d.PutMeta(ctx, put, "root_key_id", []byte(v1.KeyID())); err != nil {
				t.Fatal(err)
			}
			// The audit signer as stored before root key versions: the
			// wrapped bytes alone.
			skey, _, _ := audit.GenerateKey("test/rot")
			legacy, _ := v1.Wrap(ctx, []byte(skey), keys.AD("rempart/audit-signer/v1"))
			if err := d.PutMeta(ctx, put, "audit_signer", legacy); err != nil {
				t.Fatal(err)
			}
			v := vault.New(d, kr, rempart.SystemClock{}, vault.Config{})
			admin := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", Role: rempart.RoleSystemAdmin}}
			type rec struct{ tenant, id, body string }
			var recs []rec
			write := func(name string, n int) {
				ten, err := v.CreateTenant(ctx, admin, name)
				if err != nil {
					t.Fatal(err)
				}
				w := rempart.Caller{Principal: rempart.Principal{ID: "sa_w", TenantID: ten.ID, Role: rempart.RoleWriter}}
				for i := range n {
					body := fmt.Sprintf(`{"n":%d,"t":%q}`, i, name)
					r, _, err := v.CreateRecord(ctx, w, ten.ID, "calls", []byte(body), "")
					if err != nil {
						t.Fatal(err)
					}
					recs = append(recs, rec{ten.ID, r.ID, body})
				}
			}
			for i := range 130 { // more than one re-wrap batch of tenants
				write(fmt.Sprintf("Tenant %03d", i), 1)
			}
			escrowed := 0
			rot := keys.NewRotator(d, kr, src, secrets, func(context.Context) error { escrowed++; return nil })
			v2id, err := rot.Start(ctx, admin)
			if err != nil {
				t.Fatal(err)
			}
			if v2id == v1.KeyID() || kr.RootKeyID() != v2id {
				t.Fatalf("after start: active %s, want a new version", kr.RootKeyID())
			}
			if got, _ := d.Meta(ctx, "root_key_id"); string(got) != v2id {
				t.Fatalf("meta root_key_id: got %s, want %s", got, v2id)
			}
			write("After Start", 3) // its KEK is wrapped under v2 at once
			if _, total, _ := d.StaleWrapped(ctx, v2id, 1); total != 130 {
				t.Fatalf("stale keys after start: got %d, want 130", total)
			}
			// The job stops after its first batch (its node died) …
			stop := errors.New("node stopped")
			err = rot.Rewrap(ctx, func(done, total int64) error {
				if done > 0 {
					return stop
				}
				return nil
			})
			if !errors.Is(err, stop) {
				t.Fatalf("interrupted rewrap: got %v", err)
			}
			if _, total, _ := d.StaleWrapped(ctx, v2id, 1); total != 30 {
				t.Fatalf("stale keys after one batch: got %d, want 30", total)
			}
			if _, err := os.Stat(filepath.Join(dir, "root.key")); err != nil {
				t.Fatal("version 1 was destroyed before the re-wrap finished")
			}
			// … and resumes.
			var last [2]int64
			if err := rot.Rewrap(ctx, func(done, total int64) error { last = [2]int64{done, total}; return nil }); err != nil {
				t.Fatal(err)
			}
			if last[0] != 30 || last[1] != 30 {
				t.Fatalf("progress of the resumed job: got %v, want 30/30", last)
			}
			if _, total, _ := d.StaleWrapped(ctx, v2id, 1); total != 0 {
				t.Fatalf("stale keys after the re-wrap: got %d, want 0", total)
			}
			if escrowed != 1 {
				t.Fatalf("escrow hook ran %d times before destroying, want 1", escrowed)
			}
			if _, err := os.Stat(filepath.Join(dir, "root.key")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("version 1 not destroyed: %v", err)
			}
			stored, _ := d.Meta(ctx, "audit_signer")
			if keys.SecretRootKeyID(stored, "") != v2id {
				t.Fatalf("audit signer still under %q", keys.SecretRootKeyID(stored, ""))
			}
			// A node that knows only version 2 reads everything.
			v2, err := src.Open(ctx, v2id)
			if err != nil {
				t.Fatal(err)
			}
			kr2 := keys.NewKeyring(v2, 1000)
			kr2.SetSource(src)
			v2vault := vault.New(d, kr2, rempart.SystemClock{}, vault.Config{})
			for _, r := range recs {
				w := rempart.Caller{Principal: rempart.Principal{ID: "sa_w", TenantID: r.tenant, Role: rempart.RoleWriter}}
				got, err := v2vault.GetRecord(ctx, w, r.tenant, "calls", r.id)
				if err != nil || string(got.Data) != r.body {
					t.Fatalf("record %s after rotation: got %s, %v", r.id, got.Data, err)
				}
			}
			if s, err := kr2.UnwrapSecret(ctx, stored, keys.AD("rempart/audit-signer/v1"), ""); err != nil || string(s) != skey {
				t.Fatalf("audit signer after rotation: %v", err)
			}
		})
	}
}
