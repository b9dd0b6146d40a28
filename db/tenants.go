package db

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
	"github.com/rempart/rempart/keys"
)

func ts(t time.Time) int64 { return t.UnixNano() }

func nullTS(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: ts(*t), Valid: true}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func fromTS(n int64) time.Time { return time.Unix(0, n).UTC() }

func fromNullTS(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromTS(n.Int64)
	return &t
}

// mustScope panics on a zero scope: a storage call without authorisation is a
// programming error that must never reach the data (TEN-1).
func mustScope(s guard.Scope) string {
	if !s.Valid() {
		panic("db: tenant data accessed without an authorised scope")
	}
	return s.TenantID()
}

const tenantCols = `id, name, status, created_at, updated_at`

func scanTenant(row interface{ Scan(...any) error }) (rempart.Tenant, error) {
	var t rempart.Tenant
	var c, u int64
	if err := row.Scan(&t.ID, &t.Name, &t.Status, &c, &u); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return t, rempart.Errorf(rempart.ENOTFOUND, "Tenant not found.")
		}
		return t, err
	}
	t.CreatedAt, t.UpdatedAt = fromTS(c), fromTS(u)
	return t, nil
}

// Tenant returns one tenant, or ENOTFOUND.
func (d *DB) Tenant(ctx context.Context, id string) (rempart.Tenant, error) {
	return cached(d.auth, (*authCache).tenantMap, id, func() (rempart.Tenant, error) { return d.tenant(ctx, id) })
}

func (d *DB) tenant(ctx context.Context, id string) (rempart.Tenant, error) {
	return scanTenant(d.reader(ctx).QueryRow(`SELECT `+tenantCols+` FROM tenants WHERE id = ?`, id))
}

// Tenants lists all tenants by creation time.
func (d *DB) Tenants(ctx context.Context) ([]rempart.Tenant, error) {
	rows, err := d.reader(ctx).Query(`SELECT ` + tenantCols + ` FROM tenants ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []rempart.Tenant{}
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// CreateTenant inserts a tenant with its first keys.
func (d *DB) CreateTenant(ctx context.Context, e rempart.AuditEntry, t rempart.Tenant, k keys.WrappedKeys) (rempart.AuditEntry, error) {
	return d.Write(ctx, e, func(tx *Tx) error {
		var n int
		if err := tx.QueryRow(`SELECT COUNT(*) FROM tenants WHERE name = ?`, t.Name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return rempart.Errorf(rempart.ECONFLICT, "A tenant named %q already exists.", t.Name)
		}
		if err := requireActiveRoot(tx, k.RootKeyID); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO tenants (`+tenantCols+`) VALUES (?, ?, ?, ?, ?)`, t.ID, t.Name, t.Status, ts(t.CreatedAt), ts(t.UpdatedAt)); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO tenant_keks (tenant_id, kek_id, wrapper, wrapped, created_at, active) VALUES (?, ?, ?, ?, ?, 1)`,
			t.ID, k.KEKID, k.RootKeyID, k.WrappedKEK, ts(t.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO tenant_keys (tenant_id, data_key_id, kek_id, wrapped_dek, created_at, active) VALUES (?, ?, ?, ?, ?, 1)`,
			t.ID, k.DataKeyID, k.KEKID, k.WrappedDEK, ts(t.CreatedAt))
		return err
	})
}

// SetTenantStatus suspends or resumes a tenant.
func (d *DB) SetTenantStatus(ctx context.Context, s guard.Scope, e rempart.AuditEntry, status string) (rempart.Tenant, error) {
	id := mustScope(s)
	var t rempart.Tenant
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE tenants SET status = ?, updated_at = ? WHERE id = ?`, status, ts(d.clock.Now()), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return rempart.Errorf(rempart.ENOTFOUND, "Tenant not found.")
		}
		t, err = scanTenant(tx.QueryRow(`SELECT `+tenantCols+` FROM tenants WHERE id = ?`, id))
		return err
	})
	return t, err
}

// DeleteTenant removes a tenant with its keys, records, attachments, retention
// rules, service accounts and API keys. Without its keys, any copy of its
// ciphertext (in a backup, say) is unreadable: deletion is crypto-shredding
// (GOV-5). The tenant goes on the list of those whose attachment objects the
// vault deletes. The audit trail stays.
func (d *DB) DeleteTenant(ctx context.Context, s guard.Scope, e rempart.AuditEntry) error {
	id := mustScope(s)
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		for _, q := range []string{
			`DELETE FROM tenant_keys WHERE tenant_id = ?`,
			`DELETE FROM tenant_keks WHERE tenant_id = ?`,
			`DELETE FROM retention_rules WHERE tenant_id = ?`,
			`DELETE FROM attachments WHERE tenant_id = ?`,
			`DELETE FROM records WHERE tenant_id = ?`,
			`DELETE FROM idempotency_keys WHERE tenant_id = ?`,
			`DELETE FROM api_keys WHERE tenant_id = ?`,
			`DELETE FROM personal_keys WHERE tenant_id = ?`,
			`DELETE FROM principals WHERE tenant_id = ?`,
		} {
			if _, err := tx.Exec(q, id); err != nil {
				return err
			}
		}
		res, err := tx.Exec(`DELETE FROM tenants WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return rempart.Errorf(rempart.ENOTFOUND, "Tenant not found.")
		}
		_, err = tx.Exec(`INSERT INTO attachment_tenant_purges (tenant_id, deleted_at) VALUES (?, ?)`, id, ts(d.clock.Now()))
		return err
	})
	return err
}

// TenantKeys returns the wrapped keys of a tenant's data key ("" = active).
func (d *DB) TenantKeys(ctx context.Context, s guard.Scope, dataKeyID string) (keys.WrappedKeys, error) {
	tenant := mustScope(s)
	if dataKeyID != "" {
		return d.tenantKeys(ctx, tenant, dataKeyID)
	}
	return cached(d.auth, (*authCache).activeMap, tenant, func() (keys.WrappedKeys, error) { return d.tenantKeys(ctx, tenant, "") })
}

const wrappedKeysQuery = `SELECT k.data_key_id, k.kek_id, e.wrapper, e.wrapped, k.wrapped_dek FROM tenant_keys k
	LEFT JOIN tenant_keks e ON e.tenant_id = k.tenant_id AND e.kek_id = k.kek_id WHERE k.tenant_id = ?`

// errKEKGone is the answer for data whose key-encryption key was destroyed
// (its tenant deleted, then restored from a backup): it cannot be read.
var errKEKGone = rempart.Errorf(rempart.EUNAVAILABLE, "This tenant's key-encryption key was destroyed (the tenant was deleted): its data cannot be decrypted.")

func (d *DB) tenantKeys(ctx context.Context, tenant, dataKeyID string) (keys.WrappedKeys, error) {
	k := keys.WrappedKeys{TenantID: tenant}
	q := wrappedKeysQuery + ` AND k.data_key_id = ?`
	args := []any{k.TenantID, dataKeyID}
	if dataKeyID == "" {
		q = wrappedKeysQuery + ` AND k.active = 1`
		args = args[:1]
	}
	var wrapper sql.NullString
	err := d.reader(ctx).QueryRow(q, args...).Scan(&k.DataKeyID, &k.KEKID, &wrapper, &k.WrappedKEK, &k.WrappedDEK)
	if err == nil && !wrapper.Valid {
		return k, errKEKGone
	}
	k.RootKeyID = wrapper.String
	if errors.Is(err, sql.ErrNoRows) && dataKeyID != "" {
		return k, rempart.Errorf(rempart.ENOTFOUND, "No such data key for this tenant.")
	} else if errors.Is(err, sql.ErrNoRows) {
		return k, rempart.Errorf(rempart.EUNAVAILABLE, "The tenant's keys are not available.")
	}
	return k, err
}
