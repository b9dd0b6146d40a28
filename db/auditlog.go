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
// The tree state row is locked for the transaction, so that on PostgreSQL the
// committers of several nodes append in turn (BCK-4). Rows are buffered and
// written by flush with multi-row inserts: one statement per chunk instead of
// one per entry and node.
type logAppender struct {
	tx      *Tx
	tree    *audit.Tree
	entries []any // insertChunk columns per entry, flattened
	nodes   []any
	changed bool
}

func (d *DB) openLog(tx *Tx) (*logAppender, error) {
	q := `SELECT state FROM audit_tree WHERE id = 1`
	if d.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	var state []byte
	var tree *audit.Tree
	err := tx.QueryRow(q).Scan(&state)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		tree = audit.NewTree()
		st, err := tree.MarshalBinary()
		if err != nil {
			return nil, err
		}
		if _, err := tx.Exec(`INSERT INTO audit_tree (id, size, state) VALUES (1, 0, ?)`, st); err != nil {
			return nil, fmt.Errorf("init audit tree: %w", err)
		}
	case err != nil:
		return nil, fmt.Errorf("read audit tree: %w", err)
	default:
		if tree, err = audit.UnmarshalTree(state); err != nil {
			return nil, fmt.Errorf("audit tree state: %w", err)
		}
	}
	return &logAppender{tx: tx, tree: tree}, nil
}

// append gives e the next index, buffers its canonical bytes and leaf hash,
// and the tree nodes it completes.
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
	l.entries = append(l.entries, int64(e.Index), e.Time.UnixNano(), nullString(e.TenantID), nullString(e.PrincipalID), e.Action, e.Outcome, body, leaf)
	err = l.tree.Append(leaf, func(id audit.NodeID, hash []byte) {
		l.nodes = append(l.nodes, int64(id.Level), int64(id.Index), hash)
	})
	if err != nil {
		return err
	}
	l.changed = true
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
	entryCols = 8
	nodeCols  = 3
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

// save writes the buffered entries and nodes and the new tree state.
func (l *logAppender) save() error {
	if !l.changed {
		return nil
	}
	if err := insertRows(l.tx, l.tx.db.insertInto("audit_entries (idx, time, tenant_id, principal_id, action, outcome, body, leaf_hash)"), entryCols, l.entries); err != nil {
		return fmt.Errorf("insert audit entries: %w", err)
	}
	if err := insertRows(l.tx, l.tx.db.insertInto("audit_nodes (level, idx, hash)"), nodeCols, l.nodes); err != nil {
		return fmt.Errorf("insert audit nodes: %w", err)
	}
	st, err := l.tree.MarshalBinary()
	if err != nil {
		return err
	}
	_, err = l.tx.Exec(`UPDATE audit_tree SET size = ?, state = ? WHERE id = 1`, int64(l.tree.Size()), st)
	return err
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
