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

func scanAttachment(row interface{ Scan(...any) error }, withRecord bool) (vault.AttachmentRow, error) {
	var a vault.AttachmentRow
	var created int64
	var del, recDel sql.NullInt64
	dest := []any{&a.TenantID, &a.Collection, &a.RecordID, &a.ID, &a.ObjectKey, &a.DataKeyID, &a.SealedMeta, &a.ContentType, &a.Size, &created, &del}
	if withRecord {
		dest = append(dest, &recDel)
	}
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
		out = cur
		out.DeletedAt = fromNullTS(del)
		return nil
	})
	return out, err
}

// PurgeableAttachments returns attachments, of any tenant, soft-deleted
// before cutoff, then attachments of records soft-deleted before cutoff: at
// most limit in all, oldest deletions first.
func (d *DB) PurgeableAttachments(ctx context.Context, cutoff time.Time, limit int) ([]vault.AttachmentRow, error) {
	c := ts(cutoff)
	out := []vault.AttachmentRow{}
	for _, q := range []struct {
		query string
		args  []any
	}{
		{`SELECT ` + attachmentCols + ` FROM attachments a WHERE a.deleted_at IS NOT NULL AND a.deleted_at < ? ORDER BY a.deleted_at LIMIT ?`, []any{c}},
		{`SELECT ` + attachmentCols + attachmentFrom + ` WHERE r.deleted_at IS NOT NULL AND r.deleted_at < ? AND (a.deleted_at IS NULL OR a.deleted_at >= ?) ORDER BY r.deleted_at LIMIT ?`, []any{c, c}},
	} {
		if len(out) >= limit {
			break
		}
		rows, err := d.reader(ctx).Query(q.query, append(q.args, limit-len(out))...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			a, err := scanAttachment(rows, false)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, a)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// PurgeAttachment removes an attachment's row.
func (d *DB) PurgeAttachment(ctx context.Context, e rempart.AuditEntry, a vault.AttachmentRow) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		_, err := tx.Exec(`DELETE FROM attachments WHERE tenant_id = ? AND collection = ? AND record_id = ? AND id = ?`, a.TenantID, a.Collection, a.RecordID, a.ID)
		return err
	})
	return err
}

// TenantObjectPurges lists the deleted tenants whose attachment objects are
// still to be removed, oldest deletion first.
func (d *DB) TenantObjectPurges(ctx context.Context) ([]string, error) {
	rows, err := d.reader(ctx).Query(`SELECT tenant_id FROM attachment_tenant_purges ORDER BY deleted_at, tenant_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// TenantObjectsPurged records that a deleted tenant's objects are gone.
func (d *DB) TenantObjectsPurged(ctx context.Context, e rempart.AuditEntry, tenant string) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		_, err := tx.Exec(`DELETE FROM attachment_tenant_purges WHERE tenant_id = ?`, tenant)
		return err
	})
	return err
}
