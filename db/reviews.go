package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/reviews"
)

// Role changes (IAM-10) and access review campaigns (IAM-9). The reviews
// service authorises every call before it gets here; tenant is "" for the
// staff scope.

const reviewAccountQuery = `SELECT p.id, p.name, p.tenant_id, p.role, p.created_at, u.email, u.status, u.last_login_at,
	CASE WHEN EXISTS (SELECT 1 FROM api_keys k WHERE k.principal_id = p.id AND k.revoked_at IS NULL AND k.expires_at > ?) THEN 1 ELSE 0 END
	FROM principals p LEFT JOIN users u ON u.id = p.id WHERE p.deleted_at IS NULL AND `

func scanReviewAccount(row interface{ Scan(...any) error }) (reviews.Account, error) {
	var a reviews.Account
	var tenant, email, status sql.NullString
	var created int64
	var last sql.NullInt64
	var keyed int
	err := row.Scan(&a.Principal.ID, &a.Principal.Name, &tenant, &a.Principal.Role, &created, &email, &status, &last, &keyed)
	if errors.Is(err, sql.ErrNoRows) {
		return a, rempart.Errorf(rempart.ENOTFOUND, "No such user or service account.")
	}
	a.Principal.TenantID, a.CreatedAt = tenant.String, fromTS(created)
	if email.Valid {
		a.Kind, a.Email, a.Status, a.LastLoginAt = rempart.ReviewUser, email.String, status.String, fromNullTS(last)
	} else {
		a.Kind, a.Status = rempart.ReviewServiceAccount, rempart.UserActive
		if keyed == 0 {
			a.Status = reviews.ServiceAccountNoKeys
		}
	}
	return a, err
}

// ReviewAccounts lists a scope's live users and service accounts.
func (d *DB) ReviewAccounts(ctx context.Context, tenant string) ([]reviews.Account, error) {
	args := append([]any{ts(d.clock.Now())}, tenantArgs(tenant)...)
	return scanAll(scanReviewAccount)(d.reader(ctx).Query(reviewAccountQuery+scopeIs("p.tenant_id", tenant)+` ORDER BY p.created_at, p.id`, args...))
}

// ReviewAccount returns one live account of a scope.
func (d *DB) ReviewAccount(ctx context.Context, tenant, id string) (reviews.Account, error) {
	args := append([]any{ts(d.clock.Now())}, tenantArgs(tenant)...)
	return scanReviewAccount(d.reader(ctx).QueryRow(reviewAccountQuery+scopeIs("p.tenant_id", tenant)+` AND p.id = ?`, append(args, id)...))
}

func insertRoleChange(tx *Tx, rc rempart.RoleChange) error {
	_, err := tx.Exec(`INSERT INTO role_changes (id, tenant_id, principal_id, subject_name, from_role, to_role, reason, requested_by, requested_at, status, campaign_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, rc.ID, nullString(rc.TenantID), rc.PrincipalID, rc.SubjectName, rc.FromRole, rc.ToRole, rc.Reason,
		rc.RequestedBy, ts(rc.RequestedAt), rc.Status, nullString(rc.CampaignID))
	return err
}

// CreateRoleChange stores a pending request.
func (d *DB) CreateRoleChange(ctx context.Context, e rempart.AuditEntry, rc rempart.RoleChange) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error { return insertRoleChange(tx, rc) })
	return err
}

const roleChangeColumns = `id, tenant_id, principal_id, subject_name, from_role, to_role, reason, requested_by, requested_at, status, decided_by, decided_at, decision_note, campaign_id`

func scanRoleChange(row interface{ Scan(...any) error }) (rempart.RoleChange, error) {
	var rc rempart.RoleChange
	var tenant, by, note, campaign sql.NullString
	var at int64
	var decided sql.NullInt64
	err := row.Scan(&rc.ID, &tenant, &rc.PrincipalID, &rc.SubjectName, &rc.FromRole, &rc.ToRole, &rc.Reason, &rc.RequestedBy, &at, &rc.Status, &by, &decided, &note, &campaign)
	if errors.Is(err, sql.ErrNoRows) {
		return rc, rempart.Errorf(rempart.ENOTFOUND, "No role change request with this ID.")
	}
	rc.TenantID, rc.RequestedAt, rc.DecidedBy, rc.DecidedAt, rc.Note, rc.CampaignID = tenant.String, fromTS(at), by.String, fromNullTS(decided), note.String, campaign.String
	return rc, err
}

// RoleChange returns one request of a scope.
func (d *DB) RoleChange(ctx context.Context, tenant, id string) (rempart.RoleChange, error) {
	return scanRoleChange(d.reader(ctx).QueryRow(`SELECT `+roleChangeColumns+` FROM role_changes WHERE id = ? AND `+scopeIs("tenant_id", tenant),
		append([]any{id}, tenantArgs(tenant)...)...))
}

// RoleChanges lists a scope's requests, newest first.
func (d *DB) RoleChanges(ctx context.Context, tenant string, limit int) ([]rempart.RoleChange, error) {
	return scanAll(scanRoleChange)(d.reader(ctx).Query(`SELECT `+roleChangeColumns+` FROM role_changes WHERE `+scopeIs("tenant_id", tenant)+` ORDER BY requested_at DESC, id LIMIT ?`,
		append(tenantArgs(tenant), limit)...))
}

// DecideRoleChange approves or rejects a pending request; an approval sets
// the role in the same transaction. Sessions and API keys read their
// principal's role on each request (and the SQLite credential cache is
// cleared by this write to principals), so the change applies to them at
// once.
func (d *DB) DecideRoleChange(ctx context.Context, e rempart.AuditEntry, tenant, id, status, by, note string, at time.Time) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		rc, err := scanRoleChange(tx.QueryRow(`SELECT `+roleChangeColumns+` FROM role_changes WHERE id = ? AND `+scopeIs("tenant_id", tenant),
			append([]any{id}, tenantArgs(tenant)...)...))
		if err != nil {
			return err
		}
		res, err := tx.Exec(`UPDATE role_changes SET status = ?, decided_by = ?, decided_at = ?, decision_note = ? WHERE id = ? AND status = ?`,
			status, by, ts(at), nullString(note), id, rempart.RoleChangePending)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return rempart.Errorf(rempart.ECONFLICT, "This request was already decided.")
		}
		if status != rempart.RoleChangeApproved {
			return nil
		}
		res, err = tx.Exec(`UPDATE principals SET role = ? WHERE id = ? AND role = ? AND deleted_at IS NULL AND `+scopeIs("tenant_id", tenant),
			append([]any{rc.ToRole, rc.PrincipalID, rc.FromRole}, tenantArgs(tenant)...)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return rempart.Errorf(rempart.ECONFLICT, "The account was removed or its role changed since the request; make a new one.")
		}
		return nil
	})
	return err
}

// CreateCampaign stores a campaign and its items.
func (d *DB) CreateCampaign(ctx context.Context, e rempart.AuditEntry, c rempart.Campaign, items []rempart.ReviewItem) error {
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		var closed sql.NullInt64
		if c.ClosedAt != nil {
			closed = sql.NullInt64{Int64: ts(*c.ClosedAt), Valid: true}
		}
		// The unique (scope, period) index settles two nodes opening the
		// same quarter's campaign: the second inserts nothing.
		res, err := tx.Exec(`INSERT INTO review_campaigns (id, tenant_id, name, period, created_by, created_at, due_at, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING`, c.ID, nullString(c.TenantID), c.Name, nullString(c.Period), c.CreatedBy, ts(c.CreatedAt), ts(c.DueAt), closed)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return rempart.Errorf(rempart.ECONFLICT, "The campaign of %s exists.", c.Period)
		}
		for _, it := range items {
			grants, _ := json.Marshal(it.Grants)
			flags, _ := json.Marshal(it.Flags)
			var last sql.NullInt64
			if it.LastLoginAt != nil {
				last = sql.NullInt64{Int64: ts(*it.LastLoginAt), Valid: true}
			}
			if _, err := tx.Exec(`INSERT INTO review_items (campaign_id, principal_id, tenant_id, kind, name, email, role, status, grants, created_at, last_login_at, mfa, flags)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, it.PrincipalID, nullString(c.TenantID), it.Kind, it.Name, it.Email, it.Role, it.Status,
				string(grants), ts(it.CreatedAt), last, it.MFA, string(flags)); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

const campaignColumns = `c.id, c.tenant_id, c.name, c.period, c.created_by, c.created_at, c.due_at, c.closed_at,
	(SELECT COUNT(*) FROM review_items i WHERE i.campaign_id = c.id),
	(SELECT COUNT(*) FROM review_items i WHERE i.campaign_id = c.id AND i.decision IS NOT NULL)`

func scanCampaign(row interface{ Scan(...any) error }) (rempart.Campaign, error) {
	var c rempart.Campaign
	var tenant, period sql.NullString
	var created, due int64
	var closed sql.NullInt64
	err := row.Scan(&c.ID, &tenant, &c.Name, &period, &c.CreatedBy, &created, &due, &closed, &c.Accounts, &c.Decided)
	if errors.Is(err, sql.ErrNoRows) {
		return c, rempart.Errorf(rempart.ENOTFOUND, "No access review campaign with this ID.")
	}
	c.TenantID, c.Period, c.CreatedAt, c.DueAt, c.ClosedAt = tenant.String, period.String, fromTS(created), fromTS(due), fromNullTS(closed)
	return c, err
}

var campaignList = scanAll(scanCampaign)

// HasPeriodCampaign reports whether a scope has a period's campaign.
func (d *DB) HasPeriodCampaign(ctx context.Context, tenant, period string) (bool, error) {
	var n int
	err := d.reader(ctx).QueryRow(`SELECT COUNT(*) FROM review_campaigns WHERE period = ? AND `+scopeIs("tenant_id", tenant),
		append([]any{period}, tenantArgs(tenant)...)...).Scan(&n)
	return n > 0, err
}

// Campaigns lists a scope's campaigns, newest first.
func (d *DB) Campaigns(ctx context.Context, tenant string, limit int) ([]rempart.Campaign, error) {
	return campaignList(d.reader(ctx).Query(`SELECT `+campaignColumns+` FROM review_campaigns c WHERE `+scopeIs("c.tenant_id", tenant)+
		` ORDER BY c.created_at DESC, c.id LIMIT ?`, append(tenantArgs(tenant), limit)...))
}

// OverdueCampaigns lists every scope's open campaigns due before now.
func (d *DB) OverdueCampaigns(ctx context.Context, now time.Time) ([]rempart.Campaign, error) {
	return campaignList(d.reader(ctx).Query(`SELECT `+campaignColumns+` FROM review_campaigns c WHERE c.closed_at IS NULL AND c.due_at <= ? ORDER BY c.due_at, c.id`, ts(now)))
}

// Campaign returns a campaign of a scope with its items and reminders.
func (d *DB) Campaign(ctx context.Context, tenant, id string) (rempart.CampaignDetail, error) {
	r := d.reader(ctx)
	c, err := scanCampaign(r.QueryRow(`SELECT `+campaignColumns+` FROM review_campaigns c WHERE c.id = ? AND `+scopeIs("c.tenant_id", tenant),
		append([]any{id}, tenantArgs(tenant)...)...))
	if err != nil {
		return rempart.CampaignDetail{}, err
	}
	out := rempart.CampaignDetail{Campaign: c, Items: []rempart.ReviewItem{}}
	if out.Reminders, err = stringColumn(r.Query(`SELECT day FROM review_reminders WHERE campaign_id = ? ORDER BY day`, id)); err != nil {
		return out, err
	}
	if len(out.Reminders) == 0 {
		out.Reminders = nil
	}
	out.Items, err = scanAll(scanItem)(r.Query(`SELECT `+itemColumns+` FROM review_items WHERE campaign_id = ? ORDER BY created_at, principal_id`, id))
	return out, err
}

const itemColumns = `principal_id, kind, name, email, role, status, grants, created_at, last_login_at, mfa, flags,
	decision, new_role, note, decided_by, decided_at, role_change_id`

func scanItem(row interface{ Scan(...any) error }) (rempart.ReviewItem, error) {
	var it rempart.ReviewItem
	var grants, flags string
	var created int64
	var last, decided sql.NullInt64
	var decision, newRole, note, by, rc sql.NullString
	err := row.Scan(&it.PrincipalID, &it.Kind, &it.Name, &it.Email, &it.Role, &it.Status, &grants, &created, &last, &it.MFA, &flags,
		&decision, &newRole, &note, &by, &decided, &rc)
	if errors.Is(err, sql.ErrNoRows) {
		return it, rempart.Errorf(rempart.ENOTFOUND, "This campaign has no such account.")
	} else if err != nil {
		return it, err
	}
	if err := json.Unmarshal([]byte(grants), &it.Grants); err != nil {
		return it, err
	}
	if err := json.Unmarshal([]byte(flags), &it.Flags); err != nil {
		return it, err
	}
	it.CreatedAt, it.LastLoginAt, it.DecidedAt = fromTS(created), fromNullTS(last), fromNullTS(decided)
	it.Decision, it.NewRole, it.Note, it.DecidedBy, it.RoleChangeID = decision.String, newRole.String, note.String, by.String, rc.String
	return it, nil
}

// CampaignItem returns a campaign of a scope, without its items, and one
// of them.
func (d *DB) CampaignItem(ctx context.Context, tenant, campaignID, principalID string) (rempart.Campaign, rempart.ReviewItem, error) {
	r := d.reader(ctx)
	c, err := scanCampaign(r.QueryRow(`SELECT `+campaignColumns+` FROM review_campaigns c WHERE c.id = ? AND `+scopeIs("c.tenant_id", tenant),
		append([]any{campaignID}, tenantArgs(tenant)...)...))
	if err != nil {
		return c, rempart.ReviewItem{}, err
	}
	it, err := scanItem(r.QueryRow(`SELECT `+itemColumns+` FROM review_items WHERE campaign_id = ? AND principal_id = ?`, campaignID, principalID))
	return c, it, err
}

// DecideItem records a decision on an open campaign's undecided item, with
// its effect, and closes the campaign with its last decision.
func (d *DB) DecideItem(ctx context.Context, e rempart.AuditEntry, tenant, campaignID string, it rempart.ReviewItem, rc *rempart.RoleChange) (bool, error) {
	closed := false
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		closed = false
		// Taking the campaign's row first serialises the decisions of one
		// campaign, so that exactly one of them sees the last item decided.
		res, err := tx.Exec(`UPDATE review_campaigns SET closed_at = closed_at WHERE id = ? AND closed_at IS NULL AND `+scopeIs("tenant_id", tenant),
			append([]any{campaignID}, tenantArgs(tenant)...)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return rempart.Errorf(rempart.ECONFLICT, "This campaign is closed.")
		}
		at := ts(*it.DecidedAt)
		res, err = tx.Exec(`UPDATE review_items SET decision = ?, new_role = ?, note = ?, decided_by = ?, decided_at = ?, role_change_id = ?
			WHERE campaign_id = ? AND principal_id = ? AND decision IS NULL`,
			it.Decision, nullString(it.NewRole), nullString(it.Note), it.DecidedBy, at, nullString(it.RoleChangeID), campaignID, it.PrincipalID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return rempart.Errorf(rempart.ECONFLICT, "This account was already decided.")
		}
		switch {
		case it.Decision == rempart.DecisionRevoke && it.Kind == rempart.ReviewUser:
			if _, err := tx.Exec(`UPDATE users SET status = ? WHERE id = ? AND `+scopeIs("tenant_id", tenant),
				append([]any{rempart.UserSuspended, it.PrincipalID}, tenantArgs(tenant)...)...); err != nil {
				return err
			}
			if _, err := tx.Exec(`UPDATE sessions SET revoked_at = ?, revoked_why = ? WHERE user_id = ? AND revoked_at IS NULL`, at, "access review revoked", it.PrincipalID); err != nil {
				return err
			}
			if _, err := tx.Exec(`UPDATE personal_keys SET revoked_at = ?, revoked_why = ? WHERE user_id = ? AND revoked_at IS NULL`, at, "access review revoked", it.PrincipalID); err != nil {
				return err
			}
		case it.Decision == rempart.DecisionRevoke:
			if _, err := tx.Exec(`UPDATE api_keys SET revoked_at = ? WHERE principal_id = ? AND revoked_at IS NULL AND `+scopeIs("tenant_id", tenant),
				append([]any{at, it.PrincipalID}, tenantArgs(tenant)...)...); err != nil {
				return err
			}
		case rc != nil:
			if err := insertRoleChange(tx, *rc); err != nil {
				return err
			}
		}
		var left int
		if err := tx.QueryRow(`SELECT COUNT(*) FROM review_items WHERE campaign_id = ? AND decision IS NULL`, campaignID).Scan(&left); err != nil {
			return err
		}
		if left > 0 {
			return nil
		}
		closed = true
		_, err = tx.Exec(`UPDATE review_campaigns SET closed_at = ? WHERE id = ?`, at, campaignID)
		return err
	})
	return closed && err == nil, err
}

// RecordReminder stores a campaign's reminder of the day unless it exists.
func (d *DB) RecordReminder(ctx context.Context, e rempart.AuditEntry, r reviews.Reminder) (bool, error) {
	var n int
	if err := d.reader(ctx).QueryRow(`SELECT COUNT(*) FROM review_reminders WHERE campaign_id = ? AND day = ?`, r.CampaignID, r.Day).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		res, err := tx.Exec(`INSERT INTO review_reminders (campaign_id, day, tenant_id, pending, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			r.CampaignID, r.Day, nullString(r.TenantID), r.Pending, ts(r.At))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return rempart.Errorf(rempart.ECONFLICT, "Another node sent this reminder.")
		}
		return nil
	})
	if rempart.ErrorCode(err) == rempart.ECONFLICT {
		return false, nil
	}
	return err == nil, err
}

var _ reviews.Store = (*DB)(nil)
