package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/rempart/rempart"
)

// ListBackups returns the recorded backups and the key that verifies their
// manifests (system admin).
func (c *Client) ListBackups(ctx context.Context) (rempart.BackupList, error) {
	var out rempart.BackupList
	err := c.call(ctx, request{method: http.MethodGet, segs: []string{"backups"}, want: http.StatusOK}, &out)
	return out, err
}

// CreateBackup starts a backup and returns the job taking it (system admin).
func (c *Client) CreateBackup(ctx context.Context) (rempart.Job, error) {
	var out rempart.Job
	err := c.call(ctx, request{method: http.MethodPost, segs: []string{"backups"}, want: http.StatusAccepted}, &out)
	return out, err
}

// VerifyBackup starts the verification of a backup and returns its job.
func (c *Client) VerifyBackup(ctx context.Context, id string) (rempart.Job, error) {
	var out rempart.Job
	err := c.call(ctx, request{method: http.MethodPost, segs: []string{"backups", id, "verify"}, want: http.StatusAccepted}, &out)
	return out, err
}

// ListRestoreTests returns the newest restore tests (limit 0: the server's
// default).
func (c *Client) ListRestoreTests(ctx context.Context, limit int) (rempart.RestoreTestList, error) {
	var out rempart.RestoreTestList
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	err := c.call(ctx, request{method: http.MethodGet, segs: []string{"restore-tests"}, query: q, want: http.StatusOK}, &out)
	return out, err
}

// CreateRestoreTest starts a restore test and returns its job.
func (c *Client) CreateRestoreTest(ctx context.Context) (rempart.Job, error) {
	var out rempart.Job
	err := c.call(ctx, request{method: http.MethodPost, segs: []string{"restore-tests"}, want: http.StatusAccepted}, &out)
	return out, err
}

// JobOptions select jobs; zero values take the server's defaults.
type JobOptions struct {
	Kind   string
	Status string
	Limit  int
}

// ListJobs returns background jobs, newest first (system admin).
func (c *Client) ListJobs(ctx context.Context, opts JobOptions) ([]rempart.Job, error) {
	var out rempart.JobList
	q := url.Values{}
	if opts.Kind != "" {
		q.Set("kind", opts.Kind)
	}
	if opts.Status != "" {
		q.Set("status", opts.Status)
	}
	if opts.Limit > 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	err := c.call(ctx, request{method: http.MethodGet, segs: []string{"jobs"}, query: q, want: http.StatusOK}, &out)
	return out.Jobs, err
}

// GetJob returns a job and its progress.
func (c *Client) GetJob(ctx context.Context, id string) (rempart.Job, error) {
	var out rempart.Job
	err := c.call(ctx, request{method: http.MethodGet, segs: []string{"jobs", id}, want: http.StatusOK}, &out)
	return out, err
}
