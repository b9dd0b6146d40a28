package db_test

import (
	"context"
	"strings"
	"testing"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/db"
)

// TestRestoreOntoNewerSchema: a restore target already migrated past the
// backup's schema holds data of its own; restoring onto it is refused as a
// conflict (BCK-2), unless asked to replace it.
func TestRestoreOntoNewerSchema(t *testing.T) {
	places(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		d, err := db.Open(ctx, db.Config{DSN: dsn}) // this binary's schema
		if err != nil {
			t.Fatal(err)
		}
		d.Close()
		_, err = db.OpenRestoreTarget(ctx, dsn, 1, false)
		if rempart.ErrorCode(err) != rempart.ECONFLICT || !strings.Contains(rempart.ErrorMessage(err), "newer schema") {
			t.Fatalf("restore at schema 1 onto a newer one: got %v, want conflict", err)
		}
		r, err := db.OpenRestoreTarget(ctx, dsn, 1, true)
		if err != nil {
			t.Fatalf("restore replacing the target: %v", err)
		}
		r.Close()
	})
}

// TestInsertChecksRows: a load names its table when a row does not fit its
// columns, and refuses a table without columns.
func TestInsertChecksRows(t *testing.T) {
	ctx := context.Background()
	d := OpenSQLite(t, t.TempDir())
	if err := d.Insert(ctx, "tenants", nil, [][]any{{}}); err == nil || !strings.Contains(err.Error(), "tenants") || !strings.Contains(err.Error(), "no columns") {
		t.Fatalf("insert without columns: got %v, want an error naming the table", err)
	}
	err := d.Insert(ctx, "meta", []string{"key", "value"}, [][]any{{"a", []byte("1")}, {"b"}})
	if err == nil || !strings.Contains(err.Error(), "meta") || !strings.Contains(err.Error(), "row 1") {
		t.Fatalf("insert of a short row: got %v, want an error naming the table and row", err)
	}
}
