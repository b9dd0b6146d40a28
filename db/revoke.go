package db

import (
	"context"

	"github.com/rempart/rempart"
)

// RevokeAccess suspends a user of tenant ("" for staff) and, in the same
// transaction, revokes everything that lets the person in or acts for
// them: sessions and API access tokens, personal API keys, second factors and recovery codes,
// and staff grants not yet over (IAM-8). With clearPassword the password
// hash goes too, so that no reactivation brings the old password back. What
// was revoked is counted in the transaction and written into e's reason,
// the evidence in the audit trail.
func (d *DB) RevokeAccess(ctx context.Context, e rempart.AuditEntry, tenant, id string, clearPassword bool) (rempart.Revocation, error) {
	now := d.clock.Now()
	r := rempart.Revocation{UserID: id, At: now}
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		r.Sessions, r.Factors, r.RecoveryCodes, r.Grants, r.PersonalKeys, r.PasswordCleared = 0, 0, 0, 0, 0, false
		if err := tx.execOne(rempart.Errorf(rempart.ENOTFOUND, "User not found."),
			`UPDATE users SET status = ? WHERE id = ? AND `+tenantIs(tenant), append([]any{rempart.UserSuspended, id}, tenantArgs(tenant)...)...); err != nil {
			return err
		}
		count := func(n *int, q string, args ...any) error {
			res, err := tx.Exec(q, args...)
			if err != nil {
				return err
			}
			m, err := res.RowsAffected()
			*n = int(m)
			return err
		}
		why := "access revoked: " + e.Action
		if err := count(&r.Sessions, `UPDATE sessions SET revoked_at = ?, revoked_why = ? WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?`, ts(now), why, id, ts(now)); err != nil {
			return err
		}
		if err := count(&r.PersonalKeys, `UPDATE personal_keys SET revoked_at = ?, revoked_why = ? WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?`, ts(now), why, id, ts(now)); err != nil {
			return err
		}
		if err := count(&r.Factors, `DELETE FROM mfa_factors WHERE user_id = ?`, id); err != nil {
			return err
		}
		if err := count(&r.RecoveryCodes, `DELETE FROM mfa_recovery_codes WHERE user_id = ?`, id); err != nil {
			return err
		}
		// Grants that are active, or pending and not lapsed.
		if err := count(&r.Grants, `UPDATE grants SET revoked_at = ?, revoked_by = ? WHERE requester_id = ? AND revoked_at IS NULL AND denied_at IS NULL
			AND (expires_at > ? OR (expires_at IS NULL AND created_at > ?))`,
			ts(now), e.PrincipalID, id, ts(now), ts(now.Add(-rempart.GrantRequestTTL))); err != nil {
			return err
		}
		if clearPassword {
			if _, err := tx.Exec(`UPDATE users SET password_hash = NULL WHERE id = ?`, id); err != nil {
				return err
			}
			r.PasswordCleared = true
		}
		tx.Record(r.Summary())
		return nil
	})
	return r, err
}
