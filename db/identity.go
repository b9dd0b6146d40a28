package db

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
	"github.com/rempart/rempart/identity"
)

// APIKey returns a key with its principal.
func (d *DB) APIKey(ctx context.Context, id string) (identity.KeyRow, error) {
	return cached(d.auth, (*authCache).keyMap, id, func() (identity.KeyRow, error) { return d.apiKey(ctx, id) })
}

func (d *DB) apiKey(ctx context.Context, id string) (identity.KeyRow, error) {
	var k identity.KeyRow
	var tenant sql.NullString
	var c, x int64
	var rev, pdel sql.NullInt64
	err := d.reader(ctx).QueryRow(`SELECT k.id, k.hash, k.created_at, k.expires_at, k.revoked_at, p.id, p.name, p.tenant_id, p.role, p.deleted_at
		FROM api_keys k JOIN principals p ON p.id = k.principal_id WHERE k.id = ?`, id).
		Scan(&k.ID, &k.Hash, &c, &x, &rev, &k.Principal.ID, &k.Principal.Name, &tenant, &k.Principal.Role, &pdel)
	if errors.Is(err, sql.ErrNoRows) {
		return k, rempart.Errorf(rempart.ENOTFOUND, "Key not found.")
	} else if err != nil {
		return k, err
	}
	k.Principal.TenantID = tenant.String
	k.CreatedAt, k.ExpiresAt, k.RevokedAt, k.PrincipalDeleted = fromTS(c), fromTS(x), fromNullTS(rev), pdel.Valid
	return k, nil
}

// APIKeys lists a principal's keys within the scope's tenant.
func (d *DB) APIKeys(ctx context.Context, s guard.Scope, principalID string) ([]rempart.APIKey, error) {
	rows, err := d.reader(ctx).Query(`SELECT id, principal_id, created_at, expires_at, revoked_at FROM api_keys WHERE tenant_id = ? AND principal_id = ? ORDER BY created_at, id`, mustScope(s), principalID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []rempart.APIKey{}
	for rows.Next() {
		var k rempart.APIKey
		var c, x int64
		var rev sql.NullInt64
		if err := rows.Scan(&k.ID, &k.PrincipalID, &c, &x, &rev); err != nil {
			return nil, err
		}
		k.TenantID, k.CreatedAt, k.ExpiresAt, k.RevokedAt = s.TenantID(), fromTS(c), fromTS(x), fromNullTS(rev)
		out = append(out, k)
	}
	return out, rows.Err()
}

// insertPrincipal stores a principal: a service account or a person (no
// tenant for system principals).
func insertPrincipal(tx *Tx, p rempart.Principal, created time.Time) error {
	_, err := tx.Exec(`INSERT INTO principals (id, tenant_id, name, role, created_at) VALUES (?, ?, ?, ?, ?)`, p.ID, nullString(p.TenantID), p.Name, p.Role, ts(created))
	return err
}

func insertKey(tx *Tx, k identity.KeyRow) error {
	_, err := tx.Exec(`INSERT INTO api_keys (id, principal_id, tenant_id, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		k.ID, k.Principal.ID, nullString(k.Principal.TenantID), k.Hash, ts(k.CreatedAt), ts(k.ExpiresAt))
	return err
}

// CreateAPIKey stores a new key of a service account of the scope's tenant.
func (d *DB) CreateAPIKey(ctx context.Context, s guard.Scope, e rempart.AuditEntry, k identity.KeyRow) error {
	if k.Principal.TenantID != mustScope(s) {
		return rempart.Errorf(rempart.ENOTFOUND, "Service account not found.")
	}
	_, err := d.Write(ctx, e, func(tx *Tx) error { return insertKey(tx, k) })
	return err
}

// RevokeAPIKey revokes one key of a service account of the scope's tenant.
func (d *DB) RevokeAPIKey(ctx context.Context, s guard.Scope, e rempart.AuditEntry, principalID, keyID string) error {
	tenant := mustScope(s)
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		return tx.execOne(rempart.Errorf(rempart.ENOTFOUND, "Key not found or already revoked."), `UPDATE api_keys SET revoked_at = ? WHERE id = ? AND principal_id = ? AND tenant_id = ? AND revoked_at IS NULL`, ts(d.clock.Now()), keyID, principalID, tenant)
	})
	return err
}

func scanAccount(row interface{ Scan(...any) error }) (rempart.ServiceAccount, error) {
	var sa rempart.ServiceAccount
	var tenant sql.NullString
	var c int64
	err := row.Scan(&sa.ID, &tenant, &sa.Name, &sa.Role, &c)
	if errors.Is(err, sql.ErrNoRows) {
		return sa, rempart.Errorf(rempart.ENOTFOUND, "Service account not found.")
	}
	sa.TenantID, sa.CreatedAt = tenant.String, fromTS(c)
	return sa, err
}

// ServiceAccounts lists the scope's tenant's live service accounts.
func (d *DB) ServiceAccounts(ctx context.Context, s guard.Scope) ([]rempart.ServiceAccount, error) {
	rows, err := d.reader(ctx).Query(`SELECT id, tenant_id, name, role, created_at FROM principals WHERE tenant_id = ? AND deleted_at IS NULL ORDER BY created_at, id`, mustScope(s))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []rempart.ServiceAccount{}
	for rows.Next() {
		sa, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sa)
	}
	return out, rows.Err()
}

// ServiceAccount returns one live service account of the scope's tenant.
func (d *DB) ServiceAccount(ctx context.Context, s guard.Scope, id string) (rempart.ServiceAccount, error) {
	return scanAccount(d.reader(ctx).QueryRow(`SELECT id, tenant_id, name, role, created_at FROM principals WHERE id = ? AND tenant_id = ? AND deleted_at IS NULL`, id, mustScope(s)))
}

// CreateServiceAccount stores a service account of the scope's tenant.
func (d *DB) CreateServiceAccount(ctx context.Context, s guard.Scope, e rempart.AuditEntry, sa rempart.ServiceAccount) error {
	if sa.TenantID != mustScope(s) {
		return rempart.Errorf(rempart.ENOTFOUND, "Tenant not found.")
	}
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		var n int
		if err := tx.QueryRow(`SELECT COUNT(*) FROM principals WHERE tenant_id = ? AND name = ? AND deleted_at IS NULL`, sa.TenantID, sa.Name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return rempart.Errorf(rempart.ECONFLICT, "A service account named %q already exists.", sa.Name)
		}
		return insertPrincipal(tx, rempart.Principal{ID: sa.ID, TenantID: sa.TenantID, Name: sa.Name, Role: sa.Role}, sa.CreatedAt)
	})
	return err
}

// DeleteServiceAccount marks a service account deleted and revokes its keys.
func (d *DB) DeleteServiceAccount(ctx context.Context, s guard.Scope, e rempart.AuditEntry, id string) error {
	tenant := mustScope(s)
	now := ts(d.clock.Now())
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		err := tx.execOne(rempart.Errorf(rempart.ENOTFOUND, "Service account not found."), `UPDATE principals SET deleted_at = ? WHERE id = ? AND tenant_id = ? AND deleted_at IS NULL`, now, id, tenant)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`UPDATE api_keys SET revoked_at = ? WHERE principal_id = ? AND revoked_at IS NULL`, now, id)
		return err
	})
	return err
}

func hasSystemAdmin(q interface {
	QueryRow(string, ...any) *sql.Row
}, now time.Time) (bool, error) {
	var n int
	err := q.QueryRow(`SELECT COUNT(*) FROM api_keys k JOIN principals p ON p.id = k.principal_id
		WHERE p.tenant_id IS NULL AND p.role = ? AND p.deleted_at IS NULL AND k.revoked_at IS NULL AND k.expires_at > ?`, rempart.RoleSystemAdmin, ts(now)).Scan(&n)
	return n > 0, err
}

// HasSystemAdmin reports whether a system administrator holds a usable key.
func (d *DB) HasSystemAdmin(ctx context.Context) (bool, error) {
	return hasSystemAdmin(d.reader(ctx), d.clock.Now())
}

const bootstrapKey = "bootstrap_token"

// SetBootstrapToken stores a bootstrap token hash and its expiry.
func (d *DB) SetBootstrapToken(ctx context.Context, e rempart.AuditEntry, hash []byte, expires time.Time) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		return putMeta(tx, bootstrapKey, append(hash, []byte(expires.UTC().Format(time.RFC3339Nano))...))
	})
	return err
}

// Bootstrap redeems the bootstrap token for the first administrator.
func (d *DB) Bootstrap(ctx context.Context, e rempart.AuditEntry, tokenHash []byte, admin rempart.ServiceAccount, k identity.KeyRow) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		v, err := getMeta(tx, bootstrapKey)
		bad := rempart.Errorf(rempart.EUNAUTHORIZED, "The bootstrap token is invalid, expired or already used.")
		if err != nil || len(v) < 32 {
			return bad
		}
		exp, perr := time.Parse(time.RFC3339Nano, string(v[32:]))
		if subtle.ConstantTimeCompare(v[:32], tokenHash) != 1 || perr != nil || !d.clock.Now().Before(exp) {
			return bad
		}
		if ok, err := hasSystemAdmin(tx, d.clock.Now()); err != nil || ok {
			return bad
		}
		if _, err := tx.Exec(`DELETE FROM meta WHERE key = ?`, bootstrapKey); err != nil {
			return err
		}
		if err := insertPrincipal(tx, rempart.Principal{ID: admin.ID, Name: admin.Name, Role: admin.Role}, admin.CreatedAt); err != nil {
			return err
		}
		return insertKey(tx, k)
	})
	return err
}

func getMeta(q interface {
	QueryRow(string, ...any) *sql.Row
}, key string) ([]byte, error) {
	var v []byte
	err := q.QueryRow(`SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rempart.Errorf(rempart.ENOTFOUND, "No %s.", key)
	}
	return v, err
}

func putMeta(tx *Tx, key string, value []byte) error {
	_, err := tx.Exec(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}
