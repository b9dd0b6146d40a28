package db_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/guard"
	"github.com/rempart/rempart/identity"
	"github.com/rempart/rempart/keys"
	"github.com/rempart/rempart/vault"
)

var ctx = context.Background()

// newTenant creates a tenant and returns a scope of one of its writers.
func newTenant(t testing.TB, d *db.DB, name string) guard.Scope {
	t.Helper()
	now := time.Now().UTC()
	ten := rempart.Tenant{ID: rempart.NewID("ten"), Name: name, Status: rempart.TenantActive, CreatedAt: now, UpdatedAt: now}
	w := keys.WrappedKeys{TenantID: ten.ID, DataKeyID: rempart.NewID("dk"), RootKeyID: "test", WrappedKEK: []byte("k"), WrappedDEK: []byte("d")}
	if _, err := d.CreateTenant(ctx, rempart.AuditEntry{Action: "tenant.create", Outcome: rempart.OutcomeSuccess, TenantID: ten.ID}, ten, w); err != nil {
		t.Fatal(err)
	}
	c := rempart.Caller{Principal: rempart.Principal{ID: rempart.NewID("sa"), TenantID: ten.ID, Role: rempart.RoleWriter}}
	s, err := guard.Authorize(c, ten, guard.RecordsWrite)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func row(coll, id string, created time.Time) vault.RecordRow {
	return vault.RecordRow{Collection: coll, ID: id, Version: 1, CreatedAt: created, UpdatedAt: created, DataKeyID: "dk", Ciphertext: []byte("sealed:" + id)}
}

func entry(action string) rempart.AuditEntry {
	return rempart.AuditEntry{Action: action, Outcome: rempart.OutcomeSuccess}
}

func TestConformance(t *testing.T) {
	dialects(t, func(t *testing.T, open func(t *testing.T) *db.DB) {
		t.Run("records are bound to their tenant", func(t *testing.T) {
			d := open(t)
			a, b := newTenant(t, d, "A"), newTenant(t, d, "B")
			if _, _, err := d.CreateRecord(ctx, a, entry("record.create"), row("calls", "r1", time.Now()), nil); err != nil {
				t.Fatal(err)
			}
			if _, err := d.GetRecord(ctx, a, "calls", "r1"); err != nil {
				t.Fatalf("own record: %v", err)
			}
			if _, err := d.GetRecord(ctx, b, "calls", "r1"); rempart.ErrorCode(err) != rempart.ENOTFOUND {
				t.Fatalf("other tenant's record: got %v, want not_found", err)
			}
			rows, err := d.ListRecords(ctx, b, "calls", vault.ListQuery{Limit: 10})
			if err != nil || len(rows) != 0 {
				t.Fatalf("other tenant's list: got %d rows, %v; want none", len(rows), err)
			}
			if _, err := d.MutateRecord(ctx, b, entry("record.update"), "calls", "r1", func(r vault.RecordRow) (vault.RecordRow, error) { return r, nil }); rempart.ErrorCode(err) != rempart.ENOTFOUND {
				t.Fatalf("other tenant's update: got %v, want not_found", err)
			}
		})

		t.Run("zero scope panics", func(t *testing.T) {
			d := open(t)
			defer func() {
				if recover() == nil {
					t.Fatal("GetRecord with a zero scope did not panic")
				}
			}()
			d.GetRecord(ctx, guard.Scope{}, "calls", "r1")
		})

		t.Run("paging and sorting", func(t *testing.T) {
			d := open(t)
			s := newTenant(t, d, "A")
			base := time.Now().UTC()
			for i, id := range []string{"a", "b", "c", "d", "e"} {
				if _, _, err := d.CreateRecord(ctx, s, entry("record.create"), row("calls", id, base.Add(time.Duration(i)*time.Second)), nil); err != nil {
					t.Fatal(err)
				}
			}
			var got []string
			q := vault.ListQuery{SortBy: "created_at", Descending: true, Limit: 2}
			for {
				rows, err := d.ListRecords(ctx, s, "calls", q)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range rows {
					got = append(got, r.ID)
				}
				if len(rows) < q.Limit {
					break
				}
				last := rows[len(rows)-1]
				q.After = &vault.Position{Time: last.CreatedAt, ID: last.ID}
			}
			if want := "edcba"; join(got) != want {
				t.Fatalf("descending pages: got %s, want %s", join(got), want)
			}
		})

		t.Run("idempotent create", func(t *testing.T) {
			d := open(t)
			s := newTenant(t, d, "A")
			idem := &vault.Idempotency{Key: "k1", RequestHash: []byte("h1")}
			if _, existing, err := d.CreateRecord(ctx, s, entry("record.create"), row("calls", "r1", time.Now()), idem); err != nil || existing {
				t.Fatalf("first create: existing=%v err=%v", existing, err)
			}
			got, existing, err := d.CreateRecord(ctx, s, entry("record.create"), row("calls", "r2", time.Now()), idem)
			if err != nil || !existing || got.ID != "r1" {
				t.Fatalf("replay: got %s existing=%v err=%v; want r1 existing", got.ID, existing, err)
			}
			_, _, err = d.CreateRecord(ctx, s, entry("record.create"), row("calls", "r3", time.Now()), &vault.Idempotency{Key: "k1", RequestHash: []byte("other")})
			if rempart.ErrorCode(err) != rempart.ECONFLICT {
				t.Fatalf("same key, other body: got %v, want conflict", err)
			}
			if _, err := d.GetRecord(ctx, s, "calls", "r2"); rempart.ErrorCode(err) != rempart.ENOTFOUND {
				t.Fatalf("replay inserted a second record: %v", err)
			}
		})

		t.Run("failed write is undone but audited", func(t *testing.T) {
			d := open(t)
			s := newTenant(t, d, "A")
			boom := rempart.Errorf(rempart.EPRECONDITION, "nope")
			_, err := d.Write(ctx, entry("record.update"), func(tx *db.Tx) error {
				if _, err := tx.Exec(`INSERT INTO records (tenant_id, collection, id, version, created_at, updated_at, data_key_id, ciphertext) VALUES (?, 'calls', 'ghost', 1, 0, 0, 'dk', ?)`, s.TenantID(), []byte("x")); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("got %v, want the op's error", err)
			}
			if _, err := d.GetRecord(ctx, s, "calls", "ghost"); rempart.ErrorCode(err) != rempart.ENOTFOUND {
				t.Fatalf("failed op left its row: %v", err)
			}
			es, err := d.AuditLog(ctx, audit.Query{Limit: 100, Action: "record.update"})
			if err != nil || len(es) != 1 || es[0].Outcome != rempart.OutcomeFailure || es[0].Reason != rempart.EPRECONDITION {
				t.Fatalf("audit of failed op: got %+v, %v; want one failure entry", es, err)
			}
		})

		t.Run("a failing write among many undoes only itself", func(t *testing.T) {
			// Concurrent writes share commits; one of them fails after
			// writing. Whatever the batching, the others commit, the failed
			// one leaves nothing, and every one is audited once.
			d := open(t)
			s := newTenant(t, d, "A")
			boom := rempart.Errorf(rempart.ECONFLICT, "boom")
			const n = 40
			errs := make(chan error, n)
			start := make(chan struct{})
			for i := range n {
				go func() {
					<-start
					_, err := d.Write(ctx, entry("record.create"), func(tx *db.Tx) error {
						if _, err := tx.Exec(`INSERT INTO records (tenant_id, collection, id, version, created_at, updated_at, data_key_id, ciphertext) VALUES (?, 'calls', ?, 1, 0, 0, 'dk', ?)`, s.TenantID(), fmt.Sprintf("r%02d", i), []byte("x")); err != nil {
							return err
						}
						if i == 7 {
							return boom
						}
						return nil
					})
					errs <- err
				}()
			}
			close(start)
			failures := 0
			for range n {
				if err := <-errs; errors.Is(err, boom) {
					failures++
				} else if err != nil {
					t.Fatalf("write: %v", err)
				}
			}
			if failures != 1 {
				t.Fatalf("got %d failed writes, want 1", failures)
			}
			rows, err := d.ListRecords(ctx, s, "calls", vault.ListQuery{Limit: 100})
			if err != nil || len(rows) != n-1 {
				t.Fatalf("records: got %d, %v; want %d", len(rows), err, n-1)
			}
			for _, r := range rows {
				if r.ID == "r07" {
					t.Fatal("the failed write's row was committed")
				}
			}
			es, err := d.AuditLog(ctx, audit.Query{Limit: 1000, Action: "record.create"})
			if err != nil {
				t.Fatal(err)
			}
			outcomes := map[string]int{}
			for _, e := range es {
				outcomes[e.Outcome]++
			}
			if outcomes[rempart.OutcomeSuccess] != n-1 || outcomes[rempart.OutcomeFailure] != 1 {
				t.Fatalf("audit outcomes: got %v, want %d success and 1 failure", outcomes, n-1)
			}
		})

		t.Run("no audit, no write", func(t *testing.T) {
			d := open(t)
			s := newTenant(t, d, "A")
			// Make every audit append fail, as a full disk or a broken
			// table would (AUD-1: fail closed).
			breakAudit(t, d)
			_, _, err := d.CreateRecord(ctx, s, entry("record.create"), row("calls", "r1", time.Now()), nil)
			if rempart.ErrorCode(err) != rempart.EUNAVAILABLE {
				t.Fatalf("write with a broken audit log: got %v, want unavailable", err)
			}
			repairAudit(t, d)
			if _, err := d.GetRecord(ctx, s, "calls", "r1"); rempart.ErrorCode(err) != rempart.ENOTFOUND {
				t.Fatalf("the write happened without its audit entry: %v", err)
			}
		})

		t.Run("revocation, deletion and suspension take effect at once", func(t *testing.T) {
			// Each lookup runs before the change too, so that a cache of
			// credentials (SQLite) would hold the old answer (IAM-8).
			d := open(t)
			s := newTenant(t, d, "A")
			now := time.Now().UTC()
			newKey := func(name string) identity.KeyRow {
				sa := rempart.ServiceAccount{ID: rempart.NewID("sa"), TenantID: s.TenantID(), Name: name, Role: rempart.RoleWriter, CreatedAt: now}
				if err := d.CreateServiceAccount(ctx, s, entry("service_account.create"), sa); err != nil {
					t.Fatal(err)
				}
				k := identity.KeyRow{ID: rempart.NewID("key"), Principal: rempart.Principal{ID: sa.ID, TenantID: sa.TenantID, Role: sa.Role}, Hash: []byte("h"), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
				if err := d.CreateAPIKey(ctx, s, entry("api_key.create"), k); err != nil {
					t.Fatal(err)
				}
				if got, err := d.APIKey(ctx, k.ID); err != nil || got.RevokedAt != nil || got.PrincipalDeleted {
					t.Fatalf("fresh key: got %+v, %v", got, err)
				}
				return k
			}
			k1 := newKey("one")
			if err := d.RevokeAPIKey(ctx, s, entry("api_key.revoke"), k1.Principal.ID, k1.ID); err != nil {
				t.Fatal(err)
			}
			if got, err := d.APIKey(ctx, k1.ID); err != nil || got.RevokedAt == nil {
				t.Fatalf("revoked key: got revoked_at %v, %v; want set", got.RevokedAt, err)
			}
			k2 := newKey("two")
			if err := d.DeleteServiceAccount(ctx, s, entry("service_account.delete"), k2.Principal.ID); err != nil {
				t.Fatal(err)
			}
			if got, err := d.APIKey(ctx, k2.ID); err != nil || got.RevokedAt == nil || !got.PrincipalDeleted {
				t.Fatalf("key of a deleted account: got %+v, %v; want revoked, principal deleted", got, err)
			}
			if ten, err := d.Tenant(ctx, s.TenantID()); err != nil || ten.Status != rempart.TenantActive {
				t.Fatalf("tenant: got %+v, %v", ten, err)
			}
			if _, err := d.SetTenantStatus(ctx, s, entry("tenant.suspend"), rempart.TenantSuspended); err != nil {
				t.Fatal(err)
			}
			if ten, err := d.Tenant(ctx, s.TenantID()); err != nil || ten.Status != rempart.TenantSuspended {
				t.Fatalf("suspended tenant: got %+v, %v; want suspended", ten, err)
			}
			k3 := newKey("three")
			if err := d.DeleteTenant(ctx, s, entry("tenant.delete")); err != nil {
				t.Fatal(err)
			}
			if _, err := d.Tenant(ctx, s.TenantID()); rempart.ErrorCode(err) != rempart.ENOTFOUND {
				t.Fatalf("deleted tenant: got %v, want not_found", err)
			}
			if _, err := d.APIKey(ctx, k3.ID); rempart.ErrorCode(err) != rempart.ENOTFOUND {
				t.Fatalf("key of a deleted tenant: got %v, want not_found", err)
			}
		})

		t.Run("proofs across the layout of migration 2", func(t *testing.T) {
			// A log begun before migration 2 (nodes in audit_nodes, the edge
			// in audit_tree) goes on growing in the new layout; every proof
			// over the whole log still verifies.
			d := open(t)
			for range 23 {
				if _, err := d.Audit(ctx, entry("test.old")); err != nil {
					t.Fatal(err)
				}
			}
			oldSize, oldRoot, err := d.AuditTree(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.LegacyAuditLayoutForTest(); err != nil {
				t.Fatal(err)
			}
			if size, root, err := d.AuditTree(ctx); err != nil || size != oldSize || !bytes.Equal(root, oldRoot) {
				t.Fatalf("tree read from the old layout: got %d %x, %v; want %d %x", size, root, err, oldSize, oldRoot)
			}
			var wg sync.WaitGroup
			for range 41 { // concurrent: several entries per commit
				wg.Go(func() {
					if _, err := d.Audit(ctx, entry("test.new")); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			size, root, err := d.AuditTree(ctx)
			if err != nil || size != 64 {
				t.Fatalf("size: got %d, %v; want 64", size, err)
			}
			read := d.AuditNodes(ctx)
			for idx := range size {
				leaf, err := d.LeafHash(ctx, idx)
				if err != nil {
					t.Fatal(err)
				}
				p, err := audit.InclusionProof(idx, size, read)
				if err != nil {
					t.Fatalf("inclusion proof of %d: %v", idx, err)
				}
				if err := audit.VerifyInclusion(idx, size, leaf, p, root); err != nil {
					t.Fatalf("inclusion of %d: %v", idx, err)
				}
			}
			for _, from := range []uint64{1, 7, 16, 23, 33, 63} {
				p, err := audit.ConsistencyProof(from, size, read)
				if err != nil {
					t.Fatalf("consistency proof %d→%d: %v", from, size, err)
				}
				if from == oldSize {
					if err := audit.VerifyConsistency(from, size, p, oldRoot, root); err != nil {
						t.Fatalf("consistency %d→%d: %v", from, size, err)
					}
				}
			}
		})

		t.Run("merkle log proofs and export", func(t *testing.T) {
			d := open(t)
			for i := 0; i < 37; i++ {
				if _, err := d.Audit(ctx, entry("test.event")); err != nil {
					t.Fatal(err)
				}
			}
			size, root, err := d.AuditTree(ctx)
			if err != nil || size != 37 {
				t.Fatalf("tree size: got %d, %v; want 37", size, err)
			}
			read := d.AuditNodes(ctx)
			for _, idx := range []uint64{0, 1, 17, 36} {
				leaf, err := d.LeafHash(ctx, idx)
				if err != nil {
					t.Fatal(err)
				}
				proof, err := audit.InclusionProof(idx, size, read)
				if err != nil {
					t.Fatal(err)
				}
				if err := audit.VerifyInclusion(idx, size, leaf, proof, root); err != nil {
					t.Fatalf("inclusion of %d: %v", idx, err)
				}
			}
			skey, vkey, err := audit.GenerateKey("test/log")
			if err != nil {
				t.Fatal(err)
			}
			signer, _ := audit.NewSigner(skey)
			cp, _ := signer.Sign(size, root)
			if err := d.SaveCheckpoint(ctx, cp); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := d.ExportAudit(ctx, &buf); err != nil {
				t.Fatal(err)
			}
			rep, err := audit.Verify(&buf, vkey, nil)
			if err != nil || !rep.OK || rep.Entries != 37 {
				t.Fatalf("verify export: got %+v, %v", rep, err)
			}
		})
	})
}

func join(ss []string) string {
	var b bytes.Buffer
	for _, s := range ss {
		b.WriteString(s)
	}
	return b.String()
}
