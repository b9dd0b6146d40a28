package db_test

import (
	"testing"

	"github.com/rempart/rempart/db"
)

// breakAudit makes every insert into the audit log fail, with a trigger:
// a real database error, not a mock.
func breakAudit(t *testing.T, d *db.DB) {
	t.Helper()
	q := `CREATE TRIGGER audit_broken BEFORE INSERT ON audit_entries BEGIN SELECT RAISE(ABORT, 'audit storage failure'); END`
	if d.Dialect() == db.Postgres {
		if err := d.ExecForTest(`CREATE FUNCTION audit_broken() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit storage failure'; END $$ LANGUAGE plpgsql`); err != nil {
			t.Fatal(err)
		}
		q = `CREATE TRIGGER audit_broken BEFORE INSERT ON audit_entries FOR EACH ROW EXECUTE FUNCTION audit_broken()`
	}
	if err := d.ExecForTest(q); err != nil {
		t.Fatal(err)
	}
}

func repairAudit(t *testing.T, d *db.DB) {
	t.Helper()
	q := `DROP TRIGGER audit_broken`
	if d.Dialect() == db.Postgres {
		q = `DROP TRIGGER audit_broken ON audit_entries`
	}
	if err := d.ExecForTest(q); err != nil {
		t.Fatal(err)
	}
}
