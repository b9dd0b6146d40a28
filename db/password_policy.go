package db

import (
	"context"
	"database/sql"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/identity/password"
)

// TenantPasswordPolicy returns a tenant's overrides of the password policy;
// none when it has set none.
func (d *DB) TenantPasswordPolicy(ctx context.Context, tenant string) (password.TenantPolicy, error) {
	var minLen, maxAge, history sql.NullInt64
	err := d.reader(ctx).QueryRow(`SELECT min_length, max_age_seconds, history FROM tenant_password_policies WHERE tenant_id = ?`, tenant).
		Scan(&minLen, &maxAge, &history)
	if err == sql.ErrNoRows {
		return password.TenantPolicy{}, nil
	} else if err != nil {
		return password.TenantPolicy{}, err
	}
	var tp password.TenantPolicy
	if minLen.Valid {
		n := int(minLen.Int64)
		tp.MinLength = &n
	}
	if maxAge.Valid {
		a := time.Duration(maxAge.Int64) * time.Second
		tp.MaxAge = &a
	}
	if history.Valid {
		n := int(history.Int64)
		tp.History = &n
	}
	return tp, nil
}

// SetTenantPasswordPolicy replaces a tenant's overrides.
func (d *DB) SetTenantPasswordPolicy(ctx context.Context, e rempart.AuditEntry, tenant string, tp password.TenantPolicy) error {
	null := func(p *int) sql.NullInt64 {
		if p == nil {
			return sql.NullInt64{}
		}
		return sql.NullInt64{Int64: int64(*p), Valid: true}
	}
	var maxAge sql.NullInt64
	if tp.MaxAge != nil {
		maxAge = sql.NullInt64{Int64: int64(*tp.MaxAge / time.Second), Valid: true}
	}
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO tenant_password_policies (tenant_id, min_length, max_age_seconds, history) VALUES (?, ?, ?, ?)
			ON CONFLICT (tenant_id) DO UPDATE SET min_length = excluded.min_length, max_age_seconds = excluded.max_age_seconds, history = excluded.history`,
			tenant, null(tp.MinLength), maxAge, null(tp.History))
		return err
	})
	return err
}
