package vault

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
)

// Retention rules (GOV-5, BCK-3). A tenant sets, per collection, how long a
// soft-deleted record (with its attachments) stays restorable before the
// purge job removes it, and optionally a maximum age: live records not
// updated for longer are deleted by the purge job. A rule without a
// collection is the tenant's default for its collections without a rule of
// their own; without either, the deployment's retention applies. Values are
// whole days between the bounds the operator sets.

// RetentionRuleRow is a retention rule as stored.
type RetentionRuleRow struct {
	TenantID   string // filled by reads; writes take the scope's tenant
	Collection string // "" for the tenant's default
	Restorable time.Duration
	MaxAge     time.Duration // 0: live records are kept
	UpdatedAt  time.Time
}

// PurgeableRecord is a deleted record whose retention is over.
type PurgeableRecord struct {
	TenantID, Collection, ID string
	DeletedAt                time.Time
	// Window is the restore window that ran out: its tenant's rule, or 0
	// for the deployment's retention.
	Window time.Duration
}

// PurgeableAttachment is an attachment whose retention is over, because it
// or its record was deleted longer ago than Window (0: the deployment's
// retention).
type PurgeableAttachment struct {
	AttachmentRow
	Window time.Duration
}

// RetentionStore is what retention rules need from storage.
type RetentionStore interface {
	// RetentionRules returns the scope's tenant's rules, its default (if
	// any) first, then by collection.
	RetentionRules(ctx context.Context, s guard.Scope) ([]RetentionRuleRow, error)
	// SetRetentionRule stores r for the scope's tenant, recording e with
	// it, and in the same transaction sets again the purge deadline of each
	// deleted record and attachment the rule now governs.
	SetRetentionRule(ctx context.Context, s guard.Scope, e rempart.AuditEntry, r RetentionRuleRow) error
	// DeleteRetentionRule removes a rule ("" : the default), ENOTFOUND if
	// there is none, and sets the deadlines again likewise.
	DeleteRetentionRule(ctx context.Context, s guard.Scope, e rempart.AuditEntry, collection string) error
	// ExpiryRules returns every rule of the tenants that have a rule with a
	// maximum age, by tenant.
	ExpiryRules(ctx context.Context) ([]RetentionRuleRow, error)
	// NextCollection returns the scope's tenant's first collection name
	// after the given one, or "" when there is none.
	NextCollection(ctx context.Context, s guard.Scope, after string) (string, error)
	// ExpiredRecords returns the IDs of at most limit live records of a
	// collection last updated before cutoff, oldest first.
	ExpiredRecords(ctx context.Context, s guard.Scope, collection string, cutoff time.Time, limit int) ([]string, error)
	// PurgeableRecords returns at most limit deleted records, of any
	// tenant and without attachments, whose retention is over: their purge
	// deadline is before now, or they have none and were deleted before
	// cutoff (the deployment's retention).
	PurgeableRecords(ctx context.Context, now, cutoff time.Time, limit int) ([]PurgeableRecord, error)
	// PurgeRecord removes a record found by PurgeableRecords, recording e
	// with it, if it is still purgeable (ECONFLICT otherwise).
	PurgeRecord(ctx context.Context, e rempart.AuditEntry, r PurgeableRecord, now, cutoff time.Time) error
}

const day = 24 * time.Hour

// ceilDays is d in whole days, rounded up.
func ceilDays(d time.Duration) int { return int((d + day - 1) / day) }

func retentionResource(tenant, collection string) string {
	r := "tenants/" + tenant + "/retention"
	if collection != "" {
		r += "/" + collection
	}
	return r
}

func (s *Service) minDays() int { return ceilDays(s.retentionMin) }
func (s *Service) maxDays() int { return int(s.retentionMax / day) }

func toRetentionRule(r RetentionRuleRow) rempart.RetentionRule {
	at := r.UpdatedAt
	return rempart.RetentionRule{Collection: r.Collection, RestorableDays: ceilDays(r.Restorable), MaxAgeDays: ceilDays(r.MaxAge), UpdatedAt: &at}
}

// Retention returns a tenant's retention rules and what applies to its
// collections without one. Tenant administrators read their own tenant's;
// system administrators any tenant's.
func (s *Service) Retention(ctx context.Context, c rempart.Caller, tenant string) (rempart.Retention, error) {
	e := newEntry(c, tenant, "retention.read", retentionResource(tenant, ""))
	scope, err := s.authorize(ctx, c, tenant, guard.Retention, &e)
	if err != nil {
		return rempart.Retention{}, err
	}
	rows, err := s.store.RetentionRules(ctx, scope)
	if err != nil {
		return rempart.Retention{}, err
	}
	out := rempart.Retention{TenantID: tenant, Rules: []rempart.RetentionRule{}, MinDays: s.minDays(), MaxDays: s.maxDays(),
		Default: rempart.RetentionRule{RestorableDays: ceilDays(s.retention)}, DefaultSource: "deployment"}
	for _, r := range rows {
		if r.Collection == "" {
			out.Default, out.DefaultSource = toRetentionRule(r), "tenant"
			continue
		}
		out.Rules = append(out.Rules, toRetentionRule(r))
	}
	e.Reason = fmt.Sprintf("%d rules", len(out.Rules))
	if _, err := s.store.Audit(ctx, e); err != nil {
		return rempart.Retention{}, err
	}
	return out, nil
}

// RuleBody returns a reader of a rule that is already decoded, for
// SetRetentionRule and SetRetentionDefault.
func RuleBody(in rempart.RetentionRuleSet) func(*rempart.RetentionRuleSet) error {
	return func(out *rempart.RetentionRuleSet) error {
		*out = in
		return nil
	}
}

// SetRetentionRule sets the rule of one of a tenant's collections, which need
// not hold records yet. read fills in the rule, typically from the request
// body, once the caller is authorised; its error (a malformed body) is
// refused and audited like a value out of bounds. The rule applies at once
// to records and attachments already deleted, and to the purge job's next
// run.
func (s *Service) SetRetentionRule(ctx context.Context, c rempart.Caller, tenant, collection string, read func(*rempart.RetentionRuleSet) error) (rempart.RetentionRule, error) {
	return s.setRetention(ctx, c, tenant, collection, false, read)
}

// SetRetentionDefault sets a tenant's default rule, for its collections
// without a rule of their own; read as for SetRetentionRule.
func (s *Service) SetRetentionDefault(ctx context.Context, c rempart.Caller, tenant string, read func(*rempart.RetentionRuleSet) error) (rempart.RetentionRule, error) {
	return s.setRetention(ctx, c, tenant, "", true, read)
}

func (s *Service) setRetention(ctx context.Context, c rempart.Caller, tenant, collection string, isDefault bool, read func(*rempart.RetentionRuleSet) error) (rempart.RetentionRule, error) {
	e := newEntry(c, tenant, "retention.set", retentionResource(tenant, collection))
	scope, err := s.authorize(ctx, c, tenant, guard.Retention, &e)
	if err != nil {
		return rempart.RetentionRule{}, err
	}
	if !isDefault {
		if err := checkPath(collection, ""); err != nil {
			return rempart.RetentionRule{}, s.deny(ctx, e, err)
		}
	}
	var in rempart.RetentionRuleSet
	if err := read(&in); err != nil {
		return rempart.RetentionRule{}, s.deny(ctx, e, err)
	}
	if err := s.checkRule(in); err != nil {
		return rempart.RetentionRule{}, s.deny(ctx, e, err)
	}
	row := RetentionRuleRow{TenantID: tenant, Collection: collection, Restorable: time.Duration(in.RestorableDays) * day,
		MaxAge: time.Duration(in.MaxAgeDays) * day, UpdatedAt: s.clock.Now()}
	e.Reason = "restorable " + windowText(row.Restorable) + ", "
	if in.MaxAgeDays > 0 {
		e.Reason += "max age " + windowText(row.MaxAge)
	} else {
		e.Reason += "no max age"
	}
	if err := s.store.SetRetentionRule(ctx, scope, e, row); err != nil {
		return rempart.RetentionRule{}, err
	}
	return toRetentionRule(row), nil
}

// checkRule checks a rule's values against the operator's bounds.
func (s *Service) checkRule(in rempart.RetentionRuleSet) error {
	lo, hi := s.minDays(), s.maxDays()
	if in.RestorableDays < lo || in.RestorableDays > hi {
		return rempart.Errorf(rempart.EINVALID, "restorable_days is required: how many days a deleted record stays restorable, between %d and %d (got %d).", lo, hi, in.RestorableDays)
	}
	if in.MaxAgeDays != 0 && (in.MaxAgeDays < lo || in.MaxAgeDays > hi) {
		return rempart.Errorf(rempart.EINVALID, "max_age_days, if set, must be between %d and %d days (got %d); leave it out to keep live records.", lo, hi, in.MaxAgeDays)
	}
	return nil
}

// DeleteRetentionRule removes the rule of a tenant's collection: the
// tenant's default, or else the deployment's retention, applies to it again.
func (s *Service) DeleteRetentionRule(ctx context.Context, c rempart.Caller, tenant, collection string) error {
	return s.deleteRetention(ctx, c, tenant, collection, false)
}

// DeleteRetentionDefault removes a tenant's default rule: the deployment's
// retention applies again to its collections without a rule.
func (s *Service) DeleteRetentionDefault(ctx context.Context, c rempart.Caller, tenant string) error {
	return s.deleteRetention(ctx, c, tenant, "", true)
}

func (s *Service) deleteRetention(ctx context.Context, c rempart.Caller, tenant, collection string, isDefault bool) error {
	e := newEntry(c, tenant, "retention.delete", retentionResource(tenant, collection))
	scope, err := s.authorize(ctx, c, tenant, guard.Retention, &e)
	if err != nil {
		return err
	}
	if !isDefault {
		if err := checkPath(collection, ""); err != nil {
			return s.deny(ctx, e, err)
		}
	}
	return s.store.DeleteRetentionRule(ctx, scope, e, collection)
}

// ruleFor picks the rule that governs collection among a tenant's rules:
// its own, or the tenant's default; ok is false when neither exists.
func ruleFor(rules []RetentionRuleRow, collection string) (r RetentionRuleRow, ok bool) {
	for _, x := range rules {
		if x.Collection == collection {
			return x, true
		}
		if x.Collection == "" {
			r, ok = x, true
		}
	}
	return r, ok
}

// restoreWindow is how long a deleted record or attachment of a tenant's
// collection stays restorable.
func (s *Service) restoreWindow(ctx context.Context, scope guard.Scope, collection string) (time.Duration, error) {
	rules, err := s.store.RetentionRules(ctx, scope)
	if err != nil {
		return 0, err
	}
	if r, ok := ruleFor(rules, collection); ok {
		return r.Restorable, nil
	}
	return s.retention, nil
}

// errRetentionOver refuses to restore what was deleted longer ago than its
// restore window: the purge job removes it.
func errRetentionOver(what string, window time.Duration) error {
	return rempart.Errorf(rempart.ENOTFOUND, "The %s was deleted more than %s ago: its retention period is over and it can no longer be restored.", what, windowText(window))
}

// windowText says a duration in days when it is whole days.
func windowText(d time.Duration) string {
	if d%day == 0 {
		if d == day {
			return "1 day"
		}
		return fmt.Sprintf("%d days", d/day)
	}
	return d.String()
}

// purgeReason is the audit reason of a purge under window (0: the
// deployment's retention).
func (s *Service) purgeReason(window time.Duration) string {
	if window == 0 {
		return "retention " + s.retention.String()
	}
	return "retention rule: " + windowText(window)
}

// purgeRecords removes, each with its audit entry, the deleted records
// whose retention is over and that have no attachment left.
func (s *Service) purgeRecords(ctx context.Context, now, cutoff time.Time, batch int) (int, error) {
	rows, err := s.store.PurgeableRecords(ctx, now, cutoff, batch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range rows {
		e := rempart.AuditEntry{TenantID: r.TenantID, PrincipalID: "system:purge", Action: "record.purge", Outcome: rempart.OutcomeSuccess,
			Resource: recordResource(r.TenantID, r.Collection, r.ID), Reason: s.purgeReason(r.Window)}
		err := s.store.PurgeRecord(ctx, e, r, now, cutoff)
		switch {
		case rempart.ErrorCode(err) == rempart.ECONFLICT:
			// Restored (or changed) since it was found: audited as a
			// failure, and not an error of the job.
		case err != nil:
			return n, fmt.Errorf("purge record: %w", err)
		default:
			n++
		}
	}
	return n, nil
}

// expire deletes, as the system, the live records older than their
// collection's maximum age: at most batch of them in all. Each is a soft
// delete like a caller's, audited as record.expire, and the record is purged
// once its restore window is over.
func (s *Service) expire(ctx context.Context, now time.Time, batch int) (int, error) {
	rules, err := s.store.ExpiryRules(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	var errs []error
	for len(rules) > 0 && n < batch {
		i := 0
		for i < len(rules) && rules[i].TenantID == rules[0].TenantID {
			i++
		}
		m, err := s.expireTenant(ctx, rules[:i], now, batch-n)
		n += m
		if err != nil {
			// One tenant's failure does not hold back the others'.
			errs = append(errs, fmt.Errorf("expire records of %s: %w", rules[0].TenantID, err))
		}
		rules = rules[i:]
	}
	return n, errors.Join(errs...)
}

// expireTenant applies one tenant's maximum ages.
func (s *Service) expireTenant(ctx context.Context, rules []RetentionRuleRow, now time.Time, limit int) (int, error) {
	t, err := s.store.Tenant(ctx, rules[0].TenantID)
	if rempart.ErrorCode(err) == rempart.ENOTFOUND {
		return 0, nil // deleted meanwhile, with its rules
	} else if err != nil {
		return 0, err
	}
	scope := guard.Maintenance(t, "retention")
	type target struct {
		collection string
		maxAge     time.Duration
	}
	var targets []target
	var def *RetentionRuleRow
	own := map[string]bool{}
	for i, r := range rules {
		if r.Collection == "" {
			def = &rules[i]
			continue
		}
		own[r.Collection] = true
		if r.MaxAge > 0 {
			targets = append(targets, target{r.Collection, r.MaxAge})
		}
	}
	if def != nil && def.MaxAge > 0 {
		// The default governs every collection without a rule: walk the
		// collections, one index seek each.
		for coll := ""; ; {
			if coll, err = s.store.NextCollection(ctx, scope, coll); err != nil {
				return 0, err
			} else if coll == "" {
				break
			}
			if !own[coll] {
				targets = append(targets, target{coll, def.MaxAge})
			}
		}
	}
	n := 0
	for _, tg := range targets {
		if n >= limit {
			break
		}
		cutoff := now.Add(-tg.maxAge)
		ids, err := s.store.ExpiredRecords(ctx, scope, tg.collection, cutoff, limit-n)
		if err != nil {
			return n, err
		}
		for _, id := range ids {
			err := s.expireRecord(ctx, scope, tg.collection, id, cutoff, tg.maxAge)
			switch {
			case rempart.ErrorCode(err) == rempart.ECONFLICT:
				// Updated or deleted since it was found: audited, skipped.
			case err != nil:
				return n, err
			default:
				n++
			}
		}
	}
	return n, nil
}

// expireRecord soft-deletes one record past its maximum age, if it still is.
func (s *Service) expireRecord(ctx context.Context, scope guard.Scope, collection, id string, cutoff time.Time, maxAge time.Duration) error {
	e := newEntry(scope.Caller(), scope.TenantID(), "record.expire", recordResource(scope.TenantID(), collection, id))
	e.Reason = "not updated for more than " + windowText(maxAge) + " (retention rule: max age)"
	dk, err := s.dataKey(ctx, scope, "")
	if err != nil {
		return err
	}
	w := writer{s: s, ctx: ctx, scope: scope, dk: dk, now: s.clock.Now()}
	_, err = s.store.MutateRecord(ctx, scope, e, collection, id, func(cur RecordRow) (RecordRow, error) {
		if cur.DeletedAt != nil || !cur.UpdatedAt.Before(cutoff) {
			return cur, rempart.Errorf(rempart.ECONFLICT, "The record changed since it was found past its maximum age.")
		}
		next, _, err := w.reseal(cur, &w.now)
		return next, err
	})
	return err
}
