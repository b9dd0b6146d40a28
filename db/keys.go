package db

import (
	"context"
	"database/sql"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/keys"
)

// customerWrapped marks KEKs wrapped by a tenant's own key: root rotation
// leaves them alone.
const customerWrapped = "cmk:%"

// StaleWrapped returns keys wrapped under a root key version other than
// active: tenants' KEKs, then the keys of backups that can still be restored.
func (d *DB) StaleWrapped(ctx context.Context, active string, limit int) ([]keys.Wrapped, int, error) {
	r := d.reader(ctx)
	var nk, nb int
	if err := r.QueryRow(`SELECT COUNT(*) FROM tenant_keks WHERE wrapper <> ? AND wrapper NOT LIKE ?`, active, customerWrapped).Scan(&nk); err != nil {
		return nil, 0, err
	}
	if err := r.QueryRow(`SELECT COUNT(*) FROM backups WHERE root_key_id <> ? AND status IN ('running', 'complete')`, active).Scan(&nb); err != nil {
		return nil, 0, err
	}
	var out []keys.Wrapped
	rows, err := r.Query(`SELECT tenant_id, kek_id, wrapper, wrapped FROM tenant_keks WHERE wrapper <> ? AND wrapper NOT LIKE ? ORDER BY tenant_id, kek_id LIMIT ?`, active, customerWrapped, limit)
	if err != nil {
		return nil, 0, err
	}
	for rows.Next() {
		w := keys.Wrapped{Kind: "kek"}
		if err := rows.Scan(&w.Owner, &w.ID, &w.Wrapper, &w.Data); err != nil {
			rows.Close()
			return nil, 0, err
		}
		out = append(out, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if len(out) < limit {
		rows, err := r.Query(`SELECT id, root_key_id, wrapped_key FROM backups WHERE root_key_id <> ? AND status IN ('running', 'complete') ORDER BY id LIMIT ?`, active, limit-len(out))
		if err != nil {
			return nil, 0, err
		}
		defer rows.Close()
		for rows.Next() {
			w := keys.Wrapped{Kind: "backup"}
			if err := rows.Scan(&w.ID, &w.Wrapper, &w.Data); err != nil {
				return nil, 0, err
			}
			out = append(out, w)
		}
		if err := rows.Err(); err != nil {
			return nil, 0, err
		}
	}
	return out, nk + nb, nil
}

// Rewrap stores the new wrapping of each key, if its stored wrapping is
// still the one read, in one audited transaction.
func (d *DB) Rewrap(ctx context.Context, e rempart.AuditEntry, ks []keys.Wrapped, wrapper string) (int, error) {
	var n int64
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		n = 0
		for _, k := range ks {
			var res sql.Result
			var err error
			if k.Kind == "backup" {
				res, err = tx.Exec(`UPDATE backups SET root_key_id = ?, wrapped_key = ? WHERE id = ? AND root_key_id <> ?`, wrapper, k.Data, k.ID, wrapper)
			} else {
				res, err = tx.Exec(`UPDATE tenant_keks SET wrapper = ?, wrapped = ? WHERE tenant_id = ? AND kek_id = ? AND wrapper <> ? AND wrapper NOT LIKE ?`, wrapper, k.Data, k.Owner, k.ID, wrapper, customerWrapped)
			}
			if err != nil {
				return err
			}
			m, _ := res.RowsAffected()
			n += m
		}
		return nil
	})
	return int(n), err
}

// RootRefs counts what each root key version still wraps: KEKs, keys of
// restorable backups, and the deployment's secrets (a secret stored before
// versions existed counts under "").
func (d *DB) RootRefs(ctx context.Context) (map[string]int, error) {
	refs := map[string]int{}
	r := d.reader(ctx)
	for _, q := range []string{
		`SELECT wrapper, COUNT(*) FROM tenant_keks GROUP BY wrapper`,
		`SELECT root_key_id, COUNT(*) FROM backups WHERE status IN ('running', 'complete') GROUP BY root_key_id`,
	} {
		rows, err := r.Query(q)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return nil, err
			}
			refs[id] += n
		}
		rows.Close()
	}
	for _, name := range []string{"audit_signer", "backup_signer"} {
		v, err := d.Meta(ctx, name)
		if rempart.ErrorCode(err) == rempart.ENOTFOUND {
			continue
		} else if err != nil {
			return nil, err
		}
		refs[keys.SecretRootKeyID(v, "")]++ // "": stored before versions, under an unnamed one
	}
	return refs, nil
}
