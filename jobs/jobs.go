// Package jobs runs rempart's background work — key rotations and
// re-encryption, backups and their restore tests, purges — coordinated through
// the database, so that any node can run any job and a job whose node dies
// resumes on another (BCK-4).
//
// A job is a row: its kind, its parameters, and its state (where to resume),
// which the handler saves as it goes together with its progress. A node takes
// a job by leasing it for a while and renews the lease while the handler runs
// (every third of the lease, and at each save), so a long step does not let
// another node take the job; a job whose lease ran out — its node died — is
// taken again, by any node, from its last saved state. A node that finds its
// lease lost cancels the handler's context. Handlers must therefore be resumable: doing again the work done
// since the last save must be harmless.
//
// Schedules enqueue periodic jobs (the daily backup, the monthly restore
// test) under a key naming the period, which the database keeps unique: a
// period's job is enqueued once however many nodes try.
//
// Enqueueing and the end of every job are recorded in the audit log (AUD-1);
// progress saves are bookkeeping and are not.
package jobs

import (
	"context"
	"encoding/json"
	"time"

	"github.com/rempart/rempart"
)

// Statuses of a job.
const (
	Queued  = "queued"
	Running = "running"
	Done    = "done"
	Failed  = "failed"
)

// Statuses are a job's statuses, in the order a job goes through them.
var Statuses = []string{Queued, Running, Done, Failed}

// Job is one unit of background work.
type Job = rempart.Job

// Query selects jobs for listing: newest first.
type Query struct {
	Kind   string
	Status string
	Limit  int
}

// Store keeps jobs. Every method is atomic.
type Store interface {
	// Enqueue stores j. When j.UniqueKey is already taken it stores nothing
	// and returns the existing job with created=false.
	Enqueue(ctx context.Context, e rempart.AuditEntry, j Job) (got Job, created bool, err error)
	// Claim leases to owner, until leaseUntil, the oldest job of one of kinds
	// that is due at now: queued with RunAfter ≤ now, or running with a
	// lease that ran out. It increments the job's attempts. ok is false when
	// no job is due.
	Claim(ctx context.Context, owner string, kinds []string, now, leaseUntil time.Time) (j Job, ok bool, err error)
	// Save records a running job's state and progress and extends its lease,
	// if owner still holds it; otherwise it fails with ErrLeaseLost.
	Save(ctx context.Context, id, owner string, state json.RawMessage, done, total int64, leaseUntil time.Time) error
	// Renew extends a running job's lease, if owner still holds it;
	// otherwise it fails with ErrLeaseLost.
	Renew(ctx context.Context, id, owner string, leaseUntil time.Time) error
	// Finish ends a job held by owner: Done, Failed, or Queued again (to be
	// retried at runAfter) with its error, and records e.
	Finish(ctx context.Context, e rempart.AuditEntry, id, owner, status, errMsg string, runAfter time.Time) error
	Job(ctx context.Context, id string) (Job, error)
	Jobs(ctx context.Context, q Query) ([]Job, error)
	Audit(ctx context.Context, e rempart.AuditEntry) (rempart.AuditEntry, error)
}

// ErrLeaseLost reports that another node took over a job (its lease had run
// out): the handler must stop.
var ErrLeaseLost = &rempart.Error{Code: rempart.ECONFLICT, Message: "The job's lease was lost to another node."}
