package db

import (
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
)

// logAppender appends entries to the Merkle log inside a commit transaction.
// Rows are buffered and written by save with multi-row inserts. Each entry's
// row carries the tree nodes its append completed, and the last row of the
// commit the tree's new right edge, so that a commit touches one table
// (and its tenant index) only.
type logAppender struct {
	tx      *Tx
	tree    *audit.Tree
	entries []any // entryCols values per entry, flattened
	nodes   []byte
}

// treeLock serialises the committers of several nodes on PostgreSQL (BCK-4);
// SQLite's write lock already does.
const treeLock = 7245147

func (d *DB) openLog(tx *Tx) (*logAppender, error) {
	if d.dialect == Postgres {
		if _, err := tx.Exec(`SELECT pg_advisory_xact_lock(` + strconv.Itoa(treeLock) + `)`); err != nil {
			return nil, fmt.Errorf("lock audit log: %w", err)
		}
	}
	tree, err := readTree(tx)
	if err != nil {
		return nil, err
	}
	return &logAppender{tx: tx, tree: tree}, nil
}

// readTree returns the log's right edge: the state stored with the last
// entry, or for a log last appended before migration 2, the audit_tree row.
func readTree(q *Tx) (*audit.Tree, error) {
	var state []byte
	err := q.QueryRow(`SELECT tree FROM audit_entries ORDER BY idx DESC LIMIT 1`).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return audit.NewTree(), nil
	} else if err != nil {
		return nil, fmt.Errorf("read audit tree: %w", err)
	}
	if state == nil {
		if err := q.QueryRow(`SELECT state FROM audit_tree WHERE id = 1`).Scan(&state); err != nil {
			return nil, fmt.Errorf("read audit tree (before migration 2): %w", err)
		}
	}
	t, err := audit.UnmarshalTree(state)
	if err != nil {
		return nil, fmt.Errorf("audit tree state: %w", err)
	}
	return t, nil
}

// append gives e the next index and buffers its row: canonical bytes, leaf
// hash, and the tree nodes it completes.
func (l *logAppender) append(e *rempart.AuditEntry, clock rempart.Clock) error {
	e.Index = l.tree.Size()
	if e.Time.IsZero() {
		e.Time = clock.Now()
	}
	body, err := audit.Encode(*e)
	if err != nil {
		return err
	}
	leaf := audit.LeafHash(body)
	l.nodes = l.nodes[:0]
	err = l.tree.Append(leaf, func(_ audit.NodeID, hash []byte) {
		l.nodes = append(l.nodes, hash...)
	})
	if err != nil {
		return err
	}
	var nodes []byte
	if len(l.nodes) > 0 {
		nodes = append([]byte(nil), l.nodes...)
	}
	l.entries = append(l.entries, int64(e.Index), e.Time.UnixNano(), nullString(e.TenantID), nullString(e.PrincipalID), e.Action, e.Outcome, body, leaf, nodes, []byte(nil))
	return nil
}

// insertInto returns "INSERT INTO table (cols) VALUES " for a multi-row
// insert. On SQLite it is INSERT OR FAIL: a multi-row insert that may abort
// on a constraint must keep a statement journal to undo its earlier rows,
// while FAIL leaves them, which costs nothing here since any failure rolls
// the whole transaction back.
func (d *DB) insertInto(tableCols string) string {
	if d.dialect == SQLite {
		return "INSERT OR FAIL INTO " + tableCols + " VALUES "
	}
	return "INSERT INTO " + tableCols + " VALUES "
}

const (
	entryCols = 10
	// insertChunk rows per statement: few statement texts to prepare, and
	// far below either dialect's limit on bound parameters.
	insertChunk = 64
)

// insertRows inserts rows (cols values each, flattened) in chunks.
func insertRows(tx *Tx, prefix string, cols int, vals []any) error {
	for len(vals) > 0 {
		n := min(len(vals)/cols, insertChunk)
		if _, err := tx.Exec(multiValues(prefix, cols, n), vals[:n*cols]...); err != nil {
			return err
		}
		vals = vals[n*cols:]
	}
	return nil
}

var valuesCache sync.Map // "prefix/cols/rows" → statement text

// multiValues returns prefix followed by rows groups of cols placeholders.
func multiValues(prefix string, cols, rows int) string {
	key := prefix + "/" + strconv.Itoa(cols) + "/" + strconv.Itoa(rows)
	if v, ok := valuesCache.Load(key); ok {
		return v.(string)
	}
	group := "(?" + strings.Repeat(", ?", cols-1) + ")"
	var b strings.Builder
	b.WriteString(prefix)
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(group)
	}
	valuesCache.Store(key, b.String())
	return b.String()
}

// save writes the buffered entries, the last one with the tree's new state.
func (l *logAppender) save() error {
	if len(l.entries) == 0 {
		return nil
	}
	st, err := l.tree.MarshalBinary()
	if err != nil {
		return err
	}
	l.entries[len(l.entries)-1] = st
	if err := insertRows(l.tx, l.tx.db.insertInto("audit_entries (idx, time, tenant_id, principal_id, action, outcome, body, leaf_hash, nodes, tree)"), entryCols, l.entries); err != nil {
		return fmt.Errorf("insert audit entries: %w", err)
	}
	return nil
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
