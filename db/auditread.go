package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/guard"
)

func (d *DB) auditEntries(ctx context.Context, tenant string, q audit.Query) ([]rempart.AuditEntry, error) {
	query := `SELECT body FROM audit_entries WHERE idx >= ?`
	args := []any{int64(q.Start)}
	if tenant != "" {
		query += ` AND tenant_id = ?`
		args = append(args, tenant)
	}
	if q.Action != "" {
		query += ` AND action = ?`
		args = append(args, q.Action)
	}
	if q.Principal != "" {
		query += ` AND principal_id = ?`
		args = append(args, q.Principal)
	}
	query += ` ORDER BY idx LIMIT ?`
	args = append(args, q.Limit)
	rows, err := d.reader(ctx).Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []rempart.AuditEntry{}
	for rows.Next() {
		var body []byte
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		var e rempart.AuditEntry
		if err := json.Unmarshal(body, &e); err != nil {
			return nil, fmt.Errorf("decode audit entry: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// TenantAudit returns the scope's tenant's audit entries (AUD-4).
func (d *DB) TenantAudit(ctx context.Context, s guard.Scope, q audit.Query) ([]rempart.AuditEntry, error) {
	return d.auditEntries(ctx, mustScope(s), q)
}

// AuditLog returns entries of the whole log, for system principals.
func (d *DB) AuditLog(ctx context.Context, q audit.Query) ([]rempart.AuditEntry, error) {
	return d.auditEntries(ctx, "", q)
}

// AuditTree returns the current size and root hash of the log.
func (d *DB) AuditTree(ctx context.Context) (uint64, []byte, error) {
	t, err := readTree(d.reader(ctx))
	if err != nil {
		return 0, nil, err
	}
	return t.Size(), t.Root(), nil
}

// AuditNodes returns node hashes for proofs: level 0 is an entry's leaf
// hash; node (l, i), l ≥ 1, was completed by the append of entry
// (i+1)·2^l − 1 and is stored in that entry's row, at l−1 hashes in (or, for
// entries appended before migration 2, in audit_nodes).
func (d *DB) AuditNodes(ctx context.Context) audit.NodeReader {
	return func(ids []audit.NodeID) ([][]byte, error) {
		out := make([][]byte, len(ids))
		r := d.reader(ctx)
		for i, id := range ids {
			var err error
			if id.Level == 0 {
				err = r.QueryRow(`SELECT leaf_hash FROM audit_entries WHERE idx = ?`, int64(id.Index)).Scan(&out[i])
			} else if id.Level < 64 && id.Index < (1<<(63-id.Level)) {
				out[i], err = nodeOf(r, id)
			} else {
				err = errors.New("no such node")
			}
			if err != nil {
				return nil, fmt.Errorf("audit node %d/%d: %w", id.Level, id.Index, err)
			}
		}
		return out, nil
	}
}

func nodeOf(r *Tx, id audit.NodeID) ([]byte, error) {
	last := (id.Index+1)<<id.Level - 1
	var nodes []byte
	if err := r.QueryRow(`SELECT nodes FROM audit_entries WHERE idx = ?`, int64(last)).Scan(&nodes); err != nil {
		return nil, err
	}
	if nodes == nil {
		var h []byte
		err := r.QueryRow(`SELECT hash FROM audit_nodes WHERE level = ? AND idx = ?`, int64(id.Level), int64(id.Index)).Scan(&h)
		return h, err
	}
	off := int(id.Level-1) * sha256.Size
	if len(nodes) < off+sha256.Size {
		return nil, fmt.Errorf("entry %d holds %d node bytes, not level %d", last, len(nodes), id.Level)
	}
	return nodes[off : off+sha256.Size : off+sha256.Size], nil
}

// LeafHash returns the leaf hash of entry idx.
func (d *DB) LeafHash(ctx context.Context, idx uint64) ([]byte, error) {
	var h []byte
	err := d.reader(ctx).QueryRow(`SELECT leaf_hash FROM audit_entries WHERE idx = ?`, int64(idx)).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rempart.Errorf(rempart.ENOTFOUND, "No audit entry %d.", idx)
	}
	return h, err
}

// SaveCheckpoint stores a signed checkpoint (ignoring one of a size already
// stored).
func (d *DB) SaveCheckpoint(ctx context.Context, cp rempart.Checkpoint) error {
	_, err := d.write.ExecContext(ctx, d.q(`INSERT INTO audit_checkpoints (size, root, note, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (size) DO NOTHING`),
		int64(cp.Size), cp.RootHash, cp.Note, ts(d.clock.Now()))
	return err
}

// LatestCheckpoint returns the note text of the largest checkpoint, or
// ENOTFOUND when none was signed yet.
func (d *DB) LatestCheckpoint(ctx context.Context) (string, error) {
	var note string
	err := d.reader(ctx).QueryRow(`SELECT note FROM audit_checkpoints ORDER BY size DESC LIMIT 1`).Scan(&note)
	if errors.Is(err, sql.ErrNoRows) {
		return "", rempart.Errorf(rempart.ENOTFOUND, "No checkpoint has been signed yet.")
	}
	return note, err
}

// ExportAudit writes the whole log in the offline verifier's format: every
// entry in index order, then every checkpoint (AUD-2).
func (d *DB) ExportAudit(ctx context.Context, w io.Writer) error {
	rows, err := d.reader(ctx).Query(`SELECT leaf_hash, body FROM audit_entries ORDER BY idx`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var leaf, body []byte
	var n int64
	for rows.Next() {
		n++
		if err := rows.Scan(&leaf, &body); err != nil {
			return err
		}
		if err := audit.WriteEntryLine(w, leaf, body); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	// Only checkpoints the exported entries reach: one signed meanwhile
	// would name entries this export does not hold.
	crows, err := d.reader(ctx).Query(`SELECT note FROM audit_checkpoints WHERE size <= ? ORDER BY size`, n)
	if err != nil {
		return err
	}
	defer crows.Close()
	var note string
	for crows.Next() {
		if err := crows.Scan(&note); err != nil {
			return err
		}
		if err := audit.WriteCheckpointLine(w, note); err != nil {
			return err
		}
	}
	return crows.Err()
}

// Meta returns a stored setting, or ENOTFOUND.
func (d *DB) Meta(ctx context.Context, key string) ([]byte, error) {
	return getMeta(d.reader(ctx), key)
}

// PutMeta stores a setting, with the audit entry that records the change.
func (d *DB) PutMeta(ctx context.Context, e rempart.AuditEntry, key string, value []byte) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error { return putMeta(tx, key, value) })
	return err
}
