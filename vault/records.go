package vault

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
	"github.com/rempart/rempart/keys"
)

func recordResource(tenant, collection, id string) string {
	r := "tenants/" + tenant + "/collections/" + collection + "/records"
	if id != "" {
		r += "/" + id
	}
	return r
}

// CreateRecord stores a new record with a server-made ID. With an
// idempotency key, a retry of the same request returns the first result and
// created=false.
func (s *Service) CreateRecord(ctx context.Context, c rempart.Caller, tenant, collection string, data []byte, idemKey string) (rec rempart.Record, created bool, err error) {
	id := rempart.NewID("rec")
	e := newEntry(c, tenant, "record.create", recordResource(tenant, collection, id))
	scope, err := s.authorize(ctx, c, tenant, guard.RecordsWrite, &e)
	if err != nil {
		return rec, false, err
	}
	if err := checkPath(collection, ""); err != nil {
		return rec, false, s.deny(ctx, e, err)
	}
	data, err = s.limits.checkData(data)
	if err != nil {
		return rec, false, s.deny(ctx, e, err)
	}
	var idem *Idempotency
	if idemKey != "" {
		if len(idemKey) > 128 || strings.IndexFunc(idemKey, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0 {
			return rec, false, s.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "Idempotency-Key must be 1 to 128 printable ASCII characters."))
		}
		idem = &Idempotency{Key: idemKey, RequestHash: requestHash(collection, data)}
	}
	now := s.clock.Now()
	row := RecordRow{Collection: collection, ID: id, Version: 1, CreatedAt: now, UpdatedAt: now}
	dk, err := s.dataKey(ctx, scope, "")
	if err != nil {
		return rec, false, err
	}
	seal(dk, scope, &row, data)
	got, existing, err := s.store.CreateRecord(ctx, scope, e, row, idem)
	if err != nil {
		return rec, false, err
	}
	if existing {
		pt, err := s.open(ctx, scope, got)
		if err != nil {
			return rec, false, err
		}
		return toRecord(got, pt), false, nil
	}
	return toRecord(row, data), true, nil
}

// GetRecord returns a live record. The answer leaves only once the read is
// recorded in the audit log (AUD-1).
func (s *Service) GetRecord(ctx context.Context, c rempart.Caller, tenant, collection, id string) (rempart.Record, error) {
	e := newEntry(c, tenant, "record.read", recordResource(tenant, collection, id))
	scope, err := s.authorize(ctx, c, tenant, guard.RecordsRead, &e)
	if err != nil {
		return rempart.Record{}, err
	}
	if err := checkPath(collection, id); err != nil {
		return rempart.Record{}, s.deny(ctx, e, err)
	}
	row, err := s.store.GetRecord(ctx, scope, collection, id)
	if err == nil && row.DeletedAt != nil {
		err = rempart.Errorf(rempart.ENOTFOUND, "Record not found.")
	}
	var pt []byte
	if err == nil {
		pt, err = s.open(ctx, scope, row)
	}
	if err != nil {
		return rempart.Record{}, s.deny(ctx, e, err)
	}
	if _, err := s.store.Audit(ctx, e); err != nil {
		return rempart.Record{}, err
	}
	return toRecord(row, pt), nil
}

// ListOptions selects a page of records.
type ListOptions struct {
	Limit   int    // 1..1000, default 100
	Cursor  string // from the previous page
	Sort    string // created_at (default), -created_at, updated_at, -updated_at
	Deleted bool   // list soft-deleted records (restorable) instead
}

type cursor struct {
	Sort string `json:"s"`
	Time int64  `json:"t"`
	ID   string `json:"i"`
}

func parseListOptions(o ListOptions) (ListQuery, error) {
	q := ListQuery{Limit: o.Limit, SortBy: strings.TrimPrefix(o.Sort, "-"), Descending: strings.HasPrefix(o.Sort, "-"), Deleted: o.Deleted}
	if o.Sort == "" {
		q.SortBy = "created_at"
	}
	if q.SortBy != "created_at" && q.SortBy != "updated_at" {
		return q, rempart.Errorf(rempart.EINVALID, "sort must be one of created_at, -created_at, updated_at, -updated_at.")
	}
	if q.Limit == 0 {
		q.Limit = 100
	}
	if q.Limit < 1 || q.Limit > 1000 {
		return q, rempart.Errorf(rempart.EINVALID, "limit must be between 1 and 1000.")
	}
	if o.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(o.Cursor)
		var cur cursor
		if err != nil || len(b) > 512 || json.Unmarshal(b, &cur) != nil || cur.Sort != sortKey(o.Sort) || !recordIDRE.MatchString(cur.ID) {
			return q, rempart.Errorf(rempart.EINVALID, "The cursor is not valid for this listing; start again without it.")
		}
		q.After = &Position{Time: time.Unix(0, cur.Time).UTC(), ID: cur.ID}
	}
	return q, nil
}

func sortKey(sort string) string {
	if sort == "" {
		return "created_at"
	}
	return sort
}

// ListRecords returns a page of a collection's records, decrypted.
func (s *Service) ListRecords(ctx context.Context, c rempart.Caller, tenant, collection string, o ListOptions) (rempart.RecordList, error) {
	e := newEntry(c, tenant, "record.list", recordResource(tenant, collection, ""))
	scope, err := s.authorize(ctx, c, tenant, guard.RecordsRead, &e)
	if err != nil {
		return rempart.RecordList{}, err
	}
	if err := checkPath(collection, ""); err != nil {
		return rempart.RecordList{}, s.deny(ctx, e, err)
	}
	q, err := parseListOptions(o)
	if err != nil {
		return rempart.RecordList{}, s.deny(ctx, e, err)
	}
	q.Limit++ // one more tells whether there is a next page
	rows, err := s.store.ListRecords(ctx, scope, collection, q)
	if err != nil {
		return rempart.RecordList{}, err
	}
	out := rempart.RecordList{Records: make([]rempart.Record, 0, len(rows))}
	if len(rows) == q.Limit {
		rows = rows[:q.Limit-1]
		last := rows[len(rows)-1]
		t := last.CreatedAt
		if q.SortBy == "updated_at" {
			t = last.UpdatedAt
		}
		b, _ := json.Marshal(cursor{Sort: sortKey(o.Sort), Time: t.UnixNano(), ID: last.ID})
		out.NextCursor = base64.RawURLEncoding.EncodeToString(b)
	}
	for _, row := range rows {
		pt, err := s.open(ctx, scope, row)
		if err != nil {
			return rempart.RecordList{}, s.deny(ctx, e, err)
		}
		out.Records = append(out.Records, toRecord(row, pt))
	}
	e.Reason = strconv.Itoa(len(out.Records)) + " records"
	if _, err := s.store.Audit(ctx, e); err != nil {
		return rempart.RecordList{}, err
	}
	return out, nil
}

// Collections lists the tenant's collection names.
func (s *Service) Collections(ctx context.Context, c rempart.Caller, tenant string) ([]string, error) {
	e := newEntry(c, tenant, "collection.list", "tenants/"+tenant+"/collections")
	scope, err := s.authorize(ctx, c, tenant, guard.RecordsRead, &e)
	if err != nil {
		return nil, err
	}
	names, err := s.store.Collections(ctx, scope)
	if err != nil {
		return nil, err
	}
	if _, err := s.store.Audit(ctx, e); err != nil {
		return nil, err
	}
	return names, nil
}

func checkVersion(cur RecordRow, ifMatch int64) error {
	if ifMatch != 0 && cur.Version != ifMatch {
		return rempart.Errorf(rempart.EPRECONDITION, "The record is at version %d, not %d: fetch it again and retry.", cur.Version, ifMatch)
	}
	return nil
}

// mutate runs a change of one existing record under RecordsWrite. before, if
// not nil, runs once the caller is authorised, outside the write transaction.
func (s *Service) mutate(ctx context.Context, c rempart.Caller, tenant, collection, id, action string, before func(guard.Scope) error, fn func(w writer, cur RecordRow) (RecordRow, []byte, error)) (rempart.Record, error) {
	e := newEntry(c, tenant, action, recordResource(tenant, collection, id))
	scope, err := s.authorize(ctx, c, tenant, guard.RecordsWrite, &e)
	if err != nil {
		return rempart.Record{}, err
	}
	if err := checkPath(collection, id); err != nil {
		return rempart.Record{}, s.deny(ctx, e, err)
	}
	if before != nil {
		if err := before(scope); err != nil {
			return rempart.Record{}, err
		}
	}
	// The active data key is fetched before the write transaction, which
	// then does no key I/O.
	dk, err := s.dataKey(ctx, scope, "")
	if err != nil {
		return rempart.Record{}, err
	}
	var data []byte
	row, err := s.store.MutateRecord(ctx, scope, e, collection, id, func(cur RecordRow) (RecordRow, error) {
		next, d, err := fn(writer{s: s, ctx: ctx, scope: scope, dk: dk, now: s.clock.Now()}, cur)
		data = d
		return next, err
	})
	if err != nil {
		return rempart.Record{}, err
	}
	return toRecord(row, data), nil
}

// ReplaceRecord replaces a live record's data; ifMatch (if not 0) must be its
// current version.
func (s *Service) ReplaceRecord(ctx context.Context, c rempart.Caller, tenant, collection, id string, data []byte, ifMatch int64) (rempart.Record, error) {
	data, verr := s.limits.checkData(data)
	return s.mutate(ctx, c, tenant, collection, id, "record.update", nil, func(w writer, cur RecordRow) (RecordRow, []byte, error) {
		if verr != nil {
			return cur, nil, verr
		}
		if cur.DeletedAt != nil {
			return cur, nil, rempart.Errorf(rempart.ENOTFOUND, "Record not found.")
		}
		if err := checkVersion(cur, ifMatch); err != nil {
			return cur, nil, err
		}
		return w.next(cur, data, nil), data, nil
	})
}

// PatchRecord applies an RFC 7396 merge patch to a live record.
func (s *Service) PatchRecord(ctx context.Context, c rempart.Caller, tenant, collection, id string, patch []byte, ifMatch int64) (rempart.Record, error) {
	_, verr := s.limits.checkData(patch)
	return s.mutate(ctx, c, tenant, collection, id, "record.update", nil, func(w writer, cur RecordRow) (RecordRow, []byte, error) {
		if verr != nil {
			return cur, nil, verr
		}
		if cur.DeletedAt != nil {
			return cur, nil, rempart.Errorf(rempart.ENOTFOUND, "Record not found.")
		}
		if err := checkVersion(cur, ifMatch); err != nil {
			return cur, nil, err
		}
		old, err := w.s.open(w.ctx, w.scope, cur)
		if err != nil {
			return cur, nil, err
		}
		merged, err := mergePatch(old, patch)
		if err != nil {
			return cur, nil, err
		}
		if merged, err = s.limits.checkData(merged); err != nil {
			return cur, nil, err
		}
		return w.next(cur, merged, nil), merged, nil
	})
}

// DeleteRecord soft-deletes a record: it stays restorable for the retention
// period (its tenant's rule for the collection, or the deployment's), then
// the purge job removes it (BCK-3, GOV-5).
func (s *Service) DeleteRecord(ctx context.Context, c rempart.Caller, tenant, collection, id string, ifMatch int64) error {
	_, err := s.mutate(ctx, c, tenant, collection, id, "record.delete", nil, func(w writer, cur RecordRow) (RecordRow, []byte, error) {
		if cur.DeletedAt != nil {
			return cur, nil, rempart.Errorf(rempart.ENOTFOUND, "Record not found.")
		}
		if err := checkVersion(cur, ifMatch); err != nil {
			return cur, nil, err
		}
		return w.reseal(cur, &w.now)
	})
	return err
}

// RestoreRecord brings back a soft-deleted record within the retention period;
// past it, the record is not found, even before the purge job removes it.
func (s *Service) RestoreRecord(ctx context.Context, c rempart.Caller, tenant, collection, id string) (rempart.Record, error) {
	var window time.Duration
	before := func(scope guard.Scope) (err error) {
		window, err = s.restoreWindow(ctx, scope, collection)
		return err
	}
	return s.mutate(ctx, c, tenant, collection, id, "record.restore", before, func(w writer, cur RecordRow) (RecordRow, []byte, error) {
		if cur.DeletedAt == nil {
			return cur, nil, rempart.Errorf(rempart.ECONFLICT, "The record is not deleted.")
		}
		if !w.now.Before(cur.DeletedAt.Add(window)) {
			return cur, nil, errRetentionOver("record", window)
		}
		return w.reseal(cur, nil)
	})
}

// writer makes the next version of a record inside a write transaction.
type writer struct {
	s     *Service
	ctx   context.Context
	scope guard.Scope
	dk    keys.DataKey
	now   time.Time
}

// next returns cur's next version holding data, sealed under the active key.
func (w writer) next(cur RecordRow, data []byte, deleted *time.Time) RecordRow {
	next := cur
	next.Version, next.UpdatedAt, next.DeletedAt = cur.Version+1, w.now, deleted
	seal(w.dk, w.scope, &next, data)
	return next
}

// reseal moves a record to the next version with its data unchanged, so that
// the version bound into the ciphertext is always the stored one.
func (w writer) reseal(cur RecordRow, deleted *time.Time) (RecordRow, []byte, error) {
	data, err := w.s.open(w.ctx, w.scope, cur)
	if err != nil {
		return cur, nil, err
	}
	return w.next(cur, data, deleted), data, nil
}

// Purge removes records and attachments whose retention period is over (their
// tenant's rule, or the deployment's retention), in batches of at most batch
// each, and the objects of deleted tenants; then it deletes, at most batch
// of them, the live records past their collection's maximum age (GOV-5). It
// returns how many records and attachments it removed. Each removal and
// each expiry is audited. Run by the purge job.
func (s *Service) Purge(ctx context.Context, batch int) (int, error) {
	now := s.clock.Now()
	cutoff := now.Add(-s.retention)
	// Attachments first: a record is purged only once it has none left.
	n, aerr := s.purgeAttachments(ctx, now, cutoff, batch)
	m, rerr := s.purgeRecords(ctx, now, cutoff, batch)
	_, eerr := s.expire(ctx, now, batch)
	return n + m, errors.Join(aerr, rerr, eerr)
}
