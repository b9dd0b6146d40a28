package db

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
)

// logAppender appends entries to the Merkle log inside a commit transaction.
// The tree state row is locked for the transaction, so that on PostgreSQL the
// committers of several nodes append in turn (BCK-4).
type logAppender struct {
	tx      *Tx
	tree    *audit.Tree
	entry   *sql.Stmt
	node    *sql.Stmt
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
	sqltx := tx.tx.(*sql.Tx)
	l := &logAppender{tx: tx, tree: tree}
	if l.entry, err = sqltx.PrepareContext(tx.ctx, d.q(`INSERT INTO audit_entries (idx, time, tenant_id, principal_id, action, outcome, body, leaf_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)); err != nil {
		return nil, err
	}
	if l.node, err = sqltx.PrepareContext(tx.ctx, d.q(`INSERT INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?)`)); err != nil {
		l.entry.Close()
		return nil, err
	}
	return l, nil
}

func (l *logAppender) close() {
	l.entry.Close()
	l.node.Close()
}

// append gives e the next index, stores its canonical bytes and leaf hash,
// and stores the tree nodes it completes.
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
	if _, err := l.entry.ExecContext(l.tx.ctx, int64(e.Index), e.Time.UnixNano(), nullString(e.TenantID), nullString(e.PrincipalID), e.Action, e.Outcome, body, leaf); err != nil {
		return fmt.Errorf("insert audit entry: %w", err)
	}
	var nodeErr error
	err = l.tree.Append(leaf, func(id audit.NodeID, hash []byte) {
		if nodeErr == nil {
			_, nodeErr = l.node.ExecContext(l.tx.ctx, int64(id.Level), int64(id.Index), hash)
		}
	})
	if err != nil {
		return err
	}
	l.changed = true
	return nodeErr
}

func (l *logAppender) save() error {
	if !l.changed {
		return nil
	}
	st, err := l.tree.MarshalBinary()
	if err != nil {
		return err
	}
	_, err = l.tx.Exec(`UPDATE audit_tree SET size = ?, state = ? WHERE id = 1`, int64(l.tree.Size()), st)
	return err
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
