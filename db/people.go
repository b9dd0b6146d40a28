package db

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/identity"
)

// People (IAM-1, IAM-3, IAM-6): users, invitations, password history and
// sessions. The identity service authorises every call before it gets here.

const userColumns = `u.id, u.tenant_id, u.email, p.name, p.role, u.status, u.created_at, u.last_login_at, u.password_changed_at, u.password_hash`

func scanUser(row interface{ Scan(...any) error }) (identity.UserRow, error) {
	var u identity.UserRow
	var tenant, hash sql.NullString
	var created int64
	var last, changed sql.NullInt64
	err := row.Scan(&u.ID, &tenant, &u.Email, &u.Name, &u.Role, &u.Status, &created, &last, &changed, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return u, rempart.Errorf(rempart.ENOTFOUND, "User not found.")
	}
	u.TenantID, u.PasswordHash = tenant.String, hash.String
	u.CreatedAt, u.LastLoginAt, u.PasswordChangedAt = fromTS(created), fromNullTS(last), fromNullTS(changed)
	return u, err
}

// CreateInvitation stores an invitation, refusing an email that a user of
// the same tenant (or the staff) has. A user elsewhere is not named: a
// tenant's admin must not learn who has an account in another tenant
// (TEN-1); that invitation fails when accepted. A staff invitation pending
// approval with FirstStaff set is stored open instead when, in this
// transaction, the staff has no system administrator (a person, active or
// suspended) and no invitation still open or pending: the first
// administrator after the bootstrap has nobody to approve them. Writes are
// serialised (the audit log's lock), so two such requests cannot both find
// the staff empty.
func (d *DB) CreateInvitation(ctx context.Context, e rempart.AuditEntry, inv identity.InvitationRow) (string, error) {
	var approval string
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		approval = inv.Approval // a batch that is retried runs this again
		var n int
		if err := tx.QueryRow(`SELECT COUNT(*) FROM users WHERE email = ? AND `+tenantIs(inv.TenantID), append([]any{inv.Email}, tenantArgs(inv.TenantID)...)...).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return rempart.Errorf(rempart.ECONFLICT, "A user with this email already exists.")
		}
		if inv.FirstStaff && inv.TenantID == "" && approval == rempart.ApprovalPending {
			now := ts(d.clock.Now())
			if err := tx.QueryRow(`SELECT (SELECT COUNT(*)`+userFrom+` WHERE u.tenant_id IS NULL AND p.role = ?) + (SELECT COUNT(*) FROM invitations WHERE tenant_id IS NULL
				AND accepted_at IS NULL AND revoked_at IS NULL AND approval <> ? AND expires_at > ?)`, rempart.RoleSystemAdmin, rempart.ApprovalRejected, now).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				approval = rempart.ApprovalNotRequired
				tx.Record("no staff administrator yet: nobody else could approve")
			}
		}
		_, err := tx.Exec(`INSERT INTO invitations (id, tenant_id, email, role, token_hash, invited_by, created_at, expires_at, approval) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			inv.ID, nullString(inv.TenantID), inv.Email, inv.Role, inv.TokenHash, inv.InvitedBy, ts(inv.CreatedAt), ts(inv.ExpiresAt), approval)
		return err
	})
	return approval, err
}

// DecideInvitation records a second person's approval or rejection of an
// invitation of a tenant ("" staff) pending approval and not expired at at.
// An approval stores the new token's hash and expiry: the link exists from
// now. ECONFLICT when the invitation is no longer pending approval.
func (d *DB) DecideInvitation(ctx context.Context, e rempart.AuditEntry, tenant, id string, dec identity.InvitationDecision) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		conflict := rempart.Errorf(rempart.ECONFLICT, "This invitation is no longer waiting for approval.")
		q := `UPDATE invitations SET approval = ?, decided_by = ?, decided_at = ?, decision_note = ?`
		args := []any{dec.Approval, dec.By, ts(dec.At), nullString(dec.Note)}
		if dec.Approval == rempart.ApprovalApproved {
			q += `, token_hash = ?, expires_at = ?`
			args = append(args, dec.TokenHash, ts(dec.ExpiresAt))
		}
		q += ` WHERE id = ? AND approval = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ? AND ` + tenantIs(tenant)
		args = append(append(args, id, rempart.ApprovalPending, ts(dec.At)), tenantArgs(tenant)...)
		return tx.execOne(conflict, q, args...)
	})
	return err
}

const invitationColumns = `id, tenant_id, email, role, approval, invited_by, created_at, expires_at, decided_by, decided_at, decision_note, accepted_at, revoked_at`

func scanInvitation(row interface{ Scan(...any) error }, extra ...any) (rempart.Invitation, error) {
	var inv rempart.Invitation
	var tenant, by, note sql.NullString
	var c, x int64
	var dec, acc, rev sql.NullInt64
	err := row.Scan(append([]any{&inv.ID, &tenant, &inv.Email, &inv.Role, &inv.Approval, &inv.InvitedBy, &c, &x, &by, &dec, &note, &acc, &rev}, extra...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return inv, rempart.Errorf(rempart.ENOTFOUND, "Invitation not found.")
	}
	inv.TenantID, inv.CreatedAt, inv.ExpiresAt, inv.AcceptedAt, inv.RevokedAt = tenant.String, fromTS(c), fromTS(x), fromNullTS(acc), fromNullTS(rev)
	inv.DecidedBy, inv.DecidedAt, inv.Note = by.String, fromNullTS(dec), note.String
	return inv, err
}

// Invitation returns an invitation with its token hash.
func (d *DB) Invitation(ctx context.Context, id string) (identity.InvitationRow, error) {
	var r identity.InvitationRow
	inv, err := scanInvitation(d.reader(ctx).QueryRow(`SELECT `+invitationColumns+`, token_hash FROM invitations WHERE id = ?`, id), &r.TokenHash)
	r.Invitation = inv
	return r, err
}

// RevokeInvitation withdraws a pending invitation of a tenant ("" staff).
func (d *DB) RevokeInvitation(ctx context.Context, e rempart.AuditEntry, tenant, id string) error {
	now := ts(d.clock.Now())
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		return tx.execOne(rempart.Errorf(rempart.ENOTFOUND, "No pending invitation with this ID."), `UPDATE invitations SET revoked_at = ? WHERE id = ? AND accepted_at IS NULL AND revoked_at IS NULL AND `+tenantIs(tenant),
			append([]any{now, id}, tenantArgs(tenant)...)...)
	})
	return err
}

// Invitations lists a tenant's ("" staff's) invitations, newest first.
func (d *DB) Invitations(ctx context.Context, tenant string) ([]rempart.Invitation, error) {
	return scanAll(func(r rowScanner) (rempart.Invitation, error) { return scanInvitation(r) })(
		d.reader(ctx).Query(`SELECT `+invitationColumns+` FROM invitations WHERE `+tenantIs(tenant)+` ORDER BY created_at DESC, id`, tenantArgs(tenant)...))
}

// tenantIs filters on a tenant, or on staff (no tenant) for "".
func tenantIs(tenant string) string { return scopeIs("tenant_id", tenant) }

// scopeIs filters a table's tenant column (col) on a tenant, or on staff
// (no tenant) for ""; tenantArgs gives its arguments.
func scopeIs(col, tenant string) string {
	if tenant == "" {
		return col + ` IS NULL`
	}
	return col + ` = ?`
}

func tenantArgs(tenant string) []any {
	if tenant == "" {
		return nil
	}
	return []any{tenant}
}

// AcceptInvitation marks a pending invitation accepted and creates its user.
func (d *DB) AcceptInvitation(ctx context.Context, e rempart.AuditEntry, invitationID string, u identity.UserRow) error {
	now := ts(d.clock.Now())
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		err := tx.execOne(rempart.Errorf(rempart.EUNAUTHORIZED, "The invitation link is invalid, expired or already used."), `UPDATE invitations SET accepted_at = ? WHERE id = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ? AND approval IN (?, ?)`,
			now, invitationID, now, rempart.ApprovalNotRequired, rempart.ApprovalApproved)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(`SELECT COUNT(*) FROM users WHERE email = ?`, u.Email).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return rempart.Errorf(rempart.ECONFLICT, "A user with this email already exists.")
		}
		if err := insertPrincipal(tx, rempart.Principal{ID: u.ID, TenantID: u.TenantID, Name: u.Name, Role: u.Role}, u.CreatedAt); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO users (id, tenant_id, email, status, password_hash, password_changed_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			u.ID, nullString(u.TenantID), u.Email, u.Status, u.PasswordHash, ts(u.CreatedAt), ts(u.CreatedAt)); err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO password_history (user_id, hash, created_at) VALUES (?, ?, ?)`, u.ID, u.PasswordHash, ts(u.CreatedAt))
		return err
	})
	return err
}

const userFrom = ` FROM users u JOIN principals p ON p.id = u.id`

// UserByEmail returns a live user by email.
func (d *DB) UserByEmail(ctx context.Context, email string) (identity.UserRow, error) {
	return scanUser(d.reader(ctx).QueryRow(`SELECT `+userColumns+userFrom+` WHERE u.email = ? AND p.deleted_at IS NULL`, email))
}

// User returns a live user by ID.
func (d *DB) User(ctx context.Context, id string) (identity.UserRow, error) {
	return scanUser(d.reader(ctx).QueryRow(`SELECT `+userColumns+userFrom+` WHERE u.id = ? AND p.deleted_at IS NULL`, id))
}

// Users lists a tenant's ("" staff's) live users, oldest first.
func (d *DB) Users(ctx context.Context, tenant string) ([]rempart.User, error) {
	rows, err := d.reader(ctx).Query(`SELECT `+userColumns+userFrom+` WHERE `+scopeIs("u.tenant_id", tenant)+` AND p.deleted_at IS NULL ORDER BY u.created_at, u.id`, tenantArgs(tenant)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []rempart.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u.User)
	}
	return out, rows.Err()
}

// SetUserStatus changes the status of a user of a tenant ("" staff); a
// suspension revokes the user's sessions and personal API keys in the same
// transaction (IAM-8).
func (d *DB) SetUserStatus(ctx context.Context, e rempart.AuditEntry, tenant, id, status string) error {
	now := ts(d.clock.Now())
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		err := tx.execOne(rempart.Errorf(rempart.ENOTFOUND, "User not found."), `UPDATE users SET status = ? WHERE id = ? AND `+tenantIs(tenant), append([]any{status, id}, tenantArgs(tenant)...)...)
		if err != nil {
			return err
		}
		if status == rempart.UserActive {
			return nil
		}
		if _, err = tx.Exec(`UPDATE sessions SET revoked_at = ?, revoked_why = ? WHERE user_id = ? AND revoked_at IS NULL`, now, "user "+status, id); err != nil {
			return err
		}
		// Personal API keys too: a reactivation does not bring them back.
		_, err = tx.Exec(`UPDATE personal_keys SET revoked_at = ?, revoked_why = ? WHERE user_id = ? AND revoked_at IS NULL`, now, "user "+status, id)
		return err
	})
	return err
}

// SetPassword replaces a password hash, keeps the history and revokes the
// user's sessions.
func (d *DB) SetPassword(ctx context.Context, e rempart.AuditEntry, id, hash string, now time.Time, keep int) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		if _, err := tx.Exec(`UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?`, hash, ts(now), id); err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO password_history (user_id, hash, created_at) VALUES (?, ?, ?)`, id, hash, ts(now)); err != nil {
			return err
		}
		// Keep the newest entries only.
		if _, err := tx.Exec(`DELETE FROM password_history WHERE user_id = ? AND created_at < (
			SELECT MIN(created_at) FROM (SELECT created_at FROM password_history WHERE user_id = ? ORDER BY created_at DESC LIMIT ?) AS newest)`, id, id, keep); err != nil {
			return err
		}
		_, err := tx.Exec(`UPDATE sessions SET revoked_at = ?, revoked_why = 'password changed' WHERE user_id = ? AND revoked_at IS NULL`, ts(now), id)
		return err
	})
	return err
}

// PasswordHistory returns a user's newest password hashes.
func (d *DB) PasswordHistory(ctx context.Context, id string, n int) ([]string, error) {
	return stringColumn(d.reader(ctx).Query(`SELECT hash FROM password_history WHERE user_id = ? ORDER BY created_at DESC LIMIT ?`, id, n))
}

// Rehash replaces a hash made with weaker parameters, if it is still old.
func (d *DB) Rehash(ctx context.Context, id, old, hash string) error {
	return d.writeQuiet(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?`, hash, id, old)
		if err == nil {
			_, err = tx.Exec(`UPDATE password_history SET hash = ? WHERE user_id = ? AND hash = ?`, hash, id, old)
		}
		return err
	})
}

// CreateSession stores a session and the user's last sign-in.
func (d *DB) CreateSession(ctx context.Context, e rempart.AuditEntry, s identity.SessionRow) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		if _, err := tx.Exec(`INSERT INTO sessions (id, user_id, tenant_id, kind, token_hash, created_at, last_seen_at, idle_timeout, expires_at, ip, user_agent, mfa_at, enrol_only)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, s.ID, s.UserID, nullString(s.Principal.TenantID), s.Kind, s.TokenHash, ts(s.CreatedAt), ts(s.LastSeenAt),
			int64(s.IdleTimeout), ts(s.ExpiresAt), s.IP, s.UserAgent, nullTS(s.MFAAt), boolInt(s.EnrolOnly)); err != nil {
			return err
		}
		_, err := tx.Exec(`UPDATE users SET last_login_at = ? WHERE id = ?`, ts(s.CreatedAt), s.UserID)
		return err
	})
	return err
}

const sessionColumns = `s.id, s.user_id, s.kind, s.created_at, s.last_seen_at, s.expires_at, s.revoked_at, s.ip, s.user_agent, s.mfa_at, s.enrol_only`

func scanSession(row interface{ Scan(...any) error }, extra ...any) (rempart.Session, error) {
	var s rempart.Session
	var c, l, x int64
	var rev, mfa sql.NullInt64
	var enrol int64
	err := row.Scan(append([]any{&s.ID, &s.UserID, &s.Kind, &c, &l, &x, &rev, &s.IP, &s.UserAgent, &mfa, &enrol}, extra...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return s, rempart.Errorf(rempart.ENOTFOUND, "Session not found.")
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.RevokedAt = fromTS(c), fromTS(l), fromTS(x), fromNullTS(rev)
	s.MFAAt, s.EnrolOnly = fromNullTS(mfa), enrol != 0
	return s, err
}

// SessionByID returns a session with its user's principal and status.
func (d *DB) SessionByID(ctx context.Context, id string) (identity.SessionRow, error) {
	var r identity.SessionRow
	var tenant sql.NullString
	var idle int64
	var pdel sql.NullInt64
	s, err := scanSession(d.reader(ctx).QueryRow(`SELECT `+sessionColumns+`, s.token_hash, s.idle_timeout, p.id, p.name, p.tenant_id, p.role, p.deleted_at, u.status
		FROM sessions s JOIN principals p ON p.id = s.user_id JOIN users u ON u.id = s.user_id WHERE s.id = ?`, id),
		&r.TokenHash, &idle, &r.Principal.ID, &r.Principal.Name, &tenant, &r.Principal.Role, &pdel, &r.UserStatus)
	r.Session, r.IdleTimeout, r.Principal.TenantID, r.UserDeleted = s, time.Duration(idle), tenant.String, pdel.Valid
	return r, err
}

// TouchSession records a session's last use.
func (d *DB) TouchSession(ctx context.Context, id string, t time.Time) error {
	return d.writeQuiet(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`UPDATE sessions SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?`, ts(t), id, ts(t))
		return err
	})
}

// UserSessions lists a user's sessions that have not ended, newest first.
func (d *DB) UserSessions(ctx context.Context, userID string, now time.Time) ([]rempart.Session, error) {
	rows, err := d.reader(ctx).Query(`SELECT `+sessionColumns+` FROM sessions s WHERE s.user_id = ? AND s.revoked_at IS NULL AND s.expires_at > ? AND s.last_seen_at + s.idle_timeout > ?
		ORDER BY s.created_at DESC, s.id`, userID, ts(now), ts(now))
	return scanAll(func(r rowScanner) (rempart.Session, error) { return scanSession(r) })(rows, err)
}

// RevokeSession revokes one of a user's sessions.
func (d *DB) RevokeSession(ctx context.Context, e rempart.AuditEntry, userID, id, why string) error {
	now := ts(d.clock.Now())
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		return tx.execOne(rempart.Errorf(rempart.ENOTFOUND, "Session not found."), `UPDATE sessions SET revoked_at = ?, revoked_why = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL`, now, why, id, userID)
	})
	return err
}
