package db

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/identity"
)

// Personal API keys (IAM-6). They are never cached: a key is checked
// against its person's current status and role on every request, and a
// revocation holds on every node at once.

const personalKeyColumns = `k.id, k.name, k.user_id, k.tenant_id, k.created_at, k.expires_at, k.last_used_at`

func scanPersonalKey(r rowScanner, more ...any) (rempart.PersonalKey, error) {
	var k rempart.PersonalKey
	var tenant sql.NullString
	var c, x int64
	var used sql.NullInt64
	err := r.Scan(append([]any{&k.ID, &k.Name, &k.UserID, &tenant, &c, &x, &used}, more...)...)
	k.TenantID, k.CreatedAt, k.ExpiresAt, k.LastUsedAt = tenant.String, fromTS(c), fromTS(x), fromNullTS(used)
	return k, err
}

// CreatePersonalKey stores a person's new key, unless they already hold max
// that still work.
func (d *DB) CreatePersonalKey(ctx context.Context, e rempart.AuditEntry, k identity.PersonalKeyRow, max int) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		var n int
		if err := tx.QueryRow(`SELECT COUNT(*) FROM personal_keys WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?`, k.UserID, ts(k.CreatedAt)).Scan(&n); err != nil {
			return err
		}
		if n >= max {
			return rempart.Errorf(rempart.EINVALID, "You already hold %d personal API keys: revoke one first.", n)
		}
		_, err := tx.Exec(`INSERT INTO personal_keys (id, user_id, tenant_id, name, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			k.ID, k.UserID, nullString(k.TenantID), k.Name, k.Hash, ts(k.CreatedAt), ts(k.ExpiresAt))
		return err
	})
	return err
}

// PersonalKey returns a key with its person as of now.
func (d *DB) PersonalKey(ctx context.Context, id string) (identity.PersonalKeyRow, error) {
	var r identity.PersonalKeyRow
	var rev, pdel sql.NullInt64
	var ptenant sql.NullString
	k, err := scanPersonalKey(d.reader(ctx).QueryRow(`SELECT `+personalKeyColumns+`, k.hash, k.revoked_at, p.id, p.name, p.tenant_id, p.role, p.deleted_at, u.status
		FROM personal_keys k JOIN principals p ON p.id = k.user_id JOIN users u ON u.id = k.user_id WHERE k.id = ?`, id),
		&r.Hash, &rev, &r.Principal.ID, &r.Principal.Name, &ptenant, &r.Principal.Role, &pdel, &r.UserStatus)
	if errors.Is(err, sql.ErrNoRows) {
		return r, rempart.Errorf(rempart.ENOTFOUND, "Key not found.")
	} else if err != nil {
		return r, err
	}
	r.PersonalKey, r.RevokedAt, r.Principal.TenantID, r.UserDeleted = k, fromNullTS(rev), ptenant.String, pdel.Valid
	return r, nil
}

// PersonalKeys lists a person's keys that still work at now, newest first.
func (d *DB) PersonalKeys(ctx context.Context, userID string, now time.Time) ([]rempart.PersonalKey, error) {
	rows, err := d.reader(ctx).Query(`SELECT `+personalKeyColumns+` FROM personal_keys k WHERE k.user_id = ? AND k.revoked_at IS NULL AND k.expires_at > ?
		ORDER BY k.created_at DESC, k.id`, userID, ts(now))
	return scanAll(func(r rowScanner) (rempart.PersonalKey, error) { return scanPersonalKey(r) })(rows, err)
}

// RevokePersonalKey revokes one of a person's keys.
func (d *DB) RevokePersonalKey(ctx context.Context, e rempart.AuditEntry, userID, id string) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		return tx.execOne(rempart.Errorf(rempart.ENOTFOUND, "Key not found or already revoked."),
			`UPDATE personal_keys SET revoked_at = ?, revoked_why = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL`, ts(d.clock.Now()), "revoked by the user", id, userID)
	})
	return err
}

// TouchPersonalKey records a key's last use.
func (d *DB) TouchPersonalKey(ctx context.Context, id string, t time.Time) error {
	return d.writeQuiet(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`UPDATE personal_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`, ts(t), id, ts(t))
		return err
	})
}
