package db

import (
	"context"
	"database/sql"
	"errors"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
	"github.com/rempart/rempart/keys"
)

// CustomerKeyURI returns where the tenant key a customer wrapper ID names is
// (keys.CustomerKeyStore).
func (d *DB) CustomerKeyURI(ctx context.Context, wrapper string) (string, error) {
	var uri string
	err := d.reader(ctx).QueryRow(`SELECT uri FROM tenant_cmks WHERE wrapper = ?`, wrapper).Scan(&uri)
	if errors.Is(err, sql.ErrNoRows) {
		return "", rempart.Errorf(rempart.ENOTFOUND, "No tenant key %s.", wrapper)
	}
	return uri, err
}

// CustomerKey returns the scope's tenant's own key (URI and wrapper ID), or
// ENOTFOUND when it has none.
func (d *DB) CustomerKey(ctx context.Context, s guard.Scope) (uri, wrapper string, err error) {
	err = d.reader(ctx).QueryRow(`SELECT uri, wrapper FROM tenant_cmks WHERE tenant_id = ?`, mustScope(s)).Scan(&uri, &wrapper)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", rempart.Errorf(rempart.ENOTFOUND, "The tenant has no key of its own.")
	}
	return uri, wrapper, err
}

// TenantKEKs returns every key-encryption key of the scope's tenant, as
// stored.
func (d *DB) TenantKEKs(ctx context.Context, s guard.Scope) ([]keys.Wrapped, error) {
	tenant := mustScope(s)
	rows, err := d.reader(ctx).Query(`SELECT kek_id, wrapper, wrapped FROM tenant_keks WHERE tenant_id = ? ORDER BY kek_id`, tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []keys.Wrapped
	for rows.Next() {
		w := keys.Wrapped{Kind: "kek", Owner: tenant}
		if err := rows.Scan(&w.ID, &w.Wrapper, &w.Data); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// SetKEKWrapper stores the tenant's KEKs re-wrapped under wrapper (each
// ks[i].Wrapper is the wrapper it was read under, ks[i].Data the new
// wrapping), and records its own key (uri, "" to have none), in one audited
// transaction. A KEK whose wrapper changed meanwhile fails the whole change.
func (d *DB) SetKEKWrapper(ctx context.Context, s guard.Scope, e rempart.AuditEntry, wrapper, uri string, ks []keys.Wrapped) error {
	tenant := mustScope(s)
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		if err := requireActiveRoot(tx, wrapper); err != nil {
			return err
		}
		for _, k := range ks {
			res, err := tx.Exec(`UPDATE tenant_keks SET wrapper = ?, wrapped = ? WHERE tenant_id = ? AND kek_id = ? AND wrapper = ?`, wrapper, k.Data, tenant, k.ID, k.Wrapper)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return rempart.Errorf(rempart.ECONFLICT, "The tenant's keys changed during the change; retry.")
			}
		}
		if _, err := tx.Exec(`DELETE FROM tenant_cmks WHERE tenant_id = ?`, tenant); err != nil {
			return err
		}
		if uri == "" {
			return nil
		}
		_, err := tx.Exec(`INSERT INTO tenant_cmks (tenant_id, wrapper, uri, created_at) VALUES (?, ?, ?, ?)`, tenant, wrapper, uri, ts(d.clock.Now()))
		return err
	})
	return err
}

// errStaleRoot refuses a key wrapped under a root key version other than the
// active one: a rotation may have counted what each version still wraps and
// be destroying this one.
var errStaleRoot = rempart.Errorf(rempart.ECONFLICT, "The root key was rotated meanwhile; retry.")

// requireActiveRoot fails with errStaleRoot unless wrapper is the active root
// key version recorded in meta (root_key_id), or a tenant's own key, which no
// root rotation touches. It locks the meta row against a rotation starting
// before the transaction commits (PostgreSQL; SQLite writes one at a time):
// whatever it lets through is counted by the rotation that follows, so no
// version is destroyed while something is being written under it (ENC-3).
func requireActiveRoot(tx *Tx, wrapper string) error {
	if keys.IsCustomer(wrapper) {
		return nil
	}
	q := `SELECT value FROM meta WHERE key = 'root_key_id'`
	if tx.db.dialect == Postgres {
		q += ` FOR SHARE`
	}
	var active []byte
	err := tx.QueryRow(q).Scan(&active)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // no version recorded yet: a deployment being set up
	} else if err != nil {
		return err
	}
	if string(active) != wrapper {
		return errStaleRoot
	}
	return nil
}
