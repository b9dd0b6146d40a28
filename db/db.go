package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver
	"github.com/rempart/rempart"
	_ "modernc.org/sqlite" // SQLite driver
)

// Dialect names a supported database.
type Dialect string

// Supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Config says which database to open and how.
type Config struct {
	// DSN is "sqlite:PATH" (or a path ending in .db) or a PostgreSQL URL
	// ("postgres://…").
	DSN string
	// Synchronous is SQLite's synchronous setting: "full" (default: a
	// committed write survives power loss) or "normal" (survives a process
	// crash; the last commits may be lost on power loss). Ignored for
	// PostgreSQL, whose durability is the server's synchronous_commit.
	Synchronous string
	// MaxBatch bounds how many writes share one commit (default 256).
	MaxBatch int
	// Schema stops the migrations at this version (0: apply all). Restores
	// load a backup into the schema it was taken from, then migrate on.
	Schema int
	Clock  rempart.Clock
}

// DB is an open database with its group committer.
type DB struct {
	dialect Dialect
	write   *sql.DB // SQLite: one connection, used only by the committer
	read    *sql.DB
	clock   rempart.Clock

	rebound sync.Map // query text → dialect-specific text
	stmts   sync.Map // stmtKey → *sql.Stmt
	wanted  sync.Map // stmtKey → true: seen in a transaction, not prepared yet
	nstmts  atomic.Int64

	committer *committer
	auth      *authCache // nil on PostgreSQL: see authcache.go

	checkpointer *walCheckpointer // SQLite only
	metrics      *metrics
}

// Open opens the database, applies pending migrations and starts the
// committer. It refuses a database whose schema is newer than this binary.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if cfg.Clock == nil {
		cfg.Clock = rempart.SystemClock{}
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 256
	}
	d := &DB{clock: cfg.Clock, metrics: newMetrics()}
	var err error
	switch {
	case strings.HasPrefix(cfg.DSN, "postgres://"), strings.HasPrefix(cfg.DSN, "postgresql://"):
		d.dialect = Postgres
		if d.write, err = sql.Open("pgx", cfg.DSN); err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		d.write.SetMaxOpenConns(16)
		d.write.SetMaxIdleConns(16)
		d.read = d.write
	default:
		d.dialect = SQLite
		path := strings.TrimPrefix(cfg.DSN, "sqlite:")
		if path == "" {
			return nil, errors.New("open sqlite: empty path")
		}
		sync := strings.ToLower(cfg.Synchronous)
		if sync == "" {
			sync = "full"
		}
		if sync != "full" && sync != "normal" {
			return nil, fmt.Errorf("open sqlite: synchronous must be full or normal, not %q", cfg.Synchronous)
		}
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous("+sync+")")
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "journal_size_limit(67108864)")
		ckpt, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		ckpt.SetMaxOpenConns(1)
		q.Set("_txlock", "immediate")
		q.Add("_pragma", "wal_autocheckpoint("+strconv.Itoa(backstopCheckpoint)+")")
		dsn := "file:" + path + "?" + q.Encode()
		if d.write, err = sql.Open("sqlite", dsn); err != nil {
			ckpt.Close()
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		d.write.SetMaxOpenConns(1)
		d.write.SetConnMaxLifetime(0)
		d.checkpointer = startCheckpointer(ckpt, d.metrics.checkpoint)
		q.Add("_pragma", "query_only(1)")
		q.Set("_txlock", "deferred") // a snapshot's read transaction takes no write lock
		if d.read, err = sql.Open("sqlite", "file:"+path+"?"+q.Encode()); err != nil {
			d.write.Close()
			d.checkpointer.close()
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		d.read.SetMaxOpenConns(8)
		d.read.SetMaxIdleConns(8)
		d.read.SetConnMaxLifetime(0)
		d.auth = newAuthCache()
	}
	if err := d.write.PingContext(ctx); err != nil {
		d.closeConns()
		return nil, fmt.Errorf("connect %s: %w", d.dialect, err)
	}
	if err := d.migrate(ctx, cfg.Schema); err != nil {
		d.closeConns()
		return nil, err
	}
	d.committer = newCommitter(d, cfg.MaxBatch)
	return d, nil
}

// Dialect reports which database this is.
func (d *DB) Dialect() Dialect { return d.dialect }

// Close stops the committer (after the writes already queued) and closes the
// connections.
func (d *DB) Close() error {
	if d.committer != nil {
		d.committer.close()
	}
	return d.closeConns()
}

func (d *DB) closeConns() error {
	if d.checkpointer != nil {
		d.checkpointer.close()
	}
	d.stmts.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
	err := d.write.Close()
	if d.read != d.write {
		if rerr := d.read.Close(); err == nil {
			err = rerr
		}
	}
	return err
}

// q rewrites a query written with ? placeholders for the dialect.
func (d *DB) q(query string) string {
	if d.dialect != Postgres {
		return query
	}
	if v, ok := d.rebound.Load(query); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	d.rebound.Store(query, b.String())
	return b.String()
}

// Tx is a transaction (or, from reader, the read pool) in the database's
// dialect. Store code writes queries with ? placeholders; each distinct query
// is prepared once per pool and reused (parsing SQL is a large share of a
// point query's cost).
type Tx struct {
	db   *DB
	ctx  context.Context
	pool *sql.DB
	tx   *sql.Tx // nil for the read pool
	// authDirty is set when the transaction wrote to a table the
	// authentication cache mirrors.
	authDirty bool
	// entry is the audit entry of the write running in the transaction,
	// appended after it: see Record.
	entry *rempart.AuditEntry
}

// Record adds what the running write found to its audit entry's reason,
// so that the trail says what a write did, counted in its own transaction
// (IAM-8's evidence of what a revocation revoked).
func (tx *Tx) Record(what string) {
	if tx.entry == nil {
		return
	}
	if tx.entry.Reason != "" {
		tx.entry.Reason += "; "
	}
	tx.entry.Reason += what
}

// maxStmts bounds the statement cache; queries past it run unprepared.
const maxStmts = 512

type stmtKey struct {
	pool  *sql.DB
	query string
}

// stmt returns the prepared statement of query on t's pool, bound to t's
// transaction if any, or nil to run the query unprepared. Inside a
// transaction a miss cannot prepare on the pool (SQLite's single write
// connection is the transaction's own): the query is noted and prepared by
// prepareWanted between commits.
func (t *Tx) stmt(query string) (*sql.Stmt, error) {
	if t.tx != nil && !t.authDirty && writesAuth(query) {
		t.authDirty = true
	}
	k := stmtKey{t.pool, query}
	if v, ok := t.db.stmts.Load(k); ok {
		if t.tx != nil {
			return t.tx.StmtContext(t.ctx, v.(*sql.Stmt)), nil
		}
		return v.(*sql.Stmt), nil
	}
	if t.db.nstmts.Load() >= maxStmts {
		return nil, nil
	}
	if t.tx != nil {
		t.db.wanted.Store(k, true)
		return nil, nil
	}
	return t.db.prepare(t.ctx, k)
}

func (d *DB) prepare(ctx context.Context, k stmtKey) (*sql.Stmt, error) {
	st, err := k.pool.PrepareContext(ctx, d.q(k.query))
	if err != nil {
		return nil, err
	}
	if v, loaded := d.stmts.LoadOrStore(k, st); loaded {
		st.Close()
		return v.(*sql.Stmt), nil
	}
	d.nstmts.Add(1)
	return st, nil
}

// prepareWanted prepares the queries that transactions ran unprepared. The
// committer calls it while it holds no transaction.
func (d *DB) prepareWanted(ctx context.Context) {
	d.wanted.Range(func(k, _ any) bool {
		d.wanted.Delete(k)
		if d.nstmts.Load() < maxStmts {
			d.prepare(ctx, k.(stmtKey)) // a failure shows when the query runs
		}
		return true
	})
}

// Exec runs a statement.
func (t *Tx) Exec(query string, args ...any) (sql.Result, error) {
	st, err := t.stmt(query)
	if err != nil {
		return nil, err
	} else if st == nil {
		return t.raw().ExecContext(t.ctx, t.db.q(query), args...)
	}
	return st.ExecContext(t.ctx, args...)
}

// Query runs a query.
func (t *Tx) Query(query string, args ...any) (*sql.Rows, error) {
	st, err := t.stmt(query)
	if err != nil {
		return nil, err
	} else if st == nil {
		return t.raw().QueryContext(t.ctx, t.db.q(query), args...)
	}
	return st.QueryContext(t.ctx, args...)
}

// QueryRow runs a query expected to return at most one row.
func (t *Tx) QueryRow(query string, args ...any) *sql.Row {
	st, err := t.stmt(query)
	if err != nil || st == nil {
		// An unpreparable query fails the same way when run directly, and
		// *sql.Row can only carry an error that way.
		return t.raw().QueryRowContext(t.ctx, t.db.q(query), args...)
	}
	return st.QueryRowContext(t.ctx, args...)
}

func (t *Tx) raw() interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
} {
	if t.tx != nil {
		return t.tx
	}
	return t.pool
}

// reader returns a Tx-like handle over the read pool, for queries that need
// no transaction.
func (d *DB) reader(ctx context.Context) *Tx { return &Tx{db: d, ctx: ctx, pool: d.read} }

// rowScanner is a *sql.Row or *sql.Rows.
type rowScanner = interface{ Scan(...any) error }

// scanAll turns a one-row scanner into a reader of a whole query's rows,
// closing them; the query's own error is returned as is, and no rows give
// an empty (not nil) list.
func scanAll[T any](scan func(rowScanner) (T, error)) func(*sql.Rows, error) ([]T, error) {
	return func(rows *sql.Rows, err error) ([]T, error) {
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out := []T{}
		for rows.Next() {
			v, err := scan(rows)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, rows.Err()
	}
}

// execOne runs a statement that must change a row, and returns none when it
// changed none: what was to change is gone, or was changed before.
func (tx *Tx) execOne(none error, query string, args ...any) error {
	res, err := tx.Exec(query, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return none
	}
	return nil
}
