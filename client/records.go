package client

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"

	"github.com/rempart/rempart"
)

// Record sort orders for ListOptions.Sort.
const (
	SortCreated     = "created_at"
	SortCreatedDesc = "-created_at"
	SortUpdated     = "updated_at"
	SortUpdatedDesc = "-updated_at"
)

// ListOptions selects a page of records. Zero values take the server's
// defaults (100 records, oldest first).
type ListOptions struct {
	Limit   int    // 1..1000
	Cursor  string // NextCursor of the previous page
	Sort    string // one of the Sort constants
	Deleted bool   // list restorable deleted records instead
}

func (o ListOptions) query() url.Values {
	q := url.Values{}
	if o.Limit != 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Cursor != "" {
		q.Set("cursor", o.Cursor)
	}
	if o.Sort != "" {
		q.Set("sort", o.Sort)
	}
	if o.Deleted {
		q.Set("deleted", "true")
	}
	return q
}

// Collections returns the names of a tenant's collections.
func (c *Client) Collections(ctx context.Context, tenant string) ([]string, error) {
	var out rempart.CollectionList
	err := c.call(ctx, request{method: http.MethodGet, segs: []string{"tenants", tenant, "collections"}, want: http.StatusOK}, &out)
	return out.Collections, err
}

// ListRecords returns one page of a collection.
func (c *Client) ListRecords(ctx context.Context, tenant, collection string, opts ListOptions) (rempart.RecordList, error) {
	var out rempart.RecordList
	err := c.call(ctx, request{method: http.MethodGet, segs: recordsPath(tenant, collection), query: opts.query(), want: http.StatusOK}, &out)
	return out, err
}

// AllRecords iterates over a whole collection from opts.Cursor on, fetching
// pages as needed. It stops at the first error, which it yields.
func (c *Client) AllRecords(ctx context.Context, tenant, collection string, opts ListOptions) iter.Seq2[rempart.Record, error] {
	return func(yield func(rempart.Record, error) bool) {
		for {
			page, err := c.ListRecords(ctx, tenant, collection, opts)
			if err != nil {
				yield(rempart.Record{}, err)
				return
			}
			for _, r := range page.Records {
				if !yield(r, nil) {
					return
				}
			}
			if page.NextCursor == "" || page.NextCursor == opts.Cursor {
				return
			}
			opts.Cursor = page.NextCursor
		}
	}
}

// CreateRecord stores data (any value encoding to a JSON object;
// json.RawMessage and []byte are sent as they are) as a new record. A
// non-empty idempotencyKey makes the call safe to retry: the same key and
// body answer the record first created.
func (c *Client) CreateRecord(ctx context.Context, tenant, collection string, data any, idempotencyKey string) (rempart.Record, error) {
	var out rempart.Record
	b, err := jsonBody(data)
	if err != nil {
		return out, err
	}
	req := request{method: http.MethodPost, segs: recordsPath(tenant, collection), body: b, want: http.StatusCreated}
	if idempotencyKey != "" {
		req.header = http.Header{"Idempotency-Key": {idempotencyKey}}
	}
	err = c.call(ctx, req, &out)
	return out, err
}

// GetRecord reads one record.
func (c *Client) GetRecord(ctx context.Context, tenant, collection, id string) (rempart.Record, error) {
	var out rempart.Record
	err := c.call(ctx, request{method: http.MethodGet, segs: recordPath(tenant, collection, id), want: http.StatusOK}, &out)
	return out, err
}

// ReplaceRecord replaces a record's data. A non-zero ifMatch is sent as
// If-Match: the server answers 412 (rempart.EPRECONDITION) when the record
// is at another version.
func (c *Client) ReplaceRecord(ctx context.Context, tenant, collection, id string, data any, ifMatch int64) (rempart.Record, error) {
	return c.writeRecord(ctx, http.MethodPut, "application/json", tenant, collection, id, data, ifMatch)
}

// PatchRecord applies a JSON merge patch (RFC 7396) to a record's data;
// ifMatch as for ReplaceRecord.
func (c *Client) PatchRecord(ctx context.Context, tenant, collection, id string, patch any, ifMatch int64) (rempart.Record, error) {
	return c.writeRecord(ctx, http.MethodPatch, "application/merge-patch+json", tenant, collection, id, patch, ifMatch)
}

func (c *Client) writeRecord(ctx context.Context, method, contentType, tenant, collection, id string, data any, ifMatch int64) (rempart.Record, error) {
	var out rempart.Record
	b, err := jsonBody(data)
	if err != nil {
		return out, err
	}
	req := request{method: method, segs: recordPath(tenant, collection, id), body: b, contentType: contentType, header: ifMatchHeader(ifMatch), want: http.StatusOK}
	err = c.call(ctx, req, &out)
	return out, err
}

// DeleteRecord soft-deletes a record (restorable for the retention period);
// ifMatch as for ReplaceRecord.
func (c *Client) DeleteRecord(ctx context.Context, tenant, collection, id string, ifMatch int64) error {
	return c.call(ctx, request{method: http.MethodDelete, segs: recordPath(tenant, collection, id), header: ifMatchHeader(ifMatch), want: http.StatusNoContent}, nil)
}

// RestoreRecord undeletes a soft-deleted record.
func (c *Client) RestoreRecord(ctx context.Context, tenant, collection, id string) (rempart.Record, error) {
	var out rempart.Record
	err := c.call(ctx, request{method: http.MethodPost, segs: append(recordPath(tenant, collection, id), "restore"), want: http.StatusOK}, &out)
	return out, err
}

func recordsPath(tenant, collection string) []string {
	return []string{"tenants", tenant, "collections", collection, "records"}
}

func recordPath(tenant, collection, id string) []string {
	return []string{"tenants", tenant, "collections", collection, "records", id}
}

func ifMatchHeader(version int64) http.Header {
	if version == 0 {
		return nil
	}
	return http.Header{"If-Match": {`"` + strconv.FormatInt(version, 10) + `"`}}
}
