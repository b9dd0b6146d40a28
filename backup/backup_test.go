package backup_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/backup"
	"github.com/rempart/rempart/blobs"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/internal/blobstore"
	"github.com/rempart/rempart/keys"
	"github.com/rempart/rempart/vault"
)

var ctx = context.Background()

// env is a deployment: a database, its keys, the data plane, the audit log's
// signer and the backup service writing to a local backup location.
type env struct {
	t        testing.TB
	dsn      string
	d        *db.DB
	kr       *keys.Keyring
	roots    keys.RootKeys
	v        *vault.Service
	asigner  *audit.Signer
	auditKey string
	bsigner  *backup.Signer
	objects  backup.Objects
	// attachments is the attachments store, once withAttachments made one.
	attachments backup.Objects
	svc         *backup.Service
	admin       rempart.Caller
}

// place returns the DSN of a fresh, empty database of a dialect.
func place(t testing.TB, dialect string) string {
	t.Helper()
	if dialect == "sqlite" {
		return "sqlite:" + filepath.Join(t.TempDir(), "rempart.db")
	}
	dsn := os.Getenv("REMPART_TEST_POSTGRES")
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must run the PostgreSQL tests: set REMPART_TEST_POSTGRES")
		}
		t.Skip("REMPART_TEST_POSTGRES not set")
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := fmt.Sprintf("bk_%d_%d", time.Now().UnixNano(), os.Getpid())
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		admin.Close()
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}

func newEnv(t testing.TB, dialect string) *env {
	t.Helper()
	dsn := place(t, dialect)
	d, err := db.Open(ctx, db.Config{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	src := keys.NewLocalKeys(filepath.Join(t.TempDir(), "root.key"))
	root, err := src.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	kr := keys.NewKeyring(root, 100)
	kr.SetSource(src)
	askey, avkey, _ := audit.GenerateKey("test/audit")
	asigner, err := audit.NewSigner(askey)
	if err != nil {
		t.Fatal(err)
	}
	bskey, bvkey, _ := audit.GenerateKey("test/backup")
	bsigner, err := backup.NewSigner(bskey, bvkey)
	if err != nil {
		t.Fatal(err)
	}
	store, err := blobs.Open(ctx, filepath.Join(t.TempDir(), "backups"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e := &env{t: t, dsn: dsn, d: d, kr: kr, roots: src, asigner: asigner, auditKey: avkey, bsigner: bsigner,
		objects: blobstore.Objects{Store: store},
		v:       vault.New(d, kr, rempart.SystemClock{}, vault.Config{}),
		admin:   rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", Role: rempart.RoleSystemAdmin}},
	}
	e.svc = e.service(e.objects)
	return e
}

// service returns a backup service of e writing to objects.
func (e *env) service(objects backup.Objects) *backup.Service {
	return backup.New(backup.Config{Store: e.d, Source: e.d, Objects: objects, Attachments: e.attachments, Keys: e.kr, Signer: e.bsigner,
		Clock: rempart.SystemClock{}, Version: "test",
		Checkpoint: func(size uint64, root []byte) (string, error) {
			cp, err := e.asigner.Sign(size, root)
			return cp.Note, err
		}})
}

// withAttachments gives e an attachments store, a local directory, that the
// data plane writes and the backup service copies.
func (e *env) withAttachments() {
	e.t.Helper()
	store, err := blobs.Open(ctx, filepath.Join(e.t.TempDir(), "attachments"))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { store.Close() })
	att := blobstore.Objects{Store: store}
	e.attachments = att
	e.v = vault.New(e.d, e.kr, rempart.SystemClock{}, vault.Config{Objects: att})
	e.svc = e.service(e.objects)
}

// tenant creates a tenant with n records and returns its ID, a writer of it
// and the records' data by ID.
func (e *env) tenant(name string, n int) (string, rempart.Caller, map[string]string) {
	e.t.Helper()
	ten, err := e.v.CreateTenant(ctx, e.admin, name)
	if err != nil {
		e.t.Fatal(err)
	}
	w := rempart.Caller{Principal: rempart.Principal{ID: "sa_w_" + ten.ID, TenantID: ten.ID, Role: rempart.RoleWriter}}
	data := map[string]string{}
	for i := range n {
		body := fmt.Sprintf(`{"caller":"+33 1 23 45 67 %02d","tenant":%q,"i":%d}`, i%100, name, i)
		rec, _, err := e.v.CreateRecord(ctx, w, ten.ID, "calls", []byte(body), "")
		if err != nil {
			e.t.Fatal(err)
		}
		data[rec.ID] = body
	}
	return ten.ID, w, data
}

// opener opens restore targets at dsn.
func opener(dsn string, replace bool) backup.OpenTarget {
	return func(ctx context.Context, schema int) (backup.Target, error) {
		return db.OpenRestoreTarget(ctx, dsn, schema, replace)
	}
}

// restored opens the data plane over a restored database with e's root key
// source and a keyring that has unwrapped nothing yet.
func (e *env) restored(t backup.Target) *vault.Service {
	e.t.Helper()
	root, err := e.roots.Latest(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	kr := keys.NewKeyring(root, 100)
	kr.SetSource(e.roots)
	return vault.New(t.(*db.DB), kr, rempart.SystemClock{}, vault.Config{})
}

// checkRecords checks that every record of data reads back equal.
func checkRecords(t *testing.T, v *vault.Service, w rempart.Caller, tenant string, data map[string]string) {
	t.Helper()
	for id, want := range data {
		rec, err := v.GetRecord(ctx, w, tenant, "calls", id)
		if err != nil {
			t.Fatalf("record %s: %v", id, err)
		}
		if string(rec.Data) != want {
			t.Fatalf("record %s: got %s, want %s", id, rec.Data, want)
		}
	}
}

var dialects = []string{"sqlite", "postgres"}

func vaultList(cursor string) vault.ListOptions {
	return vault.ListOptions{Limit: 1000, Cursor: cursor}
}
