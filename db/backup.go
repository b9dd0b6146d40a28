package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/backup"
)

// snapshot is a read transaction: SQLite's WAL or PostgreSQL's repeatable
// read gives it one consistent view while writes go on.
type snapshot struct {
	d      *DB
	tx     *sql.Tx
	schema int
}

// Snapshot calls fn with a consistent snapshot of the whole database.
func (d *DB) Snapshot(ctx context.Context, fn func(backup.Snapshot) error) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if d.dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := d.read.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin snapshot: %w", err)
	}
	defer tx.Rollback()
	s := &snapshot{d: d, tx: tx}
	// The first read fixes the snapshot.
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&s.schema); err != nil {
		return fmt.Errorf("schema version: %w", err)
	}
	return fn(s)
}

func (s *snapshot) Dialect() string { return string(s.d.dialect) }

func (s *snapshot) SchemaVersion() int { return s.schema }

func (s *snapshot) Tables(ctx context.Context) ([]backup.Table, error) {
	return tables(ctx, s.d.dialect, s.tx)
}

func (s *snapshot) Rows(ctx context.Context, t backup.Table, fn func([]any) error) error {
	rows, err := s.tx.QueryContext(ctx, `SELECT `+quoteCols(t.Columns)+` FROM `+quoteIdent(t.Name))
	if err != nil {
		return err
	}
	defer rows.Close()
	vals := make([]any, len(t.Columns))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if err := fn(vals); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Objects lists the attachments the snapshot refers to.
func (s *snapshot) Objects(ctx context.Context, fn func(string) error) error {
	rows, err := s.tx.QueryContext(ctx, `SELECT object_key FROM attachments ORDER BY object_key`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return err
		}
		if err := fn(k); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (s *snapshot) AuditTree(ctx context.Context) (uint64, []byte, error) {
	t, err := readTree(&Tx{db: s.d, ctx: ctx, pool: s.d.read, tx: s.tx})
	if err != nil {
		return 0, nil, err
	}
	return t.Size(), t.Root(), nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// tables lists the database's tables with their columns, ordered so that a
// table comes after every table its foreign keys refer to.
func tables(ctx context.Context, dialect Dialect, q querier) ([]backup.Table, error) {
	var names []string
	var err error
	if dialect == Postgres {
		names, err = strings1(ctx, q, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`)
	} else {
		names, err = strings1(ctx, q, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	}
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	deps := map[string][]string{}
	cols := map[string][]string{}
	for _, n := range names {
		if dialect == Postgres {
			cols[n], err = strings1(ctx, q, `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, n)
			if err == nil {
				deps[n], err = strings1(ctx, q, `SELECT DISTINCT ccu.table_name FROM information_schema.table_constraints tc
					JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema
					WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema() AND tc.table_name = $1`, n)
			}
		} else {
			cols[n], err = strings1(ctx, q, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, n)
			if err == nil {
				deps[n], err = strings1(ctx, q, `SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)`, n)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("describe table %s: %w", n, err)
		}
	}
	var out []backup.Table
	done := map[string]bool{}
	var visit func(n string, depth int) error
	visit = func(n string, depth int) error {
		if done[n] {
			return nil
		}
		if depth > len(names) {
			return fmt.Errorf("foreign keys form a cycle at table %s", n)
		}
		for _, dep := range deps[n] {
			if dep != n {
				if err := visit(dep, depth+1); err != nil {
					return err
				}
			}
		}
		done[n] = true
		out = append(out, backup.Table{Name: n, Columns: cols[n]})
		return nil
	}
	sort.Strings(names)
	for _, n := range names {
		if err := visit(n, 0); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func strings1(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	return stringColumn(q.QueryContext(ctx, query, args...))
}

// stringColumn reads a query's one string column.
func stringColumn(rows *sql.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func quoteCols(cs []string) string {
	q := make([]string, len(cs))
	for i, c := range cs {
		q[i] = quoteIdent(c)
	}
	return strings.Join(q, ", ")
}

// OpenRestoreTarget opens the database at dsn, migrated to schema, to restore
// a backup into. With replace, whatever it holds is dropped first (an SQLite
// file is removed; a PostgreSQL schema's tables are dropped).
func OpenRestoreTarget(ctx context.Context, dsn string, schema int, replace bool) (*DB, error) {
	if replace {
		if err := dropAll(ctx, dsn); err != nil {
			return nil, fmt.Errorf("empty the target: %w", err)
		}
	}
	d, err := Open(ctx, Config{DSN: dsn, Schema: schema})
	if errors.Is(err, errSchemaPast) {
		return nil, rempart.Errorf(rempart.ECONFLICT, "The target database already holds a newer schema and data; restoring would replace them. Ask for it explicitly (--replace) or give an empty database.")
	}
	return d, err
}

func dropAll(ctx context.Context, dsn string) error {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		path := strings.TrimPrefix(dsn, "sqlite:")
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		return nil
	}
	conn, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer conn.Close()
	names, err := strings1(ctx, conn, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	if err != nil {
		return err
	}
	for _, n := range names {
		if _, err := conn.ExecContext(ctx, `DROP TABLE IF EXISTS `+quoteIdent(n)+` CASCADE`); err != nil {
			return err
		}
	}
	return nil
}

// Empty reports whether the database holds no data: no row in any table but
// the migrations' own.
func (d *DB) Empty(ctx context.Context) (bool, error) {
	ts, err := tables(ctx, d.dialect, d.read)
	if err != nil {
		return false, err
	}
	for _, t := range ts {
		if t.Name == "schema_migrations" {
			continue
		}
		var one int
		err := d.read.QueryRowContext(ctx, `SELECT 1 FROM `+quoteIdent(t.Name)+` LIMIT 1`).Scan(&one)
		if err == nil {
			return false, nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return false, err
		}
	}
	return true, nil
}

// Insert loads rows into a table in one transaction, outside the committer:
// the database is being restored and serves no one. The rows go in
// multi-row statements, each prepared once per call.
func (d *DB) Insert(ctx context.Context, table string, columns []string, rows [][]any) error {
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if len(columns) == 0 {
		return fmt.Errorf("load %s: no columns", table)
	}
	for i, r := range rows {
		if len(r) != len(columns) {
			return fmt.Errorf("load %s: row %d has %d values for %d columns", table, i, len(r), len(columns))
		}
	}
	prefix := d.insertInto(quoteIdent(table) + " (" + quoteCols(columns) + ")")
	per := max(1, min(loadChunk, maxLoadParams/len(columns)))
	args := make([]any, 0, per*len(columns))
	var full *sql.Stmt
	for len(rows) > 0 {
		n := min(len(rows), per)
		args = args[:0]
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		if n == per {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, d.q(multiValues(prefix, len(columns), per))); err != nil {
					return err
				}
				defer full.Close()
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, d.q(multiValues(prefix, len(columns), n)), args...)
		}
		if err != nil {
			return err
		}
		rows = rows[n:]
	}
	return tx.Commit()
}

const (
	// loadChunk rows per statement, and at most maxLoadParams bound
	// parameters: far below either dialect's limit.
	loadChunk     = 64
	maxLoadParams = 30000
)

// loadPragmas set an SQLite database for a bulk load that no one reads
// meanwhile: no fsync at each commit, a page cache that holds the indexes
// being filled, temporary structures in memory. EndLoad restores the
// durability of Open.
var loadPragmas = []string{"synchronous = OFF", "cache_size = -131072", "temp_store = MEMORY", "foreign_keys = OFF"}

// BeginLoad prepares the empty database for a restore's bulk load. On
// SQLite it relaxes durability until EndLoad: a restore that fails before
// then leaves a database to discard anyway. PostgreSQL needs nothing.
func (d *DB) BeginLoad(ctx context.Context) error {
	if d.dialect != SQLite {
		return nil
	}
	return d.pragmas(ctx, loadPragmas...)
}

// EndLoad ends a bulk load and leaves the database as durable as Open makes
// it before it returns: on SQLite, synchronous = FULL again, the write-ahead
// log checkpointed into the database file, the file and its directory
// synced.
func (d *DB) EndLoad(ctx context.Context) error {
	if d.dialect != SQLite {
		return nil
	}
	// The load did not check foreign keys row by row (a multi-row insert
	// that may fail one keeps a statement journal to undo its earlier
	// rows): check them all once.
	var bad int
	if err := d.write.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_foreign_key_check`).Scan(&bad); err != nil {
		return fmt.Errorf("check foreign keys: %w", err)
	}
	if bad > 0 {
		return fmt.Errorf("check foreign keys: %d rows refer to rows that are not there", bad)
	}
	if err := d.pragmas(ctx, "foreign_keys = ON", "synchronous = FULL"); err != nil {
		return err
	}
	// The background checkpointer may be running one of its own: try again
	// until this one completes.
	for try := 0; ; try++ {
		var busy, frames, copied int
		if err := d.write.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &copied); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		if busy == 0 {
			break
		}
		if try == 100 {
			return errors.New("checkpoint: the database stays busy")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	// The checkpoint syncs the file only if it copied pages; those that the
	// background checkpoints copied during the load were not synced.
	var seq int
	var name, path string
	if err := d.write.QueryRowContext(ctx, `PRAGMA database_list`).Scan(&seq, &name, &path); err != nil {
		return fmt.Errorf("database file: %w", err)
	}
	return syncFile(path)
}

// pragmas sets pragmas on the writer's connection and, for synchronous, on
// the background checkpointer's, which writes the database file too.
func (d *DB) pragmas(ctx context.Context, ps ...string) error {
	for _, p := range ps {
		if mode, ok := strings.CutPrefix(p, "journal_mode = "); ok {
			// It answers the mode in force, which stays the old one if it
			// cannot change.
			var got string
			if err := d.write.QueryRowContext(ctx, `PRAGMA `+p).Scan(&got); err != nil {
				return fmt.Errorf("pragma %s: %w", p, err)
			}
			if !strings.EqualFold(got, mode) {
				return fmt.Errorf("pragma %s: the journal mode stays %s", p, got)
			}
			continue
		}
		if _, err := d.write.ExecContext(ctx, `PRAGMA `+p); err != nil {
			return fmt.Errorf("pragma %s: %w", p, err)
		}
		if strings.HasPrefix(p, "synchronous") && d.checkpointer != nil {
			if _, err := d.checkpointer.conn.ExecContext(ctx, `PRAGMA `+p); err != nil {
				return fmt.Errorf("pragma %s: %w", p, err)
			}
		}
	}
	return nil
}

// syncFile syncs a file and the directory that names it.
func syncFile(path string) error {
	for _, p := range []string{path, filepath.Dir(path)} {
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("sync: %w", err)
		}
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("sync %s: %w", p, err)
		}
	}
	return nil
}

// Migrate migrates a restored database to this binary's schema.
func (d *DB) Migrate(ctx context.Context) error { return d.migrate(ctx, 0) }

// BackupStarted records a running backup with its wrapped key, which must be
// wrapped under the active root key version.
func (d *DB) BackupStarted(ctx context.Context, e rempart.AuditEntry, r backup.Record) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		if err := requireActiveRoot(tx, r.RootKeyID); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO backups (id, status, root_key_id, wrapped_key, created_at) VALUES (?, ?, ?, ?, ?)`,
			r.ID, r.Status, r.RootKeyID, r.WrappedKey, ts(r.CreatedAt))
		return err
	})
	return err
}

// BackupFinished records a backup's end.
func (d *DB) BackupFinished(ctx context.Context, e rempart.AuditEntry, r backup.Record) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		var fin sql.NullInt64
		if r.FinishedAt != nil {
			fin = sql.NullInt64{Int64: ts(*r.FinishedAt), Valid: true}
		}
		_, err := tx.Exec(`UPDATE backups SET status = ?, finished_at = ?, data_bytes = ?, row_count = ?, objects = ?, error = ? WHERE id = ?`,
			r.Status, fin, r.DataBytes, r.Rows, r.Objects, nullString(r.Error), r.ID)
		return err
	})
	return err
}

// Backups lists the recorded backups, newest first.
func (d *DB) Backups(ctx context.Context) ([]backup.Record, error) {
	rows, err := d.reader(ctx).Query(`SELECT id, status, root_key_id, wrapped_key, created_at, finished_at, data_bytes, row_count, objects, error FROM backups ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []backup.Record{}
	for rows.Next() {
		var r backup.Record
		var c int64
		var fin sql.NullInt64
		var msg sql.NullString
		if err := rows.Scan(&r.ID, &r.Status, &r.RootKeyID, &r.WrappedKey, &c, &fin, &r.DataBytes, &r.Rows, &r.Objects, &msg); err != nil {
			return nil, err
		}
		r.CreatedAt, r.FinishedAt, r.Error = fromTS(c), fromNullTS(fin), msg.String
		out = append(out, r)
	}
	return out, rows.Err()
}

// EscrowKEKs returns every tenant key-encryption key as stored.
func (d *DB) EscrowKEKs(ctx context.Context) (backup.Table, [][]any, error) {
	t := backup.Table{Name: "tenant_keks", Columns: []string{"tenant_id", "kek_id", "wrapper", "wrapped", "created_at", "active"}}
	var out [][]any
	r := d.reader(ctx)
	rows, err := r.Query(`SELECT tenant_id, kek_id, wrapper, wrapped, created_at, active FROM tenant_keks ORDER BY tenant_id, kek_id`)
	if err != nil {
		return t, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var tenant, kek, wrapper string
		var wrapped []byte
		var created, active int64
		if err := rows.Scan(&tenant, &kek, &wrapper, &wrapped, &created, &active); err != nil {
			return t, nil, err
		}
		out = append(out, []any{tenant, kek, wrapper, wrapped, created, active})
	}
	return t, out, rows.Err()
}

// RestoreTestRecorded keeps a restore test's evidence.
func (d *DB) RestoreTestRecorded(ctx context.Context, e rempart.AuditEntry, t backup.RestoreTest) error {
	report, err := json.Marshal(t)
	if err != nil {
		return err
	}
	_, err = d.Write(ctx, e, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO restore_tests (id, backup_id, started_at, outcome, report) VALUES (?, ?, ?, ?, ?)`,
			t.ID, nullString(t.BackupID), ts(t.StartedAt), t.Outcome, string(report))
		return err
	})
	return err
}

// RestoreTests returns the newest restore tests.
func (d *DB) RestoreTests(ctx context.Context, limit int) ([]backup.RestoreTest, error) {
	rows, err := d.reader(ctx).Query(`SELECT report FROM restore_tests ORDER BY started_at DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []backup.RestoreTest{}
	for rows.Next() {
		var b string
		var t backup.RestoreTest
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(b), &t); err != nil {
			return nil, fmt.Errorf("restore test report: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

var (
	_ backup.Source = (*DB)(nil)
	_ backup.Target = (*DB)(nil)
	_ backup.Store  = (*DB)(nil)
)
