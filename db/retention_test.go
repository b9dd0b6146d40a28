package db_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/guard"
	"github.com/rempart/rempart/vault"
)

const day = 24 * time.Hour

func setRule(t *testing.T, d *db.DB, s guard.Scope, collection string, restorable, maxAge time.Duration, at time.Time) {
	t.Helper()
	if err := d.SetRetentionRule(ctx, s, entry("retention.set"), vault.RetentionRuleRow{Collection: collection, Restorable: restorable, MaxAge: maxAge, UpdatedAt: at}); err != nil {
		t.Fatal(err)
	}
}

// deleteAt soft-deletes a record as of at.
func deleteAt(t *testing.T, d *db.DB, s guard.Scope, collection, id string, at time.Time) {
	t.Helper()
	if _, err := d.MutateRecord(ctx, s, entry("record.delete"), collection, id, func(r vault.RecordRow) (vault.RecordRow, error) {
		r.Version, r.UpdatedAt, r.DeletedAt = r.Version+1, at, &at
		return r, nil
	}); err != nil {
		t.Fatal(err)
	}
}

func purgeableIDs(t *testing.T, d *db.DB, now, cutoff time.Time) []string {
	t.Helper()
	rs, err := d.PurgeableRecords(ctx, now, cutoff, 100)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	return ids
}

func TestRetentionConformance(t *testing.T) {
	dialects(t, func(t *testing.T, open func(t *testing.T) *db.DB) {
		t.Run("rules are bound to their tenant", func(t *testing.T) {
			d := open(t)
			a, b := newTenant(t, d, "A"), newTenant(t, d, "B")
			now := time.Now().UTC().Truncate(time.Microsecond)
			setRule(t, d, a, "calls", 7*day, 0, now)
			setRule(t, d, a, "", 30*day, 365*day, now)
			setRule(t, d, a, "calls", 14*day, 90*day, now.Add(time.Hour)) // replaces
			got, err := d.RetentionRules(ctx, a)
			want := []vault.RetentionRuleRow{
				{TenantID: a.TenantID(), Collection: "", Restorable: 30 * day, MaxAge: 365 * day, UpdatedAt: now},
				{TenantID: a.TenantID(), Collection: "calls", Restorable: 14 * day, MaxAge: 90 * day, UpdatedAt: now.Add(time.Hour)},
			}
			if err != nil || !slices.Equal(got, want) {
				t.Fatalf("rules: got %+v, %v; want %+v", got, err, want)
			}
			if got, err := d.RetentionRules(ctx, b); err != nil || len(got) != 0 {
				t.Fatalf("other tenant's rules: got %+v, %v; want none", got, err)
			}
			if err := d.DeleteRetentionRule(ctx, b, entry("retention.delete"), "calls"); rempart.ErrorCode(err) != rempart.ENOTFOUND {
				t.Fatalf("delete of another tenant's rule: got %v, want not_found", err)
			}
			if err := d.DeleteRetentionRule(ctx, a, entry("retention.delete"), ""); err != nil {
				t.Fatal(err)
			}
			if err := d.DeleteRetentionRule(ctx, a, entry("retention.delete"), ""); rempart.ErrorCode(err) != rempart.ENOTFOUND {
				t.Fatalf("delete twice: got %v, want not_found", err)
			}
			if rs, err := d.ExpiryRules(ctx); err != nil || len(rs) != 1 || rs[0].Collection != "calls" {
				t.Fatalf("expiry rules: got %+v, %v", rs, err)
			}
			if err := d.DeleteTenant(ctx, a, entry("tenant.delete")); err != nil {
				t.Fatal(err)
			}
			if rs, err := d.ExpiryRules(ctx); err != nil || len(rs) != 0 {
				t.Fatalf("expiry rules after the tenant's deletion: got %+v, %v", rs, err)
			}
		})

		t.Run("purge deadlines follow the rules", func(t *testing.T) {
			d := open(t)
			a, b := newTenant(t, d, "A"), newTenant(t, d, "B")
			t0 := time.Now().UTC()
			for _, r := range []struct {
				s        guard.Scope
				coll, id string
			}{{a, "calls", "a-calls"}, {a, "notes", "a-notes"}, {b, "calls", "b-calls"}} {
				if _, _, err := d.CreateRecord(ctx, r.s, entry("record.create"), row(r.coll, r.id, t0), nil); err != nil {
					t.Fatal(err)
				}
				deleteAt(t, d, r.s, r.coll, r.id, t0)
			}
			// The deployment's retention (cutoff) governs them all.
			if got := purgeableIDs(t, d, t0.Add(time.Hour), t0); !slices.Equal(got, []string{"a-calls", "a-notes", "b-calls"}) {
				t.Fatalf("without rules: got %v", got)
			}
			// A rule of A's calls governs its deleted record at once; the
			// others still follow the cutoff.
			setRule(t, d, a, "calls", 7*day, 0, t0)
			if got := purgeableIDs(t, d, t0.Add(7*day-time.Second), t0); !slices.Equal(got, []string{"a-notes", "b-calls"}) {
				t.Fatalf("inside the 7-day rule: got %v", got)
			}
			if got := purgeableIDs(t, d, t0.Add(7*day), t0.Add(-time.Second)); !slices.Equal(got, []string{"a-calls"}) {
				t.Fatalf("at the end of the 7-day rule: got %v", got)
			}
			// A's default governs its other collections.
			setRule(t, d, a, "", 30*day, 0, t0)
			if got := purgeableIDs(t, d, t0.Add(29*day), t0); !slices.Equal(got, []string{"a-calls", "b-calls"}) {
				t.Fatalf("with A's default: got %v", got)
			}
			rs, err := d.PurgeableRecords(ctx, t0.Add(30*day), t0.Add(-time.Second), 100)
			if err != nil || len(rs) != 2 || rs[0].ID != "a-calls" || rs[0].Window != 7*day || rs[1].ID != "a-notes" || rs[1].Window != 30*day {
				t.Fatalf("windows: got %+v, %v", rs, err)
			}
			// Without the rule, A's calls fall under the default.
			if err := d.DeleteRetentionRule(ctx, a, entry("retention.delete"), "calls"); err != nil {
				t.Fatal(err)
			}
			if got := purgeableIDs(t, d, t0.Add(29*day), t0.Add(-time.Second)); len(got) != 0 {
				t.Fatalf("under the default only: got %v", got)
			}
			// A restored record has no deadline; deleted again, a new one.
			if _, err := d.MutateRecord(ctx, a, entry("record.restore"), "notes", "a-notes", func(r vault.RecordRow) (vault.RecordRow, error) {
				r.Version, r.DeletedAt = r.Version+1, nil
				return r, nil
			}); err != nil {
				t.Fatal(err)
			}
			if got := purgeableIDs(t, d, t0.Add(100*day), t0.Add(100*day)); !slices.Equal(got, []string{"a-calls", "b-calls"}) {
				t.Fatalf("after a restore: got %v", got)
			}
			deleteAt(t, d, a, "notes", "a-notes", t0.Add(10*day))
			if got := purgeableIDs(t, d, t0.Add(40*day-time.Second), t0.Add(-time.Second)); !slices.Equal(got, []string{"a-calls"}) {
				t.Fatalf("deleted again: got %v", got)
			}
			// Purging checks again that the record is due.
			p := vault.PurgeableRecord{TenantID: a.TenantID(), Collection: "notes", ID: "a-notes"}
			if err := d.PurgeRecord(ctx, entry("record.purge"), p, t0.Add(39*day), t0); rempart.ErrorCode(err) != rempart.ECONFLICT {
				t.Fatalf("purge before the deadline: got %v, want conflict", err)
			}
			if err := d.PurgeRecord(ctx, entry("record.purge"), p, t0.Add(40*day), t0); err != nil {
				t.Fatal(err)
			}
			if _, err := d.GetRecord(ctx, a, "notes", "a-notes"); rempart.ErrorCode(err) != rempart.ENOTFOUND {
				t.Fatalf("purged record: got %v, want not_found", err)
			}
		})

		t.Run("attachments follow their collection's rule", func(t *testing.T) {
			d := open(t)
			a := newTenant(t, d, "A")
			t0 := time.Now().UTC()
			for _, id := range []string{"r1", "r2"} {
				if _, _, err := d.CreateRecord(ctx, a, entry("record.create"), row("calls", id, t0), nil); err != nil {
					t.Fatal(err)
				}
			}
			for _, at := range []vault.AttachmentRow{attachmentRow("r1", "own", t0), attachmentRow("r2", "of-record", t0)} {
				if err := d.CreateAttachment(ctx, a, entry("attachment.create"), at, 10); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := d.SetAttachmentDeleted(ctx, a, entry("attachment.delete"), "calls", "r1", "own", &t0, func(vault.AttachmentRow) error { return nil }); err != nil {
				t.Fatal(err)
			}
			deleteAt(t, d, a, "calls", "r2", t0)
			setRule(t, d, a, "calls", 7*day, 0, t0)
			ids := func(now, cutoff time.Time) []string {
				t.Helper()
				rows, err := d.PurgeableAttachments(ctx, now, cutoff, 10)
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, r := range rows {
					if r.Window != 7*day {
						t.Errorf("attachment %s: got window %v, want 7 days", r.ID, r.Window)
					}
					out = append(out, r.ID)
				}
				slices.Sort(out)
				return out
			}
			if got := ids(t0.Add(7*day-time.Second), t0.Add(time.Hour)); len(got) != 0 {
				t.Fatalf("inside the rule, past the cutoff: got %v", got)
			}
			if got := ids(t0.Add(7*day), t0.Add(-time.Hour)); !slices.Equal(got, []string{"of-record", "own"}) {
				t.Fatalf("at the end of the rule: got %v", got)
			}
		})

		t.Run("expiry finds old live records of one collection", func(t *testing.T) {
			d := open(t)
			a, b := newTenant(t, d, "A"), newTenant(t, d, "B")
			t0 := time.Now().UTC()
			for i, r := range []struct {
				s        guard.Scope
				coll, id string
				age      time.Duration
			}{{a, "calls", "old", 40 * day}, {a, "calls", "older", 50 * day}, {a, "calls", "young", day}, {a, "calls", "gone", 60 * day}, {a, "notes", "n", 60 * day}, {b, "calls", "b", 60 * day}, {a, "alpha", "x", 0}} {
				if _, _, err := d.CreateRecord(ctx, r.s, entry("record.create"), row(r.coll, r.id, t0.Add(-r.age)), nil); err != nil {
					t.Fatal(i, err)
				}
			}
			deleteAt(t, d, a, "calls", "gone", t0.Add(-60*day))
			got, err := d.ExpiredRecords(ctx, a, "calls", t0.Add(-30*day), 10)
			if err != nil || !slices.Equal(got, []string{"older", "old"}) {
				t.Fatalf("expired: got %v, %v; want older, old", got, err)
			}
			if got, err := d.ExpiredRecords(ctx, a, "calls", t0.Add(-30*day), 1); err != nil || !slices.Equal(got, []string{"older"}) {
				t.Fatalf("expired, limit 1: got %v, %v", got, err)
			}
			var colls []string
			for c := ""; ; {
				if c, err = d.NextCollection(ctx, a, c); err != nil {
					t.Fatal(err)
				} else if c == "" {
					break
				}
				colls = append(colls, c)
			}
			if !slices.Equal(colls, []string{"alpha", "calls", "notes"}) {
				t.Fatalf("collections: got %v", colls)
			}
		})

		t.Run("the purge reads through indexes", func(t *testing.T) {
			d := open(t)
			for _, q := range db.RetentionQueriesForTest() {
				plan, err := d.PlanForTest(ctx, q)
				if err != nil {
					t.Fatalf("%s: %v", q.Name, err)
				}
				for _, line := range strings.Split(plan, "\n") {
					line = strings.TrimSpace(line)
					if strings.HasPrefix(line, "SCAN ") || strings.Contains(line, "Seq Scan") {
						t.Errorf("%s reads a whole table:\n%s", q.Name, plan)
					}
				}
			}
		})
	})
}

// TestMigration8KeepsDeletedRecordsPurgeable deletes a record under schema 7,
// migrates, and checks that the deployment's retention still governs it
// until a rule is set for its collection.
func TestMigration8KeepsDeletedRecordsPurgeable(t *testing.T) {
	places(t, func(t *testing.T, dsn string) {
		old, err := db.Open(ctx, db.Config{DSN: dsn, Schema: 7})
		if err != nil {
			t.Fatal(err)
		}
		if err := old.ExecForTest(`INSERT INTO tenants (id, name, status, created_at, updated_at) VALUES ('ten_old', 'Old Co', 'active', 1, 1)`); err != nil {
			t.Fatal(err)
		}
		if err := old.ExecForTest(`INSERT INTO records (tenant_id, collection, id, version, created_at, updated_at, deleted_at, data_key_id, ciphertext)
			VALUES ('ten_old', 'calls', 'r1', 2, 1, 1000, 1000, 'dk', 'x')`); err != nil {
			t.Fatal(err)
		}
		old.Close()
		d, err := db.Open(ctx, db.Config{DSN: dsn})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		if got := purgeableIDs(t, d, time.Unix(0, 2000), time.Unix(0, 1000)); !slices.Equal(got, []string{"r1"}) {
			t.Fatalf("after migration: got %v, want r1", got)
		}
		ten, err := d.Tenant(ctx, "ten_old")
		if err != nil {
			t.Fatal(err)
		}
		s, err := guard.Authorize(rempart.Caller{Principal: rempart.Principal{ID: "sa_x", TenantID: ten.ID, Role: rempart.RoleAdmin}}, ten, guard.Retention)
		if err != nil {
			t.Fatal(err)
		}
		setRule(t, d, s, "calls", day, 0, time.Now())
		if got := purgeableIDs(t, d, time.Unix(0, 2000), time.Unix(0, 1000)); len(got) != 0 {
			t.Fatalf("under a 1-day rule: got %v, want none", got)
		}
		if got := purgeableIDs(t, d, time.Unix(0, 1000).Add(day), time.Unix(0, 0)); !slices.Equal(got, []string{"r1"}) {
			t.Fatalf("after the 1-day rule: got %v, want r1", got)
		}
	})
}
