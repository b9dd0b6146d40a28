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

// TestTenantKeyRotation rotates one tenant's keys: new writes use the new
// data key at once, a re-encryption job (stopped once, resumed) re-seals
// every record, deleted ones included, leaves the other tenant alone, drops
// the data key that seals nothing any more, and keeps the retired KEK while
// a backup taken before may need it (ENC-3, ADR 7).
func TestTenantKeyRotation(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			d := freshDB(t, dialect)
			src := keys.NewLocalKeys(filepath.Join(t.TempDir(), "root.key"))
			root, _ := src.Create(ctx)
			kr := keys.NewKeyring(root, 1000)
			kr.SetSource(src)
			v := vault.New(d, kr, rempart.SystemClock{}, vault.Config{})
			admin := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", Role: rempart.RoleSystemAdmin}}
			jobs := &fakeJobs{}
			k := vault.NewKeys(v, jobs)
			a, _ := v.CreateTenant(ctx, admin, "Acme")
			b, _ := v.CreateTenant(ctx, admin, "Globex")
			wa := rempart.Caller{Principal: rempart.Principal{ID: "sa_wa", TenantID: a.ID, Role: rempart.RoleAdmin}}
			wb := rempart.Caller{Principal: rempart.Principal{ID: "sa_wb", TenantID: b.ID, Role: rempart.RoleWriter}}
			want := map[string]string{}
			for i := range 450 {
				body := fmt.Sprintf(`{"i":%d}`, i)
				r, _, err := v.CreateRecord(ctx, wa, a.ID, "calls", []byte(body), "")
				if err != nil {
					t.Fatal(err)
				}
				want[r.ID] = body
			}
			var deleted string
			for id := range want {
				deleted = id
				break
			}
			if err := v.DeleteRecord(ctx, wa, a.ID, "calls", deleted, 0); err != nil {
				t.Fatal(err)
			}
			rb, _, _ := v.CreateRecord(ctx, wb, b.ID, "calls", []byte(`{"other":true}`), "")
			before, _ := k.Inventory(ctx, wa, a.ID)
			// A backup record taken before the rotation: the retired KEK must
			// outlive it.
			if err := d.BackupStarted(ctx, rempart.AuditEntry{Action: "backup.start", Outcome: rempart.OutcomeSuccess},
				rempart.Backup{ID: "bk_old", Status: "complete", RootKeyID: root.KeyID(), WrappedKey: []byte("w"), CreatedAt: time.Now().Add(-time.Hour)}); err != nil {
				t.Fatal(err)
			}
			if _, err := k.Rotate(ctx, wb, a.ID); rempart.ErrorCode(err) != rempart.ENOTFOUND {
				t.Fatalf("rotation by another tenant's writer: got %v, want not_found", err)
			}
			job, err := k.Rotate(ctx, wa, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(jobs.enqueued) != 1 || job.Kind != vault.KindReencrypt {
				t.Fatalf("jobs: got %+v", jobs.enqueued)
			}
			after, _ := k.Inventory(ctx, wa, a.ID)
			var active rempart.DataKeyInfo
			for _, dk := range after.DataKeys {
				if dk.Active {
					active = dk
				}
			}
			if len(after.DataKeys) != 2 || len(after.KEKs) != 2 || active.ID == before.DataKeys[0].ID || active.Records != 0 {
				t.Fatalf("inventory after rotation: got %+v", after)
			}
			r, _, _ := v.CreateRecord(ctx, wa, a.ID, "calls", []byte(`{"new":true}`), "")
			want[r.ID] = `{"new":true}`
			// The job stops after its first batch, then resumes.
			stop := errors.New("node stopped")
			err = k.Reencrypt(ctx, a.ID, func(done, total int64) error {
				if done > 0 {
					return stop
				}
				return nil
			})
			if !errors.Is(err, stop) {
				t.Fatalf("interrupted re-encryption: %v", err)
			}
			if err := k.Reencrypt(ctx, a.ID, nil); err != nil {
				t.Fatal(err)
			}
			inv, _ := k.Inventory(ctx, wa, a.ID)
			if len(inv.DataKeys) != 1 || inv.DataKeys[0].ID != active.ID || inv.DataKeys[0].Records != 451 {
				t.Fatalf("data keys after re-encryption: got %+v, want only the new one sealing 451 records", inv.DataKeys)
			}
			if len(inv.KEKs) != 2 {
				t.Fatalf("KEKs: got %d, want the retired one kept for the older backup", len(inv.KEKs))
			}
			// Every record reads back through a keyring that unwrapped nothing yet.
			kr2 := keys.NewKeyring(root, 1000)
			v2 := vault.New(d, kr2, rempart.SystemClock{}, vault.Config{})
			for id, body := range want {
				if id == deleted {
					continue
				}
				got, err := v2.GetRecord(ctx, wa, a.ID, "calls", id)
				if err != nil || string(got.Data) != body {
					t.Fatalf("record %s: got %s, %v", id, got.Data, err)
				}
			}
			if _, err := v2.RestoreRecord(ctx, wa, a.ID, "calls", deleted); err != nil {
				t.Fatalf("restore a deleted record re-sealed by the rotation: %v", err)
			}
			if got, err := v2.GetRecord(ctx, wb, b.ID, "calls", rb.ID); err != nil || string(got.Data) != `{"other":true}` {
				t.Fatalf("the other tenant: %s, %v", got.Data, err)
			}
			// Once the older backup is gone, the retired KEK goes too.
			if err := d.BackupFinished(ctx, rempart.AuditEntry{Action: "backup.delete", Outcome: rempart.OutcomeSuccess},
				rempart.Backup{ID: "bk_old", Status: "deleted"}); err != nil {
				t.Fatal(err)
			}
			if err := k.Reencrypt(ctx, a.ID, nil); err != nil {
				t.Fatal(err)
			}
			if inv, _ := k.Inventory(ctx, wa, a.ID); len(inv.KEKs) != 1 || !inv.KEKs[0].Active {
				t.Fatalf("KEKs after the backup's deletion: got %+v, want the active one only", inv.KEKs)
			}
		})
	}
}

type fakeJobs struct{ enqueued []rempart.Job }

func (f *fakeJobs) Enqueue(_ context.Context, _ rempart.Caller, kind, key string, params any, _ time.Time) (rempart.Job, bool, error) {
	j := rempart.Job{ID: rempart.NewID("job"), Kind: kind, UniqueKey: key}
	f.enqueued = append(f.enqueued, j)
	return j, true, nil
}

// TestSealLimitRotates counts seals by leases on two nodes sharing one
// database: the stored count never falls below the seals made, and when it
// reaches the limit the tenant's keys are rotated by rempart itself, once
// (ENC-3: AES-GCM's random-nonce bound).
func TestSealLimitRotates(t *testing.T) {
	ctx := context.Background()
	d := freshDB(t, "sqlite")
	src := keys.NewLocalKeys(filepath.Join(t.TempDir(), "root.key"))
	root, _ := src.Create(ctx)
	admin := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", Role: rempart.RoleSystemAdmin}}
	jobs := &fakeJobs{}
	var nodes []*vault.Service
	var rotations int
	for range 2 {
		kr := keys.NewKeyring(root, 100)
		v := vault.New(d, kr, rempart.SystemClock{}, vault.Config{})
		k := vault.NewKeys(v, jobs)
		kr.SetSealPolicy(keys.SealPolicy{Leaser: d.LeaseSeals, Lease: 10, Limit: 25,
			OnLimit: func(ctx context.Context, tenant, dk string) {
				rotations++
				if err := k.AutoRotate(ctx, tenant, dk); err != nil {
					t.Error(err)
				}
			}})
		nodes = append(nodes, v)
	}
	ten, err := nodes[0].CreateTenant(ctx, admin, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	w := rempart.Caller{Principal: rempart.Principal{ID: "sa_w", TenantID: ten.ID, Role: rempart.RoleAdmin}}
	inv := func() rempart.TenantKeys {
		ks, err := d.TenantKeyInventory(ctx, ten.ID)
		if err != nil || len(ks) != 1 {
			t.Fatalf("inventory: %v, %v", ks, err)
		}
		return ks[0]
	}
	first := inv().DataKeys[0].ID
	for i := range 12 { // 12 writes, alternating nodes, 2 seals reserved each
		if _, _, err := nodes[i%2].CreateRecord(ctx, w, ten.ID, "calls", []byte(`{"n":1}`), ""); err != nil {
			t.Fatal(err)
		}
		for _, dk := range inv().DataKeys {
			if dk.ID == first && dk.Seals < int64(2*(i+1)) {
				t.Fatalf("after %d writes the stored count is %d, below the %d seals reserved", i+1, dk.Seals, 2*(i+1))
			}
		}
	}
	if rotations != 1 {
		t.Fatalf("rotations started: got %d, want 1", rotations)
	}
	now := inv()
	var active rempart.DataKeyInfo
	for _, dk := range now.DataKeys {
		if dk.Active {
			active = dk
		}
	}
	if len(now.DataKeys) != 2 || active.ID == first || len(jobs.enqueued) != 1 || jobs.enqueued[0].Kind != vault.KindReencrypt {
		t.Fatalf("after the limit: data keys %+v, jobs %+v; want a new active key and a re-encryption job", now.DataKeys, jobs.enqueued)
	}
	es, _ := d.AuditLog(ctx, audit.Query{Limit: 1000, Action: "key.tenant.rotate"})
	if len(es) != 1 || es[0].PrincipalID != "system:seal-limit" {
		t.Fatalf("audit of the automatic rotation: %+v", es)
	}
}

// failingVersions is a root key source that cannot list its versions.
type failingVersions struct{ *keys.LocalKeys }

func (failingVersions) Versions(context.Context) ([]string, error) {
	return nil, errors.New("token unreachable")
}

// TestRewrapReportsUnlistableVersions: when the source cannot list its
// versions, the re-wrap job fails saying so rather than ending as if there
// were nothing left to destroy (ENC-3).
func TestRewrapReportsUnlistableVersions(t *testing.T) {
	ctx := context.Background()
	d := freshDB(t, "sqlite")
	dir := t.TempDir()
	local := keys.NewLocalKeys(filepath.Join(dir, "root.key"))
	v1, _ := local.Create(ctx)
	kr := keys.NewKeyring(v1, 10)
	kr.SetSource(local)
	put := rempart.AuditEntry{Action: "test", Outcome: rempart.OutcomeSuccess}
	if err := d.PutMeta(ctx, put, "root_key_id", []byte(v1.KeyID())); err != nil {
		t.Fatal(err)
	}
	rot := keys.NewRotator(d, kr, failingVersions{local}, nil, nil)
	admin := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", Role: rempart.RoleSystemAdmin}}
	if _, err := rot.Start(ctx, admin); err != nil {
		t.Fatal(err)
	}
	err := rot.Rewrap(ctx, nil)
	if err == nil || !strings.Contains(err.Error(), "token unreachable") {
		t.Fatalf("rewrap with unlistable versions: got %v, want the source's error", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "root.key")); err != nil {
		t.Fatalf("version 1 after the failed rewrap: %v, want kept", err)
	}
}
