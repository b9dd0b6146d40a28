package db

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
	"github.com/rempart/rempart/keys"
	"github.com/rempart/rempart/vault"
)

// customerWrapped marks KEKs wrapped by a tenant's own key: root rotation
// leaves them alone.
const customerWrapped = "cmk:%"

// StaleWrapped returns keys wrapped under a root key version other than
// active: tenants' KEKs, then the keys of backups that can still be restored.
func (d *DB) StaleWrapped(ctx context.Context, active string, limit int) ([]keys.Wrapped, int, error) {
	r := d.reader(ctx)
	var nk, nb int
	if err := r.QueryRow(`SELECT COUNT(*) FROM tenant_keks WHERE wrapper <> ? AND wrapper NOT LIKE ?`, active, customerWrapped).Scan(&nk); err != nil {
		return nil, 0, err
	}
	if err := r.QueryRow(`SELECT COUNT(*) FROM backups WHERE root_key_id <> ? AND status IN ('running', 'complete')`, active).Scan(&nb); err != nil {
		return nil, 0, err
	}
	var out []keys.Wrapped
	rows, err := r.Query(`SELECT tenant_id, kek_id, wrapper, wrapped FROM tenant_keks WHERE wrapper <> ? AND wrapper NOT LIKE ? ORDER BY tenant_id, kek_id LIMIT ?`, active, customerWrapped, limit)
	if err != nil {
		return nil, 0, err
	}
	for rows.Next() {
		w := keys.Wrapped{Kind: "kek"}
		if err := rows.Scan(&w.Owner, &w.ID, &w.Wrapper, &w.Data); err != nil {
			rows.Close()
			return nil, 0, err
		}
		out = append(out, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if len(out) < limit {
		rows, err := r.Query(`SELECT id, root_key_id, wrapped_key FROM backups WHERE root_key_id <> ? AND status IN ('running', 'complete') ORDER BY id LIMIT ?`, active, limit-len(out))
		if err != nil {
			return nil, 0, err
		}
		defer rows.Close()
		for rows.Next() {
			w := keys.Wrapped{Kind: "backup"}
			if err := rows.Scan(&w.ID, &w.Wrapper, &w.Data); err != nil {
				return nil, 0, err
			}
			out = append(out, w)
		}
		if err := rows.Err(); err != nil {
			return nil, 0, err
		}
	}
	return out, nk + nb, nil
}

// Rewrap stores the new wrapping of each key, if its stored wrapping is
// still the one read, in one audited transaction.
func (d *DB) Rewrap(ctx context.Context, e rempart.AuditEntry, ks []keys.Wrapped, wrapper string) (int, error) {
	var n int64
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		n = 0
		for _, k := range ks {
			var res sql.Result
			var err error
			if k.Kind == "backup" {
				res, err = tx.Exec(`UPDATE backups SET root_key_id = ?, wrapped_key = ? WHERE id = ? AND root_key_id <> ?`, wrapper, k.Data, k.ID, wrapper)
			} else {
				res, err = tx.Exec(`UPDATE tenant_keks SET wrapper = ?, wrapped = ? WHERE tenant_id = ? AND kek_id = ? AND wrapper <> ? AND wrapper NOT LIKE ?`, wrapper, k.Data, k.Owner, k.ID, wrapper, customerWrapped)
			}
			if err != nil {
				return err
			}
			m, _ := res.RowsAffected()
			n += m
		}
		return nil
	})
	return int(n), err
}

// RootRefs counts what each root key version still wraps: KEKs, keys of
// restorable backups, and the deployment's secrets (a secret stored before
// versions existed counts under "").
func (d *DB) RootRefs(ctx context.Context) (map[string]int, error) {
	refs := map[string]int{}
	r := d.reader(ctx)
	for _, q := range []string{
		`SELECT wrapper, COUNT(*) FROM tenant_keks GROUP BY wrapper`,
		`SELECT root_key_id, COUNT(*) FROM backups WHERE status IN ('running', 'complete') GROUP BY root_key_id`,
	} {
		// A count cut short would let a version still in use be destroyed:
		// countBy reports a failed iteration.
		counts, err := countBy(r, q, nil)
		if err != nil {
			return nil, err
		}
		for id, n := range counts {
			refs[id] += int(n)
		}
	}
	for _, name := range []string{"audit_signer", "backup_signer"} {
		v, err := d.Meta(ctx, name)
		if rempart.ErrorCode(err) == rempart.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		refs[keys.SecretRootKeyID(v, "")]++ // "": stored before versions, under an unnamed one
	}
	return refs, nil
}

// RotateTenantKeys retires the tenant's active KEK and data key and makes w's
// the active ones, in one audited transaction: new writes use them at once.
func (d *DB) RotateTenantKeys(ctx context.Context, s guard.Scope, e rempart.AuditEntry, w keys.WrappedKeys) error {
	tenant := mustScope(s)
	now := ts(d.clock.Now())
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		if err := requireActiveRoot(tx, w.RootKeyID); err != nil {
			return err
		}
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`UPDATE tenant_keks SET active = 0 WHERE tenant_id = ? AND active = 1`, []any{tenant}},
			{`INSERT INTO tenant_keks (tenant_id, kek_id, wrapper, wrapped, created_at, active) VALUES (?, ?, ?, ?, ?, 1)`, []any{tenant, w.KEKID, w.RootKeyID, w.WrappedKEK, now}},
			{`UPDATE tenant_keys SET active = 0, retired_at = ? WHERE tenant_id = ? AND active = 1`, []any{now, tenant}},
			{`INSERT INTO tenant_keys (tenant_id, data_key_id, kek_id, wrapped_dek, created_at, active) VALUES (?, ?, ?, ?, ?, 1)`, []any{tenant, w.DataKeyID, w.KEKID, w.WrappedDEK, now}},
		} {
			if _, err := tx.Exec(q.sql, q.args...); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

// StaleRecords returns up to limit of the tenant's records (deleted ones
// too) sealed under a data key other than active, and how many there are.
func (d *DB) StaleRecords(ctx context.Context, s guard.Scope, active string, limit int) ([]vault.RecordRow, int, error) {
	tenant := mustScope(s)
	r := d.reader(ctx)
	var n int
	if err := r.QueryRow(`SELECT COUNT(*) FROM records WHERE tenant_id = ? AND data_key_id <> ?`, tenant, active).Scan(&n); err != nil {
		return nil, 0, err
	}
	rows, err := r.Query(`SELECT `+recordCols+` FROM records WHERE tenant_id = ? AND data_key_id <> ? ORDER BY collection, id LIMIT ?`, tenant, active, limit)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []vault.RecordRow
	for rows.Next() {
		row, err := scanRecord(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, row)
	}
	return out, n, rows.Err()
}

// Reencrypt stores records re-sealed under another data key, each only if
// its version and data key are still those it was read with (a record
// written meanwhile is already under the active key), in one audited
// transaction; it returns how many it stored.
func (d *DB) Reencrypt(ctx context.Context, s guard.Scope, e rempart.AuditEntry, rows []vault.RecordRow, oldKeys []string) (int, error) {
	tenant := mustScope(s)
	var n int64
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		n = 0
		for i, r := range rows {
			res, err := tx.Exec(`UPDATE records SET data_key_id = ?, ciphertext = ? WHERE tenant_id = ? AND collection = ? AND id = ? AND version = ? AND data_key_id = ?`,
				r.DataKeyID, r.Ciphertext, tenant, r.Collection, r.ID, r.Version, oldKeys[i])
			if err != nil {
				return err
			}
			m, _ := res.RowsAffected()
			n += m
		}
		return nil
	})
	return int(n), err
}

// DropRetiredKeys deletes the tenant's retired data keys that seal nothing
// any more, marks the KEKs they leave without data keys as unused, and
// deletes the unused KEKs that no restorable backup can need (every one was
// taken after they fell out of use). It returns how many data keys and KEKs
// it deleted.
func (d *DB) DropRetiredKeys(ctx context.Context, s guard.Scope, e rempart.AuditEntry) (int, int, error) {
	tenant := mustScope(s)
	now := ts(d.clock.Now())
	var dks, keks int64
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		res, err := tx.Exec(`DELETE FROM tenant_keys WHERE tenant_id = ? AND active = 0 AND data_key_id NOT IN (
			SELECT data_key_id FROM records WHERE tenant_id = ? UNION SELECT data_key_id FROM attachments WHERE tenant_id = ?)`, tenant, tenant, tenant)
		if err != nil {
			return err
		}
		dks, _ = res.RowsAffected()
		if _, err := tx.Exec(`UPDATE tenant_keks SET unused_since = ? WHERE tenant_id = ? AND active = 0 AND unused_since IS NULL
			AND kek_id NOT IN (SELECT kek_id FROM tenant_keys WHERE tenant_id = ?)`, now, tenant, tenant); err != nil {
			return err
		}
		res, err = tx.Exec(`DELETE FROM tenant_keks WHERE tenant_id = ? AND active = 0 AND unused_since IS NOT NULL
			AND unused_since < COALESCE((SELECT MIN(created_at) FROM backups WHERE status IN ('running', 'complete')), ?)`, tenant, int64(1<<62))
		if err != nil {
			return err
		}
		keks, _ = res.RowsAffected()
		return nil
	})
	return int(dks), int(keks), err
}

// countBy reads a query's (ID, count) rows.
func countBy(r *Tx, query string, args []any) (map[string]int64, error) {
	rows, err := r.Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// TenantKeyInventory describes a tenant's keys, or every tenant's for an
// empty tenant ID (callers authorise).
func (d *DB) TenantKeyInventory(ctx context.Context, tenant string) ([]rempart.TenantKeys, error) {
	r := d.reader(ctx)
	where, args := "", []any{}
	if tenant != "" {
		where, args = ` WHERE tenant_id = ?`, []any{tenant}
	}
	byTenant := map[string]*rempart.TenantKeys{}
	var order []string
	get := func(t string) *rempart.TenantKeys {
		if byTenant[t] == nil {
			byTenant[t] = &rempart.TenantKeys{TenantID: t, KEKs: []rempart.KEKInfo{}, DataKeys: []rempart.DataKeyInfo{}}
			order = append(order, t)
		}
		return byTenant[t]
	}
	rows, err := r.Query(`SELECT tenant_id, kek_id, wrapper, created_at, active FROM tenant_keks`+where+` ORDER BY tenant_id, created_at, kek_id`, args...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var t string
		var k rempart.KEKInfo
		var c, a int64
		if err := rows.Scan(&t, &k.ID, &k.Wrapper, &c, &a); err != nil {
			rows.Close()
			return nil, err
		}
		k.CreatedAt, k.Active = fromTS(c), a == 1
		get(t).KEKs = append(get(t).KEKs, k)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, err
	}
	counts, err := countBy(r, `SELECT data_key_id, COUNT(*) FROM records`+where+` GROUP BY data_key_id`, args)
	if err != nil {
		return nil, err
	}
	att, err := countBy(r, `SELECT data_key_id, COUNT(*) FROM attachments`+where+` GROUP BY data_key_id`, args)
	if err != nil {
		return nil, err
	}
	rows, err = r.Query(`SELECT tenant_id, data_key_id, kek_id, created_at, active, retired_at, seals FROM tenant_keys`+where+` ORDER BY tenant_id, created_at, data_key_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var t string
		var k rempart.DataKeyInfo
		var c, a int64
		var ret sql.NullInt64
		if err := rows.Scan(&t, &k.ID, &k.KEKID, &c, &a, &ret, &k.Seals); err != nil {
			return nil, err
		}
		k.CreatedAt, k.Active, k.RetiredAt, k.Records, k.Attachments = fromTS(c), a == 1, fromNullTS(ret), counts[k.ID], att[k.ID]
		get(t).DataKeys = append(get(t).DataKeys, k)
	}
	out := make([]rempart.TenantKeys, 0, len(order))
	for _, t := range order {
		out = append(out, *byTenant[t])
	}
	return out, rows.Err()
}

// StaleAttachments returns up to limit of the tenant's attachments (deleted
// ones too) sealed under a data key other than active, and how many there
// are.
func (d *DB) StaleAttachments(ctx context.Context, s guard.Scope, active string, limit int) ([]vault.AttachmentRow, int, error) {
	tenant := mustScope(s)
	r := d.reader(ctx)
	var n int
	if err := r.QueryRow(`SELECT COUNT(*) FROM attachments WHERE tenant_id = ? AND data_key_id <> ?`, tenant, active).Scan(&n); err != nil {
		return nil, 0, err
	}
	rows, err := r.Query(`SELECT `+attachmentCols+` FROM attachments a WHERE a.tenant_id = ? AND a.data_key_id <> ? ORDER BY a.id LIMIT ?`, tenant, active, limit)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []vault.AttachmentRow
	for rows.Next() {
		a, err := scanAttachment(rows, false)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, a)
	}
	return out, n, rows.Err()
}

// MoveAttachment points an attachment at its re-sealed object (a.ObjectKey,
// a.DataKeyID, a.SealedMeta), if it still is the object under the data key
// it was read with; it reports whether it did, with an audit entry.
func (d *DB) MoveAttachment(ctx context.Context, s guard.Scope, e rempart.AuditEntry, a vault.AttachmentRow, oldKey, oldDataKey string) (bool, error) {
	tenant := mustScope(s)
	moved := false
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE attachments SET object_key = ?, data_key_id = ?, meta = ? WHERE tenant_id = ? AND id = ? AND object_key = ? AND data_key_id = ?`,
			a.ObjectKey, a.DataKeyID, a.SealedMeta, tenant, a.ID, oldKey, oldDataKey)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		moved = n == 1
		return nil
	})
	return moved, err
}

// LeaseSeals adds n to a data key's seal count and returns the new count
// (ENC-3: keys.SealPolicy), with an audit entry.
func (d *DB) LeaseSeals(ctx context.Context, tenant, dataKeyID string, n int64) (int64, error) {
	var total int64
	e := rempart.AuditEntry{PrincipalID: "system:seal-lease", TenantID: tenant, Action: "key.seal_lease", Resource: "tenants/" + tenant + "/keys/" + dataKeyID,
		Outcome: rempart.OutcomeSuccess, Reason: fmt.Sprintf("%d seals", n)}
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE tenant_keys SET seals = seals + ? WHERE tenant_id = ? AND data_key_id = ?`, n, tenant, dataKeyID)
		if err != nil {
			return err
		}
		if m, _ := res.RowsAffected(); m != 1 {
			return rempart.Errorf(rempart.ENOTFOUND, "No data key %s.", dataKeyID)
		}
		return tx.QueryRow(`SELECT seals FROM tenant_keys WHERE tenant_id = ? AND data_key_id = ?`, tenant, dataKeyID).Scan(&total)
	})
	return total, err
}
