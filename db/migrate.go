package db

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations
var migrations embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

func (d *DB) migrations() ([]migration, error) {
	dir := "migrations/" + string(d.dialect)
	ents, err := fs.ReadDir(migrations, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range ents {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("bad migration file name %s", e.Name())
		}
		b, err := migrations.ReadFile(dir + "/" + e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migrations of %s are not numbered 1..n: %s", d.dialect, m.name)
		}
	}
	return ms, nil
}

// SchemaVersion returns the highest migration this binary knows.
func (d *DB) SchemaVersion() int {
	ms, _ := d.migrations()
	return len(ms)
}

// migrate applies pending migrations up to version upTo (0: all), one
// transaction each, and refuses a database that has migrations this binary
// does not know.
func (d *DB) migrate(ctx context.Context, upTo int) error {
	ms, err := d.migrations()
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	if upTo < 0 || upTo > len(ms) {
		return fmt.Errorf("schema version %d: this binary knows 1 to %d", upTo, len(ms))
	}
	target := len(ms)
	if upTo > 0 {
		target = upTo
	}
	if _, err := d.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	if d.dialect == Postgres {
		// Several nodes may start at once: one migrates, the others wait.
		conn, err := d.write.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7245146)`); err != nil {
			return fmt.Errorf("lock migrations: %w", err)
		}
		defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(7245146)`)
	}
	var current int
	if err := d.write.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > len(ms) {
		return fmt.Errorf("database schema is version %d, newer than this binary knows (%d): upgrade rempart", current, len(ms))
	}
	if current > target {
		return fmt.Errorf("database schema is version %d, past the %d asked for: %w", current, target, errSchemaPast)
	}
	for _, m := range ms[current:target] {
		tx, err := d.write.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, d.q(`INSERT INTO schema_migrations (version, name) VALUES (?, ?)`), m.version, m.name); err != nil {
			tx.Rollback()
			return fmt.Errorf("record migration %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit migration %s: %w", m.name, err)
		}
	}
	return nil
}

// errSchemaPast reports a database already migrated past the schema version
// asked for (a restore target holding a newer schema, and so data).
var errSchemaPast = errors.New("schema past the version asked for")
