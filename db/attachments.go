package db

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
	"github.com/rempart/rempart/vault"
)

const attachmentCols = `a.tenant_id, a.collection, a.record_id, a.id, a.object_key, a.data_key_id, a.meta, a.content_type, a.size, a.created_at, a.deleted_at`

// attachmentFrom joins each attachment with its record, to tell whether the
// record is deleted.
const attachmentFrom = ` FROM attachments a JOIN records r ON r.tenant_id = a.tenant_id AND r.collection = a.collection AND r.id = a.record_id`

var errNoAttachment = rempart.Errorf(rempart.ENOTFOUND, "Attachment not found.")

// scanAttachment scans attachmentCols, then with withRecord the record's
// deleted_at, then the extra columns into extra.
func scanAttachment(row interface{ Scan(...any) error }, withRecord bool, extra ...any) (vault.AttachmentRow, error) {
	var a vault.AttachmentRow
	var created int64
	var del, recDel sql.NullInt64
	dest := []any{&a.TenantID, &a.Collection, &a.RecordID, &a.ID, &a.ObjectKey, &a.DataKeyID, &a.SealedMeta, &a.ContentType, &a.Size, &created, &del}
	if withRecord {
		dest = append(dest, &recDel)
	}
	dest = append(dest, extra...)
	if err := row.Scan(dest...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return a, errNoAttachment
		}
		return a, err
	}
	a.CreatedAt, a.DeletedAt, a.RecordDeleted = fromTS(created), fromNullTS(del), recDel.Valid
	return a, nil
}

// RecordLive returns ENOTFOUND unless the record exists and is not deleted.
func (d *DB) RecordLive(ctx context.Context, s guard.Scope, collection, id string) error {
	return recordLive(d.reader(ctx), mustScope(s), collection, id)
}

func recordLive(tx *Tx, tenant, collection, id string) error {
	var del sql.NullInt64
	err := tx.QueryRow(`SELECT deleted_at FROM records WHERE tenant_id = ? AND collection = ? AND id = ?`, tenant, collection, id).Scan(&del)
	if errors.Is(err, sql.ErrNoRows) || err == nil && del.Valid {
		return rempart.Errorf(rempart.ENOTFOUND, "Record not found.")
	}
	return err
}

// CreateAttachment inserts an attachment of a live record.
func (d *DB) CreateAttachment(ctx context.Context, s guard.Scope, e rempart.AuditEntry, a vault.AttachmentRow, maxPerRecord int) error {
	tenant := mustScope(s)
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		if err := recordLive(tx, tenant, a.Collection, a.RecordID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(`SELECT COUNT(*) FROM attachments WHERE tenant_id = ? AND collection = ? AND record_id = ?`, tenant, a.Collection, a.RecordID).Scan(&n); err != nil {
			return err
		}
		if n >= maxPerRecord {
			return rempart.Errorf(rempart.ECONFLICT, "The record already has %d attachments, the most allowed (deleted ones count until they are purged).", n)
		}
		_, err := tx.Exec(`INSERT INTO attachments (tenant_id, collection, record_id, id, object_key, data_key_id, meta, content_type, size, created_at, deleted_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
			tenant, a.Collection, a.RecordID, a.ID, a.ObjectKey, a.DataKeyID, a.SealedMeta, a.ContentType, a.Size, ts(a.CreatedAt))
		return err
	})
	return err
}

// GetAttachment returns one attachment of the scope's tenant, deleted or
// not, and whether its record is deleted.
func (d *DB) GetAttachment(ctx context.Context, s guard.Scope, collection, record, id string) (vault.AttachmentRow, error) {
	return scanAttachment(d.reader(ctx).QueryRow(`SELECT `+attachmentCols+`, r.deleted_at`+attachmentFrom+
		` WHERE a.tenant_id = ? AND a.collection = ? AND a.record_id = ? AND a.id = ?`, mustScope(s), collection, record, id), true)
}

// ListAttachments returns a record's live (or deleted) attachments, oldest
// first.
func (d *DB) ListAttachments(ctx context.Context, s guard.Scope, collection, record string, deleted bool) ([]vault.AttachmentRow, error) {
	q := `SELECT ` + attachmentCols + ` FROM attachments a WHERE a.tenant_id = ? AND a.collection = ? AND a.record_id = ?`
	if deleted {
		q += ` AND a.deleted_at IS NOT NULL`
	} else {
		q += ` AND a.deleted_at IS NULL`
	}
	rows, err := d.reader(ctx).Query(q+` ORDER BY a.created_at, a.id`, mustScope(s), collection, record)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []vault.AttachmentRow{}
	for rows.Next() {
		a, err := scanAttachment(rows, false)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// SetAttachmentDeleted soft-deletes (deletedAt set) or restores (nil) an
// attachment once check accepts it.
func (d *DB) SetAttachmentDeleted(ctx context.Context, s guard.Scope, e rempart.AuditEntry, collection, record, id string, deletedAt *time.Time, check func(vault.AttachmentRow) error) (vault.AttachmentRow, error) {
	tenant := mustScope(s)
	var out vault.AttachmentRow
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		cur, err := scanAttachment(tx.QueryRow(`SELECT `+attachmentCols+`, r.deleted_at`+attachmentFrom+
			` WHERE a.tenant_id = ? AND a.collection = ? AND a.record_id = ? AND a.id = ?`, tenant, collection, record, id), true)
		if err != nil {
			return err
		}
		if err := check(cur); err != nil {
			return err
		}
		var del sql.NullInt64
		if deletedAt != nil {
			del = sql.NullInt64{Int64: ts(*deletedAt), Valid: true}
		}
		if _, err := tx.Exec(`UPDATE attachments SET deleted_at = ? WHERE tenant_id = ? AND collection = ? AND record_id = ? AND id = ?`, del, tenant, collection, record, id); err != nil {
			return err
		}
		if (cur.DeletedAt == nil) != (deletedAt == nil) {
			// Its purge deadline under its tenant's rules, if deleted.
			if _, err := tx.Exec(stampAttachments+` WHERE tenant_id = ? AND collection = ? AND record_id = ? AND id = ?`, tenant, collection, record, id); err != nil {
				return err
			}
		}
		out = cur
		out.DeletedAt = fromNullTS(del)
		return nil
	})
	return out, err
}

// attachmentDue holds for an attachment a whose own retention is over, at
// now (first argument) or, under the deployment's retention, before cutoff
// (second): it is never NULL.
const attachmentDue = `(a.purge_at IS NOT NULL AND a.purge_at <= ? OR a.deleted_at IS NOT NULL AND a.purge_at IS NULL AND a.deleted_at <= ?)`

// purgeableAttachments find the attachments due on their own under a rule
// (argument: now) or the deployment's retention (cutoff), then those of
// records due under a rule (now, then now and cutoff for attachmentDue) or
// the deployment's retention (cutoff, now, cutoff).
var purgeableAttachments = [4]string{
	`SELECT ` + attachmentCols + `, a.purge_at - a.deleted_at FROM attachments a WHERE a.purge_at IS NOT NULL AND a.purge_at <= ? ORDER BY a.purge_at LIMIT ?`,
	`SELECT ` + attachmentCols + `, 0 FROM attachments a WHERE a.deleted_at IS NOT NULL AND a.purge_at IS NULL AND a.deleted_at <= ? ORDER BY a.deleted_at LIMIT ?`,
	`SELECT ` + attachmentCols + `, r.purge_at - r.deleted_at` + attachmentFrom + ` WHERE r.purge_at IS NOT NULL AND r.purge_at <= ? AND NOT ` + attachmentDue + ` ORDER BY r.purge_at LIMIT ?`,
	`SELECT ` + attachmentCols + `, 0` + attachmentFrom + ` WHERE r.deleted_at IS NOT NULL AND r.purge_at IS NULL AND r.deleted_at <= ? AND NOT ` + attachmentDue + ` ORDER BY r.deleted_at LIMIT ?`,
}

// PurgeableAttachments returns at most limit attachments, of any tenant,
// whose retention is over, each with the window that ran out: those
// soft-deleted past their purge deadline (index attachments_purge) or,
// under the deployment's retention, before cutoff (attachments_deleted);
// then those of records past theirs (records_purge, records_deleted). Each
// kind comes oldest first.
func (d *DB) PurgeableAttachments(ctx context.Context, now, cutoff time.Time, limit int) ([]vault.PurgeableAttachment, error) {
	n, c := ts(now), ts(cutoff)
	out := []vault.PurgeableAttachment{}
	for i, args := range [][]any{{n}, {c}, {n, n, c}, {c, n, c}} {
		if len(out) >= limit {
			break
		}
		rows, err := d.reader(ctx).Query(purgeableAttachments[i], append(args, limit-len(out))...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var window int64
			a, err := scanAttachment(rows, false, &window)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, vault.PurgeableAttachment{AttachmentRow: a, Window: time.Duration(window)})
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// recordDue holds for the record r of an attachment whose retention is
// over, at now and (the deployment's retention) cutoff.
const recordDue = `(r.purge_at IS NOT NULL AND r.purge_at <= ? OR r.deleted_at IS NOT NULL AND r.purge_at IS NULL AND r.deleted_at <= ?)`

// purgeAttachment deletes an attachment's row if it is still due, on its
// own or through its record: a restore, or a longer rule, since it was
// listed keeps it.
const purgeAttachment = `DELETE FROM attachments AS a WHERE a.tenant_id = ? AND a.collection = ? AND a.record_id = ? AND a.id = ?
	AND (` + attachmentDue + ` OR EXISTS (SELECT 1 FROM records r WHERE r.tenant_id = a.tenant_id AND r.collection = a.collection AND r.id = a.record_id AND ` + recordDue + `))`

// PurgeAttachment removes an attachment's row found by PurgeableAttachments
// if it is still due (ECONFLICT otherwise), and queues its object for
// deletion in the same transaction.
func (d *DB) PurgeAttachment(ctx context.Context, e rempart.AuditEntry, a vault.AttachmentRow, now, cutoff time.Time) error {
	n, c := ts(now), ts(cutoff)
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		res, err := tx.Exec(purgeAttachment, a.TenantID, a.Collection, a.RecordID, a.ID, n, c, n, c)
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return rempart.Errorf(rempart.ECONFLICT, "The attachment is no longer due for purging.")
		}
		_, err = tx.Exec(`INSERT INTO object_purges (object_key, tenant_id, queued_at) VALUES (?, ?, ?)`, a.ObjectKey, a.TenantID, n)
		return err
	})
	return err
}

// ObjectPurges returns at most limit queued object keys, oldest first.
func (d *DB) ObjectPurges(ctx context.Context, limit int) ([]string, error) {
	return stringColumn(d.reader(ctx).Query(`SELECT object_key FROM object_purges ORDER BY queued_at, object_key LIMIT ?`, limit))
}

// ObjectPurged records that a queued object is gone. It is bookkeeping: the
// purge was audited with its row.
func (d *DB) ObjectPurged(ctx context.Context, key string) error {
	return d.writeQuiet(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`DELETE FROM object_purges WHERE object_key = ?`, key)
		return err
	})
}

// TenantObjectPurges lists the deleted tenants whose attachment objects are
// still to be removed, oldest deletion first.
func (d *DB) TenantObjectPurges(ctx context.Context) ([]string, error) {
	return stringColumn(d.reader(ctx).Query(`SELECT tenant_id FROM attachment_tenant_purges ORDER BY deleted_at, tenant_id`))
}

// TenantObjectsPurged records that a deleted tenant's objects are gone.
func (d *DB) TenantObjectsPurged(ctx context.Context, e rempart.AuditEntry, tenant string) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		_, err := tx.Exec(`DELETE FROM attachment_tenant_purges WHERE tenant_id = ?`, tenant)
		return err
	})
	return err
}
