package vault

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rempart/rempart"
)

// purgeAttachments removes, row first (with its audit entry, re-checking it
// is still due) and then object, the attachments whose retention is over: soft-deleted, or of
// a record soft-deleted, longer ago than their tenant's rule says (or before
// cutoff, the deployment's retention, without a rule), so that the record
// can be purged next. It first finishes the removal of deleted tenants'
// objects.
func (s *Service) purgeAttachments(ctx context.Context, now, cutoff time.Time, batch int) (int, error) {
	if s.objects == nil {
		return 0, nil
	}
	var errs []error
	tenants, err := s.store.TenantObjectPurges(ctx)
	if err != nil {
		return 0, err
	}
	for _, t := range tenants {
		if err := s.purgeTenantObjects(ctx, t); err != nil {
			errs = append(errs, err)
			break
		}
	}
	if err := s.deleteQueuedObjects(ctx, batch); err != nil {
		return 0, errors.Join(append(errs, err)...)
	}
	rows, err := s.store.PurgeableAttachments(ctx, now, cutoff, batch)
	if err != nil {
		return 0, errors.Join(append(errs, err)...)
	}
	n := 0
	for _, row := range rows {
		reason := s.purgeReason(row.Window)
		if row.DeletedAt == nil {
			reason += ", record deleted"
		}
		e := rempart.AuditEntry{TenantID: row.TenantID, PrincipalID: "system:purge", Action: "attachment.purge", Outcome: rempart.OutcomeSuccess,
			Resource: attachmentResource(row.TenantID, row.Collection, row.RecordID, row.ID), Reason: reason}
		err := s.store.PurgeAttachment(ctx, e, row.AttachmentRow, now, cutoff)
		if rempart.ErrorCode(err) == rempart.ECONFLICT {
			continue // restored, or kept longer, since it was listed
		} else if err != nil {
			errs = append(errs, err)
			break
		}
		n++
	}
	if err := s.deleteQueuedObjects(ctx, batch); err != nil {
		errs = append(errs, err)
	}
	return n, errors.Join(errs...)
}

// deleteQueuedObjects deletes the objects of purged attachment rows, at
// most batch of them; one that fails stays queued for the next purge.
func (s *Service) deleteQueuedObjects(ctx context.Context, batch int) error {
	keys, err := s.store.ObjectPurges(ctx, batch)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := s.objects.Delete(ctx, k); err != nil {
			return fmt.Errorf("purge attachment object %s: %w", k, err)
		}
		if err := s.store.ObjectPurged(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

// purgeTenantObjects deletes every object under a deleted tenant's prefix,
// referenced or not (an upload cut short by a crash can leave one), then
// records that it is done (GOV-5).
func (s *Service) purgeTenantObjects(ctx context.Context, tenant string) error {
	e := rempart.AuditEntry{TenantID: tenant, PrincipalID: "system:purge", Action: "attachment.purge", Outcome: rempart.OutcomeSuccess, Resource: "tenants/" + tenant + "/attachments"}
	if !keySegmentRE.MatchString(tenant) { // no object can have been stored for it
		e.Reason = "tenant deleted: no objects"
		return s.store.TenantObjectsPurged(ctx, e, tenant)
	}
	objs, err := s.objects.Keys(ctx, tenantPrefix(tenant))
	if err != nil {
		return fmt.Errorf("list attachments of deleted tenant %s: %w", tenant, err)
	}
	for _, k := range objs {
		if err := s.objects.Delete(ctx, k); err != nil {
			return fmt.Errorf("delete attachments of deleted tenant %s: %w", tenant, err)
		}
	}
	e.Reason = fmt.Sprintf("tenant deleted: %d objects", len(objs))
	return s.store.TenantObjectsPurged(ctx, e, tenant)
}
