package db

import (
	"context"
	"slices"
)

// Test hooks, compiled only into this package's tests.

// ExecForTest runs a statement directly, outside the committer.
func (d *DB) ExecForTest(query string) error {
	_, err := d.write.Exec(query)
	return err
}

// LegacyAuditLayoutForTest rewrites the log as an install before migration 2
// kept it: completed nodes in audit_nodes, the right edge in audit_tree, and
// neither in the entries' rows.
func (d *DB) LegacyAuditLayoutForTest() error {
	rows, err := d.write.Query(`SELECT idx, nodes, tree FROM audit_entries ORDER BY idx`)
	if err != nil {
		return err
	}
	type node struct {
		level, idx int64
		hash       []byte
	}
	var nodes []node
	var last []byte
	for rows.Next() {
		var idx int64
		var ns, tree []byte
		if err := rows.Scan(&idx, &ns, &tree); err != nil {
			rows.Close()
			return err
		}
		for l := int64(1); int(l)*32 <= len(ns); l++ {
			nodes = append(nodes, node{l, (idx+1)>>l - 1, ns[(l-1)*32 : l*32]})
		}
		if tree != nil {
			last = tree
		}
	}
	rows.Close()
	for _, n := range nodes {
		if _, err := d.write.Exec(d.q(`INSERT INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?)`), n.level, n.idx, n.hash); err != nil {
			return err
		}
	}
	if _, err := d.write.Exec(d.q(`INSERT INTO audit_tree (id, size, state) VALUES (1, 0, ?)`), last); err != nil {
		return err
	}
	_, err = d.write.Exec(`UPDATE audit_entries SET nodes = NULL, tree = NULL`)
	return err
}

// ExecArgsForTest runs a statement with arguments directly.
func (d *DB) ExecArgsForTest(query string, args ...any) error {
	_, err := d.write.Exec(d.q(query), args...)
	return err
}

// TenantRowsForTest counts, per table with a tenant_id column, the rows of
// tenant.
func (d *DB) TenantRowsForTest(ctx context.Context, tenant string) (map[string]int, error) {
	ts, err := tables(ctx, d.dialect, d.write)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, t := range ts {
		if !slices.Contains(t.Columns, "tenant_id") {
			continue
		}
		var n int
		if err := d.write.QueryRowContext(ctx, d.q(`SELECT COUNT(*) FROM `+quoteIdent(t.Name)+` WHERE tenant_id = ?`), tenant).Scan(&n); err != nil {
			return nil, err
		}
		out[t.Name] = n
	}
	return out, nil
}

// SignInNetworks returns the fingerprints remembered of a user, most
// recent first.
func (d *DB) SignInNetworks(ctx context.Context, userID string) ([][]byte, error) {
	rows, err := d.reader(ctx).Query(`SELECT fingerprint FROM sign_in_networks WHERE user_id = ? ORDER BY last_seen_at DESC, fingerprint`, userID)
	return scanAll(func(r rowScanner) ([]byte, error) {
		var b []byte
		err := r.Scan(&b)
		return b, err
	})(rows, err)
}
