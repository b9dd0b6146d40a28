package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/rempart/rempart"
)

// AuditOptions selects a page of audit entries. Zero values take the
// server's defaults (from the start, 100 entries, every action).
type AuditOptions struct {
	Start  uint64 // first index (the whole log) or where to resume
	Cursor string // NextCursor of the previous page; wins over Start
	Limit  int    // 1..1000
	Action string // only entries of this action, such as "record.read"
	// Principal keeps only entries of this principal (usr_…, sa_…).
	Principal string
}

func (o AuditOptions) query() url.Values {
	q := url.Values{}
	if o.Start != 0 {
		q.Set("start", strconv.FormatUint(o.Start, 10))
	}
	if o.Cursor != "" {
		q.Set("cursor", o.Cursor)
	}
	if o.Limit != 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Action != "" {
		q.Set("action", o.Action)
	}
	if o.Principal != "" {
		q.Set("principal", o.Principal)
	}
	return q
}

// TenantAudit returns a page of one tenant's audit trail (tenant admins:
// their own tenant).
func (c *Client) TenantAudit(ctx context.Context, tenant string, opts AuditOptions) (rempart.AuditList, error) {
	var out rempart.AuditList
	err := c.call(ctx, request{method: http.MethodGet, segs: []string{"tenants", tenant, "audit"}, query: opts.query(), want: http.StatusOK}, &out)
	return out, err
}

// AuditEntries returns a page of the whole audit log (system admin).
func (c *Client) AuditEntries(ctx context.Context, opts AuditOptions) (rempart.AuditList, error) {
	var out rempart.AuditList
	err := c.call(ctx, request{method: http.MethodGet, segs: []string{"audit", "entries"}, query: opts.query(), want: http.StatusOK}, &out)
	return out, err
}

// Checkpoint returns the latest signed checkpoint of the audit log and the
// key to verify it with.
func (c *Client) Checkpoint(ctx context.Context) (rempart.Checkpoint, error) {
	var out rempart.Checkpoint
	err := c.call(ctx, request{method: http.MethodGet, segs: []string{"audit", "checkpoint"}, want: http.StatusOK}, &out)
	return out, err
}

// InclusionProof proves that entry index is in the log of the given size.
func (c *Client) InclusionProof(ctx context.Context, index, size uint64) (rempart.Proof, error) {
	var out rempart.Proof
	q := url.Values{"index": {strconv.FormatUint(index, 10)}, "size": {strconv.FormatUint(size, 10)}}
	err := c.call(ctx, request{method: http.MethodGet, segs: []string{"audit", "proofs", "inclusion"}, query: q, want: http.StatusOK}, &out)
	return out, err
}

// ConsistencyProof proves that the log of size from is a prefix of the log
// of size to.
func (c *Client) ConsistencyProof(ctx context.Context, from, to uint64) (rempart.Proof, error) {
	var out rempart.Proof
	q := url.Values{"from": {strconv.FormatUint(from, 10)}, "to": {strconv.FormatUint(to, 10)}}
	err := c.call(ctx, request{method: http.MethodGet, segs: []string{"audit", "proofs", "consistency"}, query: q, want: http.StatusOK}, &out)
	return out, err
}

// Export streams the whole audit log in the offline verifier's JSON Lines
// format to w (system admin). The stream is not bounded in size; bound it
// with ctx if needed.
func (c *Client) Export(ctx context.Context, w io.Writer) error {
	resp, err := c.do(ctx, request{method: http.MethodGet, segs: []string{"audit", "export"}, accept: "application/jsonl, application/problem+json", want: http.StatusOK})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("audit export: %w", err)
	}
	return nil
}
