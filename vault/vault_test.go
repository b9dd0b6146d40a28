package vault_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/internal/testclock"
	"github.com/rempart/rempart/keys"
	"github.com/rempart/rempart/vault"
)

var ctx = context.Background()

type env struct {
	t      *testing.T
	db     *db.DB
	path   string
	v      *vault.Service
	clock  *testclock.Clock
	system rempart.Caller
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	clock := testclock.New(time.Now())
	path := filepath.Join(dir, "rempart.db")
	d, err := db.Open(ctx, db.Config{DSN: "sqlite:" + path, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	root, err := keys.CreateLocalFile(filepath.Join(dir, "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, db: d, path: path, clock: clock, v: vault.New(d, keys.NewKeyring(root, 100), clock, vault.Config{Retention: time.Hour}),
		system: rempart.Caller{Principal: rempart.Principal{ID: "sa_system", Role: rempart.RoleSystemAdmin}}}
}

// tenant creates a tenant and returns it with a caller of the given role in it.
func (e *env) tenant(name, role string) (string, rempart.Caller) {
	e.t.Helper()
	ten, err := e.v.CreateTenant(ctx, e.system, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return ten.ID, rempart.Caller{Principal: rempart.Principal{ID: rempart.NewID("sa"), TenantID: ten.ID, Role: role}, CredentialID: "key_test"}
}

// raw opens a second, independent connection to the database file: what an
// attacker with file access would use.
func (e *env) raw() *sql.DB {
	e.t.Helper()
	r, err := sql.Open("sqlite", e.path)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { r.Close() })
	return r
}

// TestCopiedCiphertextDoesNotDecrypt moves a record's stored row into another
// tenant and shows it does not decrypt there (TEN-2), nor under another
// record ID or version.
func TestCopiedCiphertextDoesNotDecrypt(t *testing.T) {
	e := newEnv(t)
	a, ca := e.tenant("A", rempart.RoleWriter)
	b, cb := e.tenant("B", rempart.RoleWriter)
	rec, _, err := e.v.CreateRecord(ctx, ca, a, "calls", []byte(`{"secret":"of A"}`), "")
	if err != nil {
		t.Fatal(err)
	}
	raw := e.raw()
	if _, err := raw.Exec(`INSERT INTO records (tenant_id, collection, id, version, created_at, updated_at, deleted_at, data_key_id, ciphertext)
		SELECT ?, collection, id, version, created_at, updated_at, deleted_at, data_key_id, ciphertext FROM records WHERE tenant_id = ? AND id = ?`, b, a, rec.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v.GetRecord(ctx, cb, b, "calls", rec.ID); err != vault.ErrUndecryptable {
		t.Fatalf("copied row read in tenant B: got %v, want ErrUndecryptable", err)
	}
	// Same tenant, but moved to another record ID.
	if _, err := raw.Exec(`INSERT INTO records (tenant_id, collection, id, version, created_at, updated_at, deleted_at, data_key_id, ciphertext)
		SELECT tenant_id, collection, 'stolen', version, created_at, updated_at, deleted_at, data_key_id, ciphertext FROM records WHERE tenant_id = ? AND id = ?`, a, rec.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v.GetRecord(ctx, ca, a, "calls", "stolen"); err != vault.ErrUndecryptable {
		t.Fatalf("row under another ID: got %v, want ErrUndecryptable", err)
	}
	// Rolled back to another version number.
	if _, err := raw.Exec(`UPDATE records SET version = 7 WHERE tenant_id = ? AND id = ?`, a, rec.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v.GetRecord(ctx, ca, a, "calls", rec.ID); err != vault.ErrUndecryptable {
		t.Fatalf("row at another version: got %v, want ErrUndecryptable", err)
	}
	// The failed reads are in the audit trail.
	es, err := e.db.AuditLog(ctx, audit.Query{Limit: 100, Action: "record.read"})
	if err != nil {
		t.Fatal(err)
	}
	failures := 0
	for _, en := range es {
		if en.Outcome == rempart.OutcomeFailure {
			failures++
		}
	}
	if failures != 3 {
		t.Fatalf("audited decryption failures: got %d, want 3", failures)
	}
}

func TestRecordLifecycle(t *testing.T) {
	e := newEnv(t)
	a, ca := e.tenant("A", rempart.RoleWriter)
	rec, created, err := e.v.CreateRecord(ctx, ca, a, "calls", []byte(`{"n": 1, "tags": ["x"]}`), "idem-1")
	if err != nil || !created || rec.Version != 1 || string(rec.Data) != `{"n":1,"tags":["x"]}` {
		t.Fatalf("create: got %+v created=%v err=%v", rec, created, err)
	}
	again, created, err := e.v.CreateRecord(ctx, ca, a, "calls", []byte(`{"n":1,"tags":["x"]}`), "idem-1")
	if err != nil || created || again.ID != rec.ID {
		t.Fatalf("idempotent retry: got %s created=%v err=%v; want %s, not created", again.ID, created, err, rec.ID)
	}
	if _, err := e.v.ReplaceRecord(ctx, ca, a, "calls", rec.ID, []byte(`{"n":2}`), 5); rempart.ErrorCode(err) != rempart.EPRECONDITION {
		t.Fatalf("replace with stale If-Match: got %v, want precondition_failed", err)
	}
	r2, err := e.v.ReplaceRecord(ctx, ca, a, "calls", rec.ID, []byte(`{"n":2,"keep":true}`), 1)
	if err != nil || r2.Version != 2 {
		t.Fatalf("replace: got %+v, %v", r2, err)
	}
	r3, err := e.v.PatchRecord(ctx, ca, a, "calls", rec.ID, []byte(`{"n":null,"added":{"deep":1}}`), 2)
	if err != nil || r3.Version != 3 || string(r3.Data) != `{"added":{"deep":1},"keep":true}` {
		t.Fatalf("patch: got %s v%d, %v", r3.Data, r3.Version, err)
	}
	if err := e.v.DeleteRecord(ctx, ca, a, "calls", rec.ID, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v.GetRecord(ctx, ca, a, "calls", rec.ID); rempart.ErrorCode(err) != rempart.ENOTFOUND {
		t.Fatalf("get after delete: got %v, want not_found", err)
	}
	del, err := e.v.ListRecords(ctx, ca, a, "calls", vault.ListOptions{Deleted: true})
	if err != nil || len(del.Records) != 1 {
		t.Fatalf("deleted listing: got %d, %v; want 1", len(del.Records), err)
	}
	back, err := e.v.RestoreRecord(ctx, ca, a, "calls", rec.ID)
	if err != nil || string(back.Data) != `{"added":{"deep":1},"keep":true}` {
		t.Fatalf("restore: got %s, %v", back.Data, err)
	}
	// After the retention period, a deleted record is purged for good (BCK-3).
	if err := e.v.DeleteRecord(ctx, ca, a, "calls", rec.ID, 0); err != nil {
		t.Fatal(err)
	}
	if n, err := e.v.Purge(ctx, 100); err != nil || n != 0 {
		t.Fatalf("purge inside retention: got %d, %v; want 0", n, err)
	}
	e.clock.Advance(2 * time.Hour)
	if n, err := e.v.Purge(ctx, 100); err != nil || n != 1 {
		t.Fatalf("purge after retention: got %d, %v; want 1", n, err)
	}
	if _, err := e.v.RestoreRecord(ctx, ca, a, "calls", rec.ID); rempart.ErrorCode(err) != rempart.ENOTFOUND {
		t.Fatalf("restore after purge: got %v, want not_found", err)
	}
}

func TestBadInputIsRefusedClearly(t *testing.T) {
	e := newEnv(t)
	a, ca := e.tenant("A", rempart.RoleWriter)
	deep := strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)
	cases := []struct {
		name, coll, data, code string
	}{
		{"not json", "calls", `{"a":`, rempart.EINVALID},
		{"not an object", "calls", `[1,2]`, rempart.EINVALID},
		{"too deep", "calls", deep, rempart.EINVALID},
		{"too large", "calls", `{"a":"` + strings.Repeat("x", 1<<20) + `"}`, rempart.ETOOLARGE},
		{"bad collection", "Calls!", `{}`, rempart.EINVALID},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := e.v.CreateRecord(ctx, ca, a, c.coll, []byte(c.data), "")
			if rempart.ErrorCode(err) != c.code || rempart.ErrorMessage(err) == "" {
				t.Fatalf("got %v, want code %s with a message", err, c.code)
			}
		})
	}
	if _, err := e.v.ListRecords(ctx, ca, a, "calls", vault.ListOptions{Cursor: "garbage!"}); rempart.ErrorCode(err) != rempart.EINVALID {
		t.Fatalf("bad cursor: got %v, want invalid", err)
	}
	page, err := e.v.ListRecords(ctx, ca, a, "calls", vault.ListOptions{})
	if err != nil || len(page.Records) != 0 {
		t.Fatalf("nothing was stored by bad input: got %d records, %v", len(page.Records), err)
	}
}
