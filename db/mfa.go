package db

import (
	"context"
	"database/sql"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/identity"
)

// Second factors (IAM-4): TOTP devices and security keys, recovery codes,
// sessions' proof of a second factor, and tenants' MFA requirement. The
// identity service authorises every call and seals TOTP secrets before they
// get here.

const factorColumns = `id, user_id, kind, name, secret, last_step, credential_id, webauthn, sign_count, created_at, confirmed_at, last_used_at`

// Factors lists a user's factors, oldest first.
func (d *DB) Factors(ctx context.Context, userID string) ([]identity.FactorRow, error) {
	rows, err := d.reader(ctx).Query(`SELECT `+factorColumns+` FROM mfa_factors WHERE user_id = ? ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []identity.FactorRow{}
	for rows.Next() {
		var f identity.FactorRow
		var created int64
		var confirmed, used sql.NullInt64
		var count int64
		if err := rows.Scan(&f.ID, &f.UserID, &f.Kind, &f.Name, &f.Secret, &f.LastStep, &f.CredentialID, &f.WebAuthn, &count, &created, &confirmed, &used); err != nil {
			return nil, err
		}
		f.SignCount, f.CreatedAt, f.Confirmed, f.LastUsedAt = uint32(count), fromTS(created), confirmed.Valid, fromNullTS(used)
		out = append(out, f)
	}
	return out, rows.Err()
}

// CreateFactor stores a factor, dropping the user's unconfirmed factors of
// the same kind created before before.
func (d *DB) CreateFactor(ctx context.Context, e rempart.AuditEntry, f identity.FactorRow, before time.Time) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		if _, err := tx.Exec(`DELETE FROM mfa_factors WHERE user_id = ? AND kind = ? AND confirmed_at IS NULL AND created_at < ?`, f.UserID, f.Kind, ts(before)); err != nil {
			return err
		}
		if f.CredentialID != nil {
			var n int
			if err := tx.QueryRow(`SELECT COUNT(*) FROM mfa_factors WHERE credential_id = ?`, f.CredentialID).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return rempart.Errorf(rempart.ECONFLICT, "This security key is already registered.")
			}
		}
		var confirmed any
		if f.Confirmed {
			confirmed = ts(f.CreatedAt)
		}
		_, err := tx.Exec(`INSERT INTO mfa_factors (id, user_id, kind, name, secret, last_step, credential_id, webauthn, sign_count, created_at, confirmed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, f.ID, f.UserID, f.Kind, f.Name, f.Secret, f.LastStep, f.CredentialID, f.WebAuthn, int64(f.SignCount), ts(f.CreatedAt), confirmed)
		return err
	})
	return err
}

// ConfirmFactor confirms a pending factor, with the recovery codes of a
// first enrolment and the session's proof of a second factor.
func (d *DB) ConfirmFactor(ctx context.Context, e rempart.AuditEntry, userID, id string, step int64, codes [][]byte, session string, at time.Time) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		err := tx.execOne(rempart.Errorf(rempart.ENOTFOUND, "No enrolment in progress with this ID."), `UPDATE mfa_factors SET confirmed_at = ?, last_step = ?, last_used_at = ? WHERE id = ? AND user_id = ? AND confirmed_at IS NULL`,
			ts(at), step, ts(at), id, userID)
		if err != nil {
			return err
		}
		if codes != nil {
			if err := setRecoveryCodes(tx, userID, codes); err != nil {
				return err
			}
		}
		if session != "" {
			_, err = tx.Exec(`UPDATE sessions SET mfa_at = ?, enrol_only = 0 WHERE id = ? AND user_id = ?`, ts(at), session, userID)
		}
		return err
	})
	return err
}

func setRecoveryCodes(tx *Tx, userID string, hashes [][]byte) error {
	if _, err := tx.Exec(`DELETE FROM mfa_recovery_codes WHERE user_id = ?`, userID); err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := tx.Exec(`INSERT INTO mfa_recovery_codes (id, user_id, hash) VALUES (?, ?, ?)`, rempart.NewID("rcv"), userID, h); err != nil {
			return err
		}
	}
	return nil
}

var errCodeUsed = rempart.Errorf(rempart.EUNAUTHORIZED, "The code is not valid.")

// UseTOTP advances a confirmed factor's last step, only forward.
func (d *DB) UseTOTP(ctx context.Context, e rempart.AuditEntry, userID, id string, step int64, at time.Time) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		return tx.execOne(errCodeUsed, `UPDATE mfa_factors SET last_step = ?, last_used_at = ? WHERE id = ? AND user_id = ? AND confirmed_at IS NOT NULL AND last_step < ?`,
			step, ts(at), id, userID, step)
	})
	return err
}

// DeleteFactor removes a factor; the recovery codes go with the last
// confirmed one.
func (d *DB) DeleteFactor(ctx context.Context, e rempart.AuditEntry, userID, id string) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		err := tx.execOne(rempart.Errorf(rempart.ENOTFOUND, "Second factor not found."), `DELETE FROM mfa_factors WHERE id = ? AND user_id = ?`, id, userID)
		if err != nil {
			return err
		}
		var left int
		if err := tx.QueryRow(`SELECT COUNT(*) FROM mfa_factors WHERE user_id = ? AND confirmed_at IS NOT NULL`, userID).Scan(&left); err != nil {
			return err
		}
		if left == 0 {
			_, err = tx.Exec(`DELETE FROM mfa_recovery_codes WHERE user_id = ?`, userID)
		}
		return err
	})
	return err
}

// RecoveryCodes lists a user's unused recovery code hashes.
func (d *DB) RecoveryCodes(ctx context.Context, userID string) ([]identity.RecoveryRow, error) {
	rows, err := d.reader(ctx).Query(`SELECT id, hash FROM mfa_recovery_codes WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []identity.RecoveryRow{}
	for rows.Next() {
		var r identity.RecoveryRow
		if err := rows.Scan(&r.ID, &r.Hash); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// UseRecoveryCode deletes a recovery code; a second use finds none.
func (d *DB) UseRecoveryCode(ctx context.Context, e rempart.AuditEntry, userID, id string) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		return tx.execOne(errCodeUsed, `DELETE FROM mfa_recovery_codes WHERE id = ? AND user_id = ?`, id, userID)
	})
	return err
}

// SetRecoveryCodes replaces a user's recovery codes.
func (d *DB) SetRecoveryCodes(ctx context.Context, e rempart.AuditEntry, userID string, hashes [][]byte) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error { return setRecoveryCodes(tx, userID, hashes) })
	return err
}

// SetSessionMFA records a session's proof of a second factor.
func (d *DB) SetSessionMFA(ctx context.Context, e rempart.AuditEntry, userID, id string, at time.Time) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		return tx.execOne(rempart.Errorf(rempart.ENOTFOUND, "Session not found."), `UPDATE sessions SET mfa_at = ?, enrol_only = 0 WHERE id = ? AND user_id = ? AND revoked_at IS NULL`, ts(at), id, userID)
	})
	return err
}

// MFARequired reports whether a tenant requires MFA of its users.
func (d *DB) MFARequired(ctx context.Context, tenant string) (bool, error) {
	var req int64
	err := d.reader(ctx).QueryRow(`SELECT required FROM tenant_mfa_policies WHERE tenant_id = ?`, tenant).Scan(&req)
	if err == sql.ErrNoRows {
		return false, nil
	}
	return req != 0, err
}

// SetMFARequired sets a tenant's MFA requirement.
func (d *DB) SetMFARequired(ctx context.Context, e rempart.AuditEntry, tenant string, required bool) error {
	v := int64(0)
	if required {
		v = 1
	}
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO tenant_mfa_policies (tenant_id, required) VALUES (?, ?) ON CONFLICT (tenant_id) DO UPDATE SET required = excluded.required`, tenant, v)
		return err
	})
	return err
}

// UseWebAuthn advances a security key's signature counter; a counter that
// does not grow (but for keys that keep none, always 0) is refused, and so
// is a ceremony issued before the key's last use: each ceremony is good
// once, counter or not.
func (d *DB) UseWebAuthn(ctx context.Context, e rempart.AuditEntry, userID, id string, count uint32, issued, at time.Time) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		return tx.execOne(errCodeUsed, `UPDATE mfa_factors SET sign_count = ?, last_used_at = ? WHERE id = ? AND user_id = ? AND confirmed_at IS NOT NULL AND (sign_count < ? OR (sign_count = 0 AND ? = 0)) AND (last_used_at IS NULL OR last_used_at < ?)`,
			int64(count), ts(at), id, userID, int64(count), int64(count), ts(issued))
	})
	return err
}

// HasConfirmedFactor reports whether the user has a confirmed second factor
// (IAM-4), without reading any factor's sealed secret.
func (d *DB) HasConfirmedFactor(ctx context.Context, userID string) (bool, error) {
	var one int
	err := d.reader(ctx).QueryRow(`SELECT 1 FROM mfa_factors WHERE user_id = ? AND confirmed_at IS NOT NULL LIMIT 1`, userID).Scan(&one)
	if err == sql.ErrNoRows {
		return false, nil
	}
	return err == nil, err
}
