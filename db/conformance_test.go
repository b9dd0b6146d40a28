package db_test

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
	"github.com/rempart/rempart/db"
)

// dialects runs fn on SQLite always, and on PostgreSQL when
// REMPART_TEST_POSTGRES holds a DSN (CI sets it; under CI it must be set).
func dialects(t *testing.T, fn func(t *testing.T, open func(t *testing.T) *db.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, func(t *testing.T) *db.DB { return OpenSQLite(t, t.TempDir()) })
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := os.Getenv("REMPART_TEST_POSTGRES")
		if dsn == "" {
			if os.Getenv("CI") != "" {
				t.Fatal("CI must run the PostgreSQL conformance suite: set REMPART_TEST_POSTGRES")
			}
			t.Skip("REMPART_TEST_POSTGRES not set")
		}
		fn(t, func(t *testing.T) *db.DB { return OpenPostgres(t, dsn) })
	})
}

// OpenSQLite opens a fresh SQLite database in dir.
func OpenSQLite(t testing.TB, dir string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), db.Config{DSN: "sqlite:" + filepath.Join(dir, "test.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// OpenPostgres opens a fresh schema of the PostgreSQL database at dsn, dropped
// at cleanup, so that tests run in parallel without seeing each other.
func OpenPostgres(t testing.TB, dsn string) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), db.Config{DSN: PostgresSchema(t, dsn)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// places runs fn with the DSN of a fresh, empty database of each dialect, for
// tests that open and reopen it themselves.
func places(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, "sqlite:"+filepath.Join(t.TempDir(), "test.db")) })
	t.Run("postgres", func(t *testing.T) {
		dsn := os.Getenv("REMPART_TEST_POSTGRES")
		if dsn == "" {
			if os.Getenv("CI") != "" {
				t.Fatal("CI must run the PostgreSQL conformance suite: set REMPART_TEST_POSTGRES")
			}
			t.Skip("REMPART_TEST_POSTGRES not set")
		}
		fn(t, PostgresSchema(t, dsn))
	})
}

// PostgresSchema creates a fresh schema in the PostgreSQL database at dsn,
// dropped at cleanup, and returns a DSN that uses it.
func PostgresSchema(t testing.TB, dsn string) string {
	t.Helper()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := fmt.Sprintf("t_%d_%d", time.Now().UnixNano(), os.Getpid())
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	t.Cleanup(func() {
		admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		admin.Close()
	})
	return dsn + sep + "search_path=" + schema
}

func TestMigrationsRefuseNewerSchema(t *testing.T) {
	dir := t.TempDir()
	d := OpenSQLite(t, dir)
	if _, err := d.Audit(context.Background(), rempart.AuditEntry{Action: "test", Outcome: rempart.OutcomeSuccess}); err != nil {
		t.Fatal(err)
	}
	d.Close()
	raw, err := sql.Open("sqlite", filepath.Join(dir, "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO schema_migrations (version, name) VALUES (999, 'future.sql')`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	_, err = db.Open(context.Background(), db.Config{DSN: "sqlite:" + filepath.Join(dir, "test.db")})
	if err == nil || !strings.Contains(err.Error(), "newer than this binary") {
		t.Fatalf("open with schema 999: got %v, want refusal", err)
	}
}
