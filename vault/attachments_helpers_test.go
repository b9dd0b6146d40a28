package vault_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/blobs"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/internal/blobstore"
	"github.com/rempart/rempart/internal/s3test"
	"github.com/rempart/rempart/internal/testclock"
	"github.com/rempart/rempart/keys"
	"github.com/rempart/rempart/vault"
)

// attEnv is the data plane over a real database (SQLite or PostgreSQL) and a
// real object store (a local directory or a versitygw S3 server).
type attEnv struct {
	*env
	dialect, storeKind string
	objects            *countingObjects
	objectDir          string // where the store's bytes land on disk
	sqliteDir          string // the database's directory, for SQLite
	rawDB              *sql.DB
}

// eachBackend runs fn on every combination of database and object store.
// PostgreSQL runs when REMPART_TEST_POSTGRES holds a DSN (it must under CI);
// S3 when versitygw is installed (it must be under CI).
func eachBackend(t *testing.T, fn func(t *testing.T, e *attEnv)) {
	t.Helper()
	for _, dialect := range []string{"sqlite", "postgres"} {
		for _, store := range []string{"local", "s3"} {
			t.Run(dialect+"/"+store, func(t *testing.T) { fn(t, newAttEnv(t, dialect, store, vault.AttachmentLimits{})) })
		}
	}
}

func newAttEnv(t *testing.T, dialect, storeKind string, limits vault.AttachmentLimits) *attEnv {
	t.Helper()
	dir := t.TempDir()
	clock := testclock.New(time.Now())
	e := &attEnv{dialect: dialect, storeKind: storeKind}
	dsn := "sqlite:" + filepath.Join(dir, "rempart.db")
	if dialect == "postgres" {
		base := os.Getenv("REMPART_TEST_POSTGRES")
		if base == "" {
			if os.Getenv("CI") != "" {
				t.Fatal("CI must run the PostgreSQL tests: set REMPART_TEST_POSTGRES")
			}
			t.Skip("REMPART_TEST_POSTGRES not set")
		}
		dsn = postgresSchema(t, base)
	} else {
		e.sqliteDir = dir
	}
	d, err := db.Open(ctx, db.Config{DSN: dsn, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	driver, raw := "sqlite", strings.TrimPrefix(dsn, "sqlite:")
	if dialect == "postgres" {
		driver = "pgx"
		raw = dsn
	}
	if e.rawDB, err = sql.Open(driver, raw); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.rawDB.Close() })

	location := filepath.Join(dir, "attachments")
	e.objectDir = location
	if storeKind == "s3" {
		srv := s3test.Start(t)
		location, e.objectDir = srv.Location, srv.Dir()
	}
	store, err := blobs.Open(ctx, location)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e.objects = &countingObjects{Objects: blobstore.Objects{Store: store}}

	root, err := keys.CreateLocalFile(filepath.Join(dir, "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	v := vault.New(d, keys.NewKeyring(root, 100), clock, vault.Config{Retention: time.Hour, Objects: e.objects, Attachments: limits})
	e.env = &env{t: t, db: d, path: filepath.Join(dir, "rempart.db"), clock: clock, v: v,
		system: rempart.Caller{Principal: rempart.Principal{ID: "sa_system", Role: rempart.RoleSystemAdmin}}}
	return e
}

// postgresSchema creates a fresh schema, dropped at cleanup, and returns a
// DSN that uses it.
func postgresSchema(t *testing.T, base string) string {
	t.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	schema := fmt.Sprintf("att_%d_%d", time.Now().UnixNano(), os.Getpid())
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		admin.Close()
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

// countingObjects counts the bytes read from the store, and can be made to
// fail deletions.
type countingObjects struct {
	vault.Objects
	read       atomic.Int64
	failDelete atomic.Bool
}

func (o *countingObjects) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := o.Objects.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	return &countingReader{rc, &o.read}, nil
}

func (o *countingObjects) GetRange(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	rc, err := o.Objects.GetRange(ctx, key, off, n)
	if err != nil {
		return nil, err
	}
	return &countingReader{rc, &o.read}, nil
}

func (o *countingObjects) Delete(ctx context.Context, key string) error {
	if o.failDelete.Load() {
		return errors.New("object store unreachable")
	}
	return o.Objects.Delete(ctx, key)
}

type countingReader struct {
	io.ReadCloser
	n *atomic.Int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	r.n.Add(int64(n))
	return n, err
}

// content returns n reproducible pseudo-random bytes.
func content(n int, seed byte) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{seed}).Read(b)
	return b
}

func digestOf(b []byte) func() ([]byte, error) {
	sum := sha256.Sum256(b)
	return func() ([]byte, error) { return sum[:], nil }
}

// record creates a record in tenant and returns its ID.
func (e *attEnv) record(c rempart.Caller, tenant string) string {
	e.t.Helper()
	rec, _, err := e.v.CreateRecord(ctx, c, tenant, "calls", []byte(`{"n":1}`), "")
	if err != nil {
		e.t.Fatal(err)
	}
	return rec.ID
}

// upload attaches data to a record, declaring its SHA-256.
func (e *attEnv) upload(c rempart.Caller, tenant, rec string, data []byte) rempart.Attachment {
	e.t.Helper()
	a, err := e.v.UploadAttachment(ctx, c, tenant, "calls", rec, vault.Upload{Filename: "call.wav", ContentType: "audio/wav", Size: int64(len(data)), SHA256: digestOf(data)}, bytes.NewReader(data))
	if err != nil {
		e.t.Fatalf("upload %d bytes: %v", len(data), err)
	}
	return a
}

// read reads an attachment (or ranges of it) to the end.
func (e *attEnv) read(c rempart.Caller, tenant, rec, id string, o vault.ReadOptions) ([]byte, *vault.Download, error) {
	d, err := e.v.ReadAttachment(ctx, c, tenant, "calls", rec, id, o)
	if err != nil {
		return nil, nil, err
	}
	defer d.Body.Close()
	b, err := io.ReadAll(d.Body)
	return b, d, err
}

func key(tenant, id string) string { return "attachments/" + tenant + "/" + id }

// objectBytes returns a stored object whole.
func (e *attEnv) objectBytes(k string) []byte {
	e.t.Helper()
	rc, err := e.objects.Objects.Get(ctx, k)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *attEnv) putObject(k string, b []byte) {
	e.t.Helper()
	if _, err := e.objects.Put(ctx, k, bytes.NewReader(b)); err != nil {
		e.t.Fatal(err)
	}
}

// keys lists the objects under a tenant's prefix.
func (e *attEnv) keys(tenant string) []string {
	e.t.Helper()
	ks, err := e.objects.Keys(ctx, "attachments/"+tenant+"/")
	if err != nil {
		e.t.Fatal(err)
	}
	return ks
}

// audited returns the audit entries of an action.
func (e *attEnv) audited(action string) []rempart.AuditEntry {
	e.t.Helper()
	es, err := e.db.AuditLog(ctx, audit.Query{Limit: 1000, Action: action})
	if err != nil {
		e.t.Fatal(err)
	}
	return es
}

func outcomes(es []rempart.AuditEntry) map[string]int {
	m := map[string]int{}
	for _, en := range es {
		m[en.Outcome]++
	}
	return m
}
