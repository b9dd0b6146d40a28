package db

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
	"github.com/rempart/rempart/vault"
)

const recordCols = `collection, id, version, created_at, updated_at, deleted_at, data_key_id, ciphertext`

func scanRecord(row interface{ Scan(...any) error }) (vault.RecordRow, error) {
	var r vault.RecordRow
	var c, u int64
	var del sql.NullInt64
	if err := row.Scan(&r.Collection, &r.ID, &r.Version, &c, &u, &del, &r.DataKeyID, &r.Ciphertext); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return r, rempart.Errorf(rempart.ENOTFOUND, "Record not found.")
		}
		return r, err
	}
	r.CreatedAt, r.UpdatedAt, r.DeletedAt = fromTS(c), fromTS(u), fromNullTS(del)
	return r, nil
}

// GetRecord returns one record of the scope's tenant, deleted or not.
func (d *DB) GetRecord(ctx context.Context, s guard.Scope, collection, id string) (vault.RecordRow, error) {
	return scanRecord(d.reader(ctx).QueryRow(`SELECT `+recordCols+` FROM records WHERE tenant_id = ? AND collection = ? AND id = ?`, mustScope(s), collection, id))
}

// ListRecords returns a page of the scope's tenant's records.
func (d *DB) ListRecords(ctx context.Context, s guard.Scope, collection string, q vault.ListQuery) ([]vault.RecordRow, error) {
	col := "created_at"
	if q.SortBy == "updated_at" {
		col = "updated_at"
	}
	cmp, dir := ">", "ASC"
	if q.Descending {
		cmp, dir = "<", "DESC"
	}
	query := `SELECT ` + recordCols + ` FROM records WHERE tenant_id = ? AND collection = ?`
	if q.Deleted {
		query += ` AND deleted_at IS NOT NULL`
	} else {
		query += ` AND deleted_at IS NULL`
	}
	args := []any{mustScope(s), collection}
	if q.After != nil {
		query += ` AND (` + col + ` ` + cmp + ` ? OR (` + col + ` = ? AND id ` + cmp + ` ?))`
		args = append(args, ts(q.After.Time), ts(q.After.Time), q.After.ID)
	}
	query += ` ORDER BY ` + col + ` ` + dir + `, id ` + dir + ` LIMIT ?`
	args = append(args, q.Limit)
	rows, err := d.reader(ctx).Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]vault.RecordRow, 0, q.Limit)
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Collections lists the names of the scope's tenant's collections.
func (d *DB) Collections(ctx context.Context, s guard.Scope) ([]string, error) {
	rows, err := d.reader(ctx).Query(`SELECT DISTINCT collection FROM records WHERE tenant_id = ? ORDER BY collection`, mustScope(s))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CreateRecord inserts a record, honouring an idempotency key.
func (d *DB) CreateRecord(ctx context.Context, s guard.Scope, e rempart.AuditEntry, row vault.RecordRow, idem *vault.Idempotency) (vault.RecordRow, bool, error) {
	tenant := mustScope(s)
	principal := s.Caller().Principal.ID
	got, existing := row, false
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		if idem != nil {
			var hash []byte
			var coll, id string
			err := tx.QueryRow(`SELECT request_hash, collection, record_id FROM idempotency_keys WHERE tenant_id = ? AND principal_id = ? AND key = ?`, tenant, principal, idem.Key).Scan(&hash, &coll, &id)
			switch {
			case err == nil:
				if subtle.ConstantTimeCompare(hash, idem.RequestHash) != 1 || coll != row.Collection {
					return rempart.Errorf(rempart.ECONFLICT, "This Idempotency-Key was already used with a different request.")
				}
				existing = true
				got, err = scanRecord(tx.QueryRow(`SELECT `+recordCols+` FROM records WHERE tenant_id = ? AND collection = ? AND id = ?`, tenant, coll, id))
				return err
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
			if _, err := tx.Exec(`INSERT INTO idempotency_keys (tenant_id, principal_id, key, request_hash, collection, record_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				tenant, principal, idem.Key, idem.RequestHash, row.Collection, row.ID, ts(row.CreatedAt)); err != nil {
				return err
			}
		}
		_, err := tx.Exec(`INSERT INTO records (tenant_id, `+recordCols+`) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?)`,
			tenant, row.Collection, row.ID, row.Version, ts(row.CreatedAt), ts(row.UpdatedAt), row.DataKeyID, row.Ciphertext)
		return err
	})
	return got, existing, err
}

// MutateRecord changes one record inside the write transaction.
func (d *DB) MutateRecord(ctx context.Context, s guard.Scope, e rempart.AuditEntry, collection, id string, fn func(vault.RecordRow) (vault.RecordRow, error)) (vault.RecordRow, error) {
	tenant := mustScope(s)
	var out vault.RecordRow
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		cur, err := scanRecord(tx.QueryRow(`SELECT `+recordCols+` FROM records WHERE tenant_id = ? AND collection = ? AND id = ?`, tenant, collection, id))
		if err != nil {
			return err
		}
		next, err := fn(cur)
		if err != nil {
			return err
		}
		var del sql.NullInt64
		if next.DeletedAt != nil {
			del = sql.NullInt64{Int64: ts(*next.DeletedAt), Valid: true}
		}
		res, err := tx.Exec(`UPDATE records SET version = ?, updated_at = ?, deleted_at = ?, data_key_id = ?, ciphertext = ? WHERE tenant_id = ? AND collection = ? AND id = ? AND version = ?`,
			next.Version, ts(next.UpdatedAt), del, next.DataKeyID, next.Ciphertext, tenant, collection, id, cur.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return rempart.Errorf(rempart.ECONFLICT, "The record changed during the update; retry.")
		}
		if (cur.DeletedAt == nil) != (next.DeletedAt == nil) {
			// Deleted: its purge deadline under its tenant's rules;
			// restored: none (GOV-5).
			if _, err := tx.Exec(stampRecords+` WHERE tenant_id = ? AND collection = ? AND id = ?`, tenant, collection, id); err != nil {
				return err
			}
		}
		out = next
		return nil
	})
	return out, err
}
