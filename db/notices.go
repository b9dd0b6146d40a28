package db

import (
	"context"
	"database/sql"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/identity"
)

// Account notices (ASVS 2.2.3, 2.5.5, 3.x): the outbox of account mail,
// the networks people signed in from (keyed hashes only), and the password
// expiry reminders queued. Outbox and network bookkeeping carry no audit
// entry of their own: the identity service audits each notice's sending.

var errTooManyNotices = rempart.Errorf(rempart.ERATELIMIT, "Too many account notices are waiting for this person.")

// QueueNotice adds a notice to the outbox unless the user has max waiting.
func (d *DB) QueueNotice(ctx context.Context, n identity.NoticeRow, max int) error {
	return d.writeQuiet(ctx, func(tx *Tx) error { return queueNotice(tx, n, max) })
}

// queueNotice inserts n, unless the user has max notices waiting (max 0:
// no bound).
func queueNotice(tx *Tx, n identity.NoticeRow, max int) error {
	if max > 0 {
		var waiting int
		if err := tx.QueryRow(`SELECT COUNT(*) FROM account_notices WHERE user_id = ?`, n.UserID).Scan(&waiting); err != nil {
			return err
		}
		if waiting >= max {
			return errTooManyNotices
		}
	}
	// seq orders the notices of one person as they were queued (a
	// password change before the removal of a factor).
	_, err := tx.Exec(`INSERT INTO account_notices (id, seq, user_id, tenant_id, kind, what, ip, agent, at, expires_at, attempts, next_at, created_at)
		VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM account_notices), ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`, n.ID, n.UserID, nullString(n.TenantID), n.Kind, n.What, n.IP, n.Agent, ts(n.At), nullTS(n.Expires), ts(n.NextAt), ts(n.CreatedAt))
	return err
}

const noticeColumns = `id, user_id, tenant_id, kind, what, ip, agent, at, expires_at, attempts, next_at, created_at`

func scanNotice(row rowScanner) (identity.NoticeRow, error) {
	var n identity.NoticeRow
	var tenant sql.NullString
	var at, next, created int64
	var expires sql.NullInt64
	err := row.Scan(&n.ID, &n.UserID, &tenant, &n.Kind, &n.What, &n.IP, &n.Agent, &at, &expires, &n.Attempts, &next, &created)
	n.TenantID, n.At, n.Expires, n.NextAt, n.CreatedAt = tenant.String, fromTS(at), fromNullTS(expires), fromTS(next), fromTS(created)
	return n, err
}

// ClaimNotices takes the due notices for one attempt each. A notice is
// taken by one node only: the update re-checks that it is still due.
func (d *DB) ClaimNotices(ctx context.Context, now, leaseUntil time.Time, limit int) ([]identity.NoticeRow, error) {
	// A read first: most runs find nothing and need no write.
	ids, err := stringColumn(d.reader(ctx).Query(`SELECT id FROM account_notices WHERE next_at <= ? ORDER BY next_at, seq LIMIT ?`, ts(now), limit))
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	var out []identity.NoticeRow
	err = d.writeQuiet(ctx, func(tx *Tx) error {
		out = nil // the op may run again when its batch is retried
		for _, id := range ids {
			res, err := tx.Exec(`UPDATE account_notices SET next_at = ?, attempts = attempts + 1 WHERE id = ? AND next_at <= ?`, ts(leaseUntil), id, ts(now))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				continue // another node took it, or it is gone
			}
			n, err := scanNotice(tx.QueryRow(`SELECT `+noticeColumns+` FROM account_notices WHERE id = ?`, id))
			if err != nil {
				return err
			}
			out = append(out, n)
		}
		return nil
	})
	return out, err
}

// NoticeDone deletes a notice, sent or given up, and records e.
func (d *DB) NoticeDone(ctx context.Context, e rempart.AuditEntry, id string) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		_, err := tx.Exec(`DELETE FROM account_notices WHERE id = ?`, id)
		return err
	})
	return err
}

// NoticeRetry makes a notice due again at next and records e.
func (d *DB) NoticeRetry(ctx context.Context, e rempart.AuditEntry, id string, next time.Time) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		_, err := tx.Exec(`UPDATE account_notices SET next_at = ? WHERE id = ?`, ts(next), id)
		return err
	})
	return err
}

// RecordSignIn remembers a network and browser of a user, bounded to the
// keep most recent seen since since, and reports whether it was known.
func (d *DB) RecordSignIn(ctx context.Context, userID string, fingerprint []byte, now, since time.Time, keep int) (bool, error) {
	var known bool
	err := d.writeQuiet(ctx, func(tx *Tx) error {
		known = false
		if _, err := tx.Exec(`DELETE FROM sign_in_networks WHERE user_id = ? AND last_seen_at < ?`, userID, ts(since)); err != nil {
			return err
		}
		res, err := tx.Exec(`UPDATE sign_in_networks SET last_seen_at = ? WHERE user_id = ? AND fingerprint = ?`, ts(now), userID, fingerprint)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			known = true
			return nil
		}
		if _, err := tx.Exec(`INSERT INTO sign_in_networks (user_id, fingerprint, last_seen_at) VALUES (?, ?, ?)`, userID, fingerprint, ts(now)); err != nil {
			return err
		}
		// Keep the most recent only.
		_, err = tx.Exec(`DELETE FROM sign_in_networks WHERE user_id = ? AND fingerprint NOT IN (
			SELECT fingerprint FROM (SELECT fingerprint FROM sign_in_networks WHERE user_id = ? ORDER BY last_seen_at DESC, fingerprint LIMIT ?) AS recent)`, userID, userID, keep)
		return err
	})
	return known, err
}

// ForgetSignIns deletes every remembered network last seen before before.
func (d *DB) ForgetSignIns(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := d.writeQuiet(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`DELETE FROM sign_in_networks WHERE last_seen_at < ?`, ts(before))
		if err == nil {
			n, _ = res.RowsAffected()
		}
		return err
	})
	return int(n), err
}

// PendingNotices lists the outbox, oldest first (for tests and inspection).
func (d *DB) PendingNotices(ctx context.Context) ([]identity.NoticeRow, error) {
	rows, err := d.reader(ctx).Query(`SELECT ` + noticeColumns + ` FROM account_notices ORDER BY seq`)
	return scanAll(scanNotice)(rows, err)
}

// PasswordHolders lists the active people with a password, with their
// last reminder.
func (d *DB) PasswordHolders(ctx context.Context) ([]identity.PasswordHolder, error) {
	rows, err := d.reader(ctx).Query(`SELECT u.id, u.tenant_id, u.password_changed_at, r.password_changed_at, r.days
		FROM users u JOIN principals p ON p.id = u.id LEFT JOIN password_reminders r ON r.user_id = u.id
		WHERE u.status = ? AND p.deleted_at IS NULL AND u.password_hash IS NOT NULL AND u.password_hash <> '' AND u.password_changed_at IS NOT NULL
		ORDER BY u.id`, rempart.UserActive)
	return scanAll(func(r rowScanner) (identity.PasswordHolder, error) {
		var h identity.PasswordHolder
		var tenant sql.NullString
		var changed int64
		var reminded, days sql.NullInt64
		err := r.Scan(&h.ID, &tenant, &changed, &reminded, &days)
		h.TenantID, h.ChangedAt, h.RemindedFor, h.RemindedDays = tenant.String, fromTS(changed), fromNullTS(reminded), int(days.Int64)
		return h, err
	})(rows, err)
}

// QueuePasswordReminder queues a reminder and records it was queued, in
// one transaction: a reminder is queued once per threshold per password.
func (d *DB) QueuePasswordReminder(ctx context.Context, n identity.NoticeRow, changedAt time.Time, days int) error {
	return d.writeQuiet(ctx, func(tx *Tx) error {
		if err := queueNotice(tx, n, 0); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO password_reminders (user_id, password_changed_at, days) VALUES (?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET password_changed_at = excluded.password_changed_at, days = excluded.days`, n.UserID, ts(changedAt), days)
		return err
	})
}
