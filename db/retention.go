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

// Retention rules (GOV-5). Each soft-deleted record and attachment under a
// tenant's rule carries its purge deadline (purge_at): set when it is
// deleted, and again for every deleted row of the collections a rule change
// governs. The hourly purge then reads through one index exactly the rows
// that are due, whatever the rules; rows under the deployment's retention
// have none and are found by deleted_at (migration 0008).

// ruleWindow is the restore window of a row of table t under its tenant's
// rules: the collection's own rule, else the tenant's default (the rule of
// the empty collection name), else NULL.
func ruleWindow(t string) string {
	return `(SELECT x.restorable FROM retention_rules x WHERE x.tenant_id = ` + t + `.tenant_id AND x.collection IN (` + t + `.collection, '') ORDER BY x.collection DESC LIMIT 1)`
}

// stampRecords and stampAttachments set the purge deadline of the rows
// their WHERE clause selects: NULL for a live row or one under the
// deployment's retention.
var (
	stampRecords     = `UPDATE records SET purge_at = deleted_at + ` + ruleWindow("records")
	stampAttachments = `UPDATE attachments SET purge_at = deleted_at + ` + ruleWindow("attachments")
)

const ruleCols = `tenant_id, collection, restorable, max_age, updated_at`

func scanRules(rows *sql.Rows, err error) ([]vault.RetentionRuleRow, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []vault.RetentionRuleRow
	for rows.Next() {
		var r vault.RetentionRuleRow
		var restorable, updated int64
		var maxAge sql.NullInt64
		if err := rows.Scan(&r.TenantID, &r.Collection, &restorable, &maxAge, &updated); err != nil {
			return nil, err
		}
		r.Restorable, r.MaxAge, r.UpdatedAt = time.Duration(restorable), time.Duration(maxAge.Int64), fromTS(updated)
		out = append(out, r)
	}
	return out, rows.Err()
}

// RetentionRules returns the scope's tenant's rules, its default first.
func (d *DB) RetentionRules(ctx context.Context, s guard.Scope) ([]vault.RetentionRuleRow, error) {
	return scanRules(d.reader(ctx).Query(`SELECT `+ruleCols+` FROM retention_rules WHERE tenant_id = ? ORDER BY collection`, mustScope(s)))
}

// SetRetentionRule stores a rule and sets again the purge deadlines of the
// deleted rows it governs: those of its collection, or for the default, of
// every collection of the tenant (those with a rule of their own get the
// same deadline as before).
func (d *DB) SetRetentionRule(ctx context.Context, s guard.Scope, e rempart.AuditEntry, r vault.RetentionRuleRow) error {
	tenant := mustScope(s)
	var maxAge sql.NullInt64
	if r.MaxAge > 0 {
		maxAge = sql.NullInt64{Int64: int64(r.MaxAge), Valid: true}
	}
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		if _, err := tx.Exec(`INSERT INTO retention_rules (`+ruleCols+`) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, collection) DO UPDATE SET restorable = excluded.restorable, max_age = excluded.max_age, updated_at = excluded.updated_at`,
			tenant, r.Collection, int64(r.Restorable), maxAge, ts(r.UpdatedAt)); err != nil {
			return err
		}
		return restamp(tx, tenant, r.Collection)
	})
	return err
}

// DeleteRetentionRule removes a rule and sets the deadlines again.
func (d *DB) DeleteRetentionRule(ctx context.Context, s guard.Scope, e rempart.AuditEntry, collection string) error {
	tenant := mustScope(s)
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		res, err := tx.Exec(`DELETE FROM retention_rules WHERE tenant_id = ? AND collection = ?`, tenant, collection)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if collection == "" {
				return rempart.Errorf(rempart.ENOTFOUND, "This tenant has no default retention rule.")
			}
			return rempart.Errorf(rempart.ENOTFOUND, "This collection has no retention rule.")
		}
		return restamp(tx, tenant, collection)
	})
	return err
}

// The statements that set again the deadlines of the deleted rows of one
// collection, or of a whole tenant (after a change of its default). They
// touch deleted rows only, through their partial indexes.
var (
	restampCollection = [2]string{stampRecords + collectionDeleted, stampAttachments + collectionDeleted}
	restampTenant     = [2]string{stampRecords + tenantDeleted, stampAttachments + tenantDeleted}
)

const (
	collectionDeleted = ` WHERE tenant_id = ? AND collection = ? AND deleted_at IS NOT NULL`
	tenantDeleted     = ` WHERE tenant_id = ? AND deleted_at IS NOT NULL`
)

// restamp sets the purge deadlines of the deleted rows a rule governs, as the
// rules now say.
func restamp(tx *Tx, tenant, collection string) error {
	qs, args := restampCollection, []any{tenant, collection}
	if collection == "" {
		qs, args = restampTenant, args[:1]
	}
	for _, q := range qs {
		if _, err := tx.Exec(q, args...); err != nil {
			return err
		}
	}
	return nil
}

// ExpiryRules returns every rule of the tenants that have a rule with a
// maximum age, by tenant and collection (a tenant's default first).
func (d *DB) ExpiryRules(ctx context.Context) ([]vault.RetentionRuleRow, error) {
	return scanRules(d.reader(ctx).Query(`SELECT ` + ruleCols + ` FROM retention_rules
		WHERE tenant_id IN (SELECT tenant_id FROM retention_rules WHERE max_age IS NOT NULL) ORDER BY tenant_id, collection`))
}

const nextCollection = `SELECT collection FROM records WHERE tenant_id = ? AND collection > ? ORDER BY collection LIMIT 1`

// NextCollection returns the scope's tenant's first collection after the
// given one, or "": one seek of the primary key, however many records each
// collection holds.
func (d *DB) NextCollection(ctx context.Context, s guard.Scope, after string) (string, error) {
	var c string
	err := d.reader(ctx).QueryRow(nextCollection, mustScope(s), after).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return c, err
}

const expiredRecords = `SELECT id FROM records WHERE tenant_id = ? AND collection = ? AND updated_at < ? AND deleted_at IS NULL
	ORDER BY updated_at, id LIMIT ?`

// ExpiredRecords returns the IDs of at most limit live records of a
// collection last updated before cutoff, oldest first (index
// records_updated).
func (d *DB) ExpiredRecords(ctx context.Context, s guard.Scope, collection string, cutoff time.Time, limit int) ([]string, error) {
	return stringColumn(d.reader(ctx).Query(expiredRecords, mustScope(s), collection, ts(cutoff), limit))
}

// noAttachment holds for a record r without attachments, deleted or not.
const noAttachment = `NOT EXISTS (SELECT 1 FROM attachments a WHERE a.tenant_id = r.tenant_id AND a.collection = r.collection AND a.record_id = r.id)`

// purgeableRecords find the records due under a rule (argument: now), then
// under the deployment's retention (argument: cutoff).
var purgeableRecords = [2]string{
	`SELECT r.tenant_id, r.collection, r.id, r.deleted_at, r.purge_at - r.deleted_at FROM records r
		WHERE r.purge_at IS NOT NULL AND r.purge_at <= ? AND ` + noAttachment + ` ORDER BY r.purge_at LIMIT ?`,
	`SELECT r.tenant_id, r.collection, r.id, r.deleted_at, 0 FROM records r
		WHERE r.deleted_at IS NOT NULL AND r.purge_at IS NULL AND r.deleted_at <= ? AND ` + noAttachment + ` ORDER BY r.deleted_at LIMIT ?`,
}

// PurgeableRecords returns at most limit deleted records without attachments
// whose retention is over: first those whose purge deadline is past (index
// records_purge), then those under the deployment's retention deleted before
// cutoff (index records_deleted), each oldest first.
func (d *DB) PurgeableRecords(ctx context.Context, now, cutoff time.Time, limit int) ([]vault.PurgeableRecord, error) {
	out := []vault.PurgeableRecord{}
	for i, arg := range []int64{ts(now), ts(cutoff)} {
		if len(out) >= limit {
			break
		}
		rows, err := d.reader(ctx).Query(purgeableRecords[i], arg, limit-len(out))
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var p vault.PurgeableRecord
			var del, window int64
			if err := rows.Scan(&p.TenantID, &p.Collection, &p.ID, &del, &window); err != nil {
				rows.Close()
				return nil, err
			}
			p.DeletedAt, p.Window = fromTS(del), time.Duration(window)
			out = append(out, p)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

const purgeRecord = `DELETE FROM records WHERE tenant_id = ? AND collection = ? AND id = ? AND deleted_at IS NOT NULL
	AND (purge_at <= ? OR purge_at IS NULL AND deleted_at <= ?)
	AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.tenant_id = records.tenant_id AND a.collection = records.collection AND a.record_id = records.id)`

// PurgeRecord removes a record found by PurgeableRecords if it still is
// purgeable: still deleted, past its deadline, without attachments.
func (d *DB) PurgeRecord(ctx context.Context, e rempart.AuditEntry, p vault.PurgeableRecord, now, cutoff time.Time) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		res, err := tx.Exec(purgeRecord, p.TenantID, p.Collection, p.ID, ts(now), ts(cutoff))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return rempart.Errorf(rempart.ECONFLICT, "The record changed before it could be purged.")
		}
		return nil
	})
	return err
}
