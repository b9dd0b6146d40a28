package db_test

import (
	"slices"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/vault"
)

func attachmentRow(rec, id string, created time.Time) vault.AttachmentRow {
	return vault.AttachmentRow{Collection: "calls", RecordID: rec, ID: id, ObjectKey: "attachments/t/" + id, DataKeyID: "dk",
		SealedMeta: []byte("sealed"), ContentType: "audio/wav", Size: 10, CreatedAt: created}
}

func TestAttachmentsConformance(t *testing.T) {
	dialects(t, func(t *testing.T, open func(t *testing.T) *db.DB) {
		t.Run("attachments are bound to their tenant", func(t *testing.T) {
			d := open(t)
			a, b := newTenant(t, d, "A"), newTenant(t, d, "B")
			now := time.Now().UTC()
			if _, _, err := d.CreateRecord(ctx, a, entry("record.create"), row("calls", "r1", now), nil); err != nil {
				t.Fatal(err)
			}
			if err := d.CreateAttachment(ctx, a, entry("attachment.create"), attachmentRow("r1", "att_1", now), 10); err != nil {
				t.Fatal(err)
			}
			if got, err := d.GetAttachment(ctx, a, "calls", "r1", "att_1"); err != nil || got.TenantID != a.TenantID() || got.RecordDeleted {
				t.Fatalf("own attachment: got %+v, %v", got, err)
			}
			if _, err := d.GetAttachment(ctx, b, "calls", "r1", "att_1"); rempart.ErrorCode(err) != rempart.ENOTFOUND {
				t.Fatalf("other tenant's attachment: got %v, want not_found", err)
			}
			if rows, err := d.ListAttachments(ctx, b, "calls", "r1", false); err != nil || len(rows) != 0 {
				t.Fatalf("other tenant's list: got %d, %v; want none", len(rows), err)
			}
			if _, err := d.SetAttachmentDeleted(ctx, b, entry("attachment.delete"), "calls", "r1", "att_1", &now, func(vault.AttachmentRow) error { return nil }); rempart.ErrorCode(err) != rempart.ENOTFOUND {
				t.Fatalf("other tenant's delete: got %v, want not_found", err)
			}
			if err := d.CreateAttachment(ctx, b, entry("attachment.create"), attachmentRow("r1", "att_2", now), 10); rempart.ErrorCode(err) != rempart.ENOTFOUND {
				t.Fatalf("attachment to another tenant's record: got %v, want not_found", err)
			}
			if err := d.RecordLive(ctx, b, "calls", "r1"); rempart.ErrorCode(err) != rempart.ENOTFOUND {
				t.Fatalf("other tenant's record live: got %v, want not_found", err)
			}
		})

		t.Run("limits, purge order and tenant deletion", func(t *testing.T) {
			d := open(t)
			a := newTenant(t, d, "A")
			now := time.Now().UTC()
			if _, _, err := d.CreateRecord(ctx, a, entry("record.create"), row("calls", "r1", now), nil); err != nil {
				t.Fatal(err)
			}
			for _, id := range []string{"att_1", "att_2"} {
				if err := d.CreateAttachment(ctx, a, entry("attachment.create"), attachmentRow("r1", id, now), 2); err != nil {
					t.Fatal(err)
				}
			}
			if err := d.CreateAttachment(ctx, a, entry("attachment.create"), attachmentRow("r1", "att_3", now), 2); rempart.ErrorCode(err) != rempart.ECONFLICT {
				t.Fatalf("third attachment with a limit of 2: got %v, want conflict", err)
			}
			// A record deleted long ago is not purged while it has
			// attachments; they are purgeable.
			old := now.Add(-time.Hour)
			if _, err := d.MutateRecord(ctx, a, entry("record.delete"), "calls", "r1", func(r vault.RecordRow) (vault.RecordRow, error) {
				r.Version, r.DeletedAt = r.Version+1, &old
				return r, nil
			}); err != nil {
				t.Fatal(err)
			}
			if rs, err := d.PurgeableRecords(ctx, now, now, 10); err != nil || len(rs) != 0 {
				t.Fatalf("purgeable records with attachments: got %+v, %v; want none", rs, err)
			}
			rows, err := d.PurgeableAttachments(ctx, now, now, 10)
			if err != nil || len(rows) != 2 || rows[0].TenantID != a.TenantID() {
				t.Fatalf("purgeable: got %+v, %v; want both", rows, err)
			}
			if err := d.PurgeAttachment(ctx, entry("attachment.purge"), rows[0].AttachmentRow, now, now); err != nil {
				t.Fatal(err)
			}
			if rs, err := d.PurgeableRecords(ctx, now, now, 10); err != nil || len(rs) != 0 {
				t.Fatalf("purgeable records with one attachment left: got %+v, %v; want none", rs, err)
			}
			// The purged row's object is queued for deletion with it (BCK-3).
			if q, err := d.ObjectPurges(ctx, 10); err != nil || !slices.Equal(q, []string{rows[0].ObjectKey}) {
				t.Fatalf("queued objects: got %v, %v; want %s", q, err, rows[0].ObjectKey)
			}
			if err := d.ObjectPurged(ctx, rows[0].ObjectKey); err != nil {
				t.Fatal(err)
			}
			if q, err := d.ObjectPurges(ctx, 10); err != nil || len(q) != 0 {
				t.Fatalf("queue after the object is gone: got %v, %v", q, err)
			}
			// The record is restored after the listing: its attachment is no
			// longer due, and the purge leaves row and object alone.
			if _, err := d.MutateRecord(ctx, a, entry("record.restore"), "calls", "r1", func(r vault.RecordRow) (vault.RecordRow, error) {
				r.Version, r.DeletedAt = r.Version+1, nil
				return r, nil
			}); err != nil {
				t.Fatal(err)
			}
			if err := d.PurgeAttachment(ctx, entry("attachment.purge"), rows[1].AttachmentRow, now, now); rempart.ErrorCode(err) != rempart.ECONFLICT {
				t.Fatalf("purging an attachment restored since the listing: got %v, want conflict", err)
			}
			if q, err := d.ObjectPurges(ctx, 10); err != nil || len(q) != 0 {
				t.Fatalf("a refused purge queued its object: got %v, %v", q, err)
			}
			if got, err := d.GetAttachment(ctx, a, "calls", "r1", rows[1].ID); err != nil || got.ID != rows[1].ID {
				t.Fatalf("the restored record's attachment: got %+v, %v", got, err)
			}
			// Deleting the tenant removes its attachments' rows and lists it
			// for the removal of its objects.
			if err := d.DeleteTenant(ctx, a, entry("tenant.delete")); err != nil {
				t.Fatal(err)
			}
			if rows, err := d.PurgeableAttachments(ctx, now, now, 10); err != nil || len(rows) != 0 {
				t.Fatalf("attachments after tenant deletion: got %d, %v", len(rows), err)
			}
			pending, err := d.TenantObjectPurges(ctx)
			if err != nil || !slices.Equal(pending, []string{a.TenantID()}) {
				t.Fatalf("pending object purges: got %v, %v", pending, err)
			}
			if err := d.TenantObjectsPurged(ctx, entry("attachment.purge"), a.TenantID()); err != nil {
				t.Fatal(err)
			}
			if pending, err := d.TenantObjectPurges(ctx); err != nil || len(pending) != 0 {
				t.Fatalf("pending after purge: got %v, %v", pending, err)
			}
		})
	})
}
