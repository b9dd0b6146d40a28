package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/grants"
	"github.com/rempart/rempart/guard"
)

// Staff access grants (IAM-7). The grants service authorises every call
// before it gets here; the data plane asks ActiveGrants on every staff
// access to records.

const grantColumns = `id, tenant_id, requester_id, reason, scope, duration_minutes, tenant_approval_required, created_at,
	approved_by, approved_at, tenant_approved_by, tenant_approved_at, denied_by, denied_at, revoked_by, revoked_at, active_from, expires_at`

func scanGrant(row interface{ Scan(...any) error }) (rempart.Grant, error) {
	var g rempart.Grant
	var tenantApproval int
	var created int64
	var by [4]sql.NullString
	var at [6]sql.NullInt64
	err := row.Scan(&g.ID, &g.TenantID, &g.RequesterID, &g.Reason, &g.Scope, &g.DurationMinutes, &tenantApproval, &created,
		&by[0], &at[0], &by[1], &at[1], &by[2], &at[2], &by[3], &at[3], &at[4], &at[5])
	if errors.Is(err, sql.ErrNoRows) {
		return g, rempart.Errorf(rempart.ENOTFOUND, "Grant not found.")
	}
	g.TenantApprovalRequired, g.CreatedAt = tenantApproval != 0, fromTS(created)
	g.ApprovedBy, g.TenantApprovedBy, g.DeniedBy, g.RevokedBy = by[0].String, by[1].String, by[2].String, by[3].String
	g.ApprovedAt, g.TenantApprovedAt, g.DeniedAt, g.RevokedAt = fromNullTS(at[0]), fromNullTS(at[1]), fromNullTS(at[2]), fromNullTS(at[3])
	g.ActiveFrom, g.ExpiresAt = fromNullTS(at[4]), fromNullTS(at[5])
	return g, err
}

// CreateGrant stores a new grant request with its audit entry.
func (d *DB) CreateGrant(ctx context.Context, e rempart.AuditEntry, g rempart.Grant) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO grants (id, tenant_id, requester_id, reason, scope, duration_minutes, tenant_approval_required, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			g.ID, g.TenantID, g.RequesterID, g.Reason, g.Scope, g.DurationMinutes, boolInt(g.TenantApprovalRequired), ts(g.CreatedAt))
		return err
	})
	return err
}

// Grant returns one grant.
func (d *DB) Grant(ctx context.Context, id string) (rempart.Grant, error) {
	return scanGrant(d.reader(ctx).QueryRow(`SELECT `+grantColumns+` FROM grants WHERE id = ?`, id))
}

// Grants lists grants newest first, filtered by tenant and requester when
// set.
func (d *DB) Grants(ctx context.Context, q grants.Query) ([]rempart.Grant, error) {
	query, args := `SELECT `+grantColumns+` FROM grants WHERE 1 = 1`, []any{}
	if q.TenantID != "" {
		query, args = query+` AND tenant_id = ?`, append(args, q.TenantID)
	}
	if q.RequesterID != "" {
		query, args = query+` AND requester_id = ?`, append(args, q.RequesterID)
	}
	if q.Limit <= 0 || q.Limit > grants.MaxList {
		q.Limit = grants.MaxList
	}
	return scanAll(scanGrant)(d.reader(ctx).Query(query+` ORDER BY created_at DESC, id LIMIT ?`, append(args, q.Limit)...))
}

// UpdateGrant changes a grant in the write transaction. Only the decision
// columns change: who asked for what stays as requested.
func (d *DB) UpdateGrant(ctx context.Context, e rempart.AuditEntry, id string, fn func(g *rempart.Grant) error) (rempart.Grant, error) {
	var out rempart.Grant
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		g, err := scanGrant(tx.QueryRow(`SELECT `+grantColumns+` FROM grants WHERE id = ?`, id))
		if err != nil {
			return err
		}
		if err := fn(&g); err != nil {
			return err
		}
		_, err = tx.Exec(`UPDATE grants SET approved_by = ?, approved_at = ?, tenant_approved_by = ?, tenant_approved_at = ?, denied_by = ?, denied_at = ?,
			revoked_by = ?, revoked_at = ?, active_from = ?, expires_at = ? WHERE id = ?`,
			nullString(g.ApprovedBy), nullTS(g.ApprovedAt), nullString(g.TenantApprovedBy), nullTS(g.TenantApprovedAt), nullString(g.DeniedBy), nullTS(g.DeniedAt),
			nullString(g.RevokedBy), nullTS(g.RevokedAt), nullTS(g.ActiveFrom), nullTS(g.ExpiresAt), id)
		out = g
		return err
	})
	return out, err
}

// ActiveGrants returns the principal's approved grants on the tenant that
// are neither revoked nor past their expiry at now (vault.GrantLookup);
// guard makes the final decision. One indexed query, made only for staff.
func (d *DB) ActiveGrants(ctx context.Context, principalID, tenantID string, now time.Time) ([]rempart.Grant, error) {
	return scanAll(scanGrant)(d.reader(ctx).Query(`SELECT `+grantColumns+` FROM grants WHERE requester_id = ? AND tenant_id = ? AND expires_at > ? AND revoked_at IS NULL AND denied_at IS NULL`,
		principalID, tenantID, ts(now)))
}

// ActiveGrantsOnAnyTenant returns the principal's grants active at now on
// every tenant, for access reviews (IAM-9), however many older ones there
// are.
func (d *DB) ActiveGrantsOnAnyTenant(ctx context.Context, principalID string, now time.Time) ([]rempart.Grant, error) {
	return scanAll(scanGrant)(d.reader(ctx).Query(`SELECT `+grantColumns+` FROM grants WHERE requester_id = ? AND expires_at > ? AND revoked_at IS NULL AND denied_at IS NULL ORDER BY created_at`,
		principalID, ts(now)))
}

// GrantSettings returns a tenant's rule for grants.
func (d *DB) GrantSettings(ctx context.Context, tenantID string) (rempart.GrantSettings, error) {
	gs := rempart.GrantSettings{TenantID: tenantID}
	var req int
	var at int64
	err := d.reader(ctx).QueryRow(`SELECT require_approval, updated_at FROM grant_settings WHERE tenant_id = ?`, tenantID).Scan(&req, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return gs, nil
	}
	gs.RequireApproval, gs.UpdatedAt = req != 0, fromTS(at)
	return gs, err
}

// SetGrantSettings stores the scope's tenant's rule for grants.
func (d *DB) SetGrantSettings(ctx context.Context, s guard.Scope, e rempart.AuditEntry, gs rempart.GrantSettings) error {
	tenant := mustScope(s)
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO grant_settings (tenant_id, require_approval, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (tenant_id) DO UPDATE SET require_approval = excluded.require_approval, updated_at = excluded.updated_at`,
			tenant, boolInt(gs.RequireApproval), ts(gs.UpdatedAt))
		return err
	})
	return err
}

// GrantAccesses returns the scope's tenant's audit entries that name grant
// g, oldest first: the entries of its requester in the tenant since the
// grant was made, read a page at a time on the (tenant, principal, idx)
// index, keeping those whose grant_id is g's.
func (d *DB) GrantAccesses(ctx context.Context, s guard.Scope, g rempart.Grant, limit int) ([]rempart.AuditEntry, error) {
	tenant := mustScope(s)
	if g.TenantID != tenant {
		return nil, rempart.Errorf(rempart.ENOTFOUND, "Grant not found.")
	}
	out := []rempart.AuditEntry{}
	if g.ActiveFrom == nil || g.ExpiresAt == nil {
		return out, nil // never active: nothing was done under it
	}
	// An access is recorded when it commits, a moment after guard let it
	// through: a minute's margin past the grant's end.
	end := *g.ExpiresAt
	if g.RevokedAt != nil && g.RevokedAt.Before(end) {
		end = *g.RevokedAt
	}
	end = end.Add(time.Minute)
	const page = 1000
	after := int64(-1)
	for len(out) < limit {
		rows, err := d.reader(ctx).Query(`SELECT idx, body FROM audit_entries WHERE tenant_id = ? AND principal_id = ? AND idx > ? AND time >= ? AND time <= ? ORDER BY idx LIMIT ?`,
			tenant, g.RequesterID, after, ts(*g.ActiveFrom), ts(end), page)
		if err != nil {
			return nil, err
		}
		n := 0
		for rows.Next() {
			var body []byte
			if err := rows.Scan(&after, &body); err != nil {
				rows.Close()
				return nil, err
			}
			n++
			var e rempart.AuditEntry
			if err := json.Unmarshal(body, &e); err != nil {
				rows.Close()
				return nil, fmt.Errorf("decode audit entry: %w", err)
			}
			if e.GrantID == g.ID && len(out) < limit {
				out = append(out, e)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if n < page {
			break
		}
	}
	return out, nil
}
