package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
)

// SystemPrincipal is who the audit log says ended a job: the runner, on
// behalf of no one (as "system:key-rotation" re-wraps keys).
const SystemPrincipal = "system:jobs"

// Handler does one job. It reads its parameters and any saved state from
// run, saves state and progress as it goes, and returns nil when the job is
// done. An error fails the attempt; the job is retried with a growing delay
// until MaxAttempts, then fails for good. A Permanent error fails it at once.
type Handler func(ctx context.Context, run *Run) error

// Permanent marks an error that retrying cannot fix (bad parameters, say).
func Permanent(err error) error { return &permanent{err} }

type permanent struct{ err error }

func (p *permanent) Error() string { return p.err.Error() }
func (p *permanent) Unwrap() error { return p.err }

// Config tunes a Runner.
type Config struct {
	// Owner names this node in leases (default: a random ID).
	Owner string
	// Lease is how long a job stays taken without a renewal (default 1
	// min); the runner renews it every third of that while the job runs.
	Lease time.Duration
	// Poll is how often the runner looks for due jobs (default 1 s).
	Poll time.Duration
	// MaxAttempts before a failing job fails for good (default 5).
	MaxAttempts int
	// Workers is how many jobs run at once on this node (default 2).
	Workers int
}

// Runner claims due jobs and runs their handlers, on a bounded number of
// goroutines, until Close.
type Runner struct {
	store    Store
	clock    rempart.Clock
	logger   *slog.Logger
	cfg      Config
	handlers map[string]Handler
	sched    []Schedule

	mu       sync.Mutex
	enqueued map[string]bool // period keys this node enqueued or found

	wake   chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewRunner returns a runner; register handlers and schedules, then Start.
func NewRunner(store Store, clock rempart.Clock, logger *slog.Logger, cfg Config) *Runner {
	if cfg.Owner == "" {
		cfg.Owner = rempart.NewID("node")
	}
	if cfg.Lease <= 0 {
		cfg.Lease = time.Minute
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 2
	}
	return &Runner{store: store, clock: clock, logger: logger, cfg: cfg, handlers: map[string]Handler{}, enqueued: map[string]bool{}, wake: make(chan struct{}, 1)}
}

// Handle registers the handler of a kind of job.
func (r *Runner) Handle(kind string, h Handler) { r.handlers[kind] = h }

// Enqueue adds a job of kind with params, due at runAfter (zero: now), and
// wakes the runner. With a unique key already used, it returns the existing
// job and created=false.
func (r *Runner) Enqueue(ctx context.Context, c rempart.Caller, kind, uniqueKey string, params any, runAfter time.Time) (Job, bool, error) {
	if _, ok := r.handlers[kind]; !ok {
		return Job{}, false, fmt.Errorf("enqueue: no handler for job kind %q", kind)
	}
	b, err := json.Marshal(params)
	if err != nil {
		return Job{}, false, fmt.Errorf("enqueue %s: %w", kind, err)
	}
	now := r.clock.Now()
	if runAfter.IsZero() {
		runAfter = now
	}
	j := Job{ID: rempart.NewID("job"), Kind: kind, UniqueKey: uniqueKey, Params: b, Status: Queued, RunAfter: runAfter, CreatedAt: now}
	e := rempart.AuditEntry{PrincipalID: c.Principal.ID, CredentialID: c.CredentialID, TenantID: c.Principal.TenantID, IP: c.IP, UserAgent: c.UserAgent, RequestID: c.RequestID,
		Action: "job.enqueue", Resource: "jobs/" + j.ID, Outcome: rempart.OutcomeSuccess, Reason: kind}
	got, created, err := r.store.Enqueue(ctx, e, j)
	if err == nil && created {
		r.Wake()
	}
	return got, created, err
}

// List returns jobs, newest first, to a caller allowed to see them; the
// read is audited.
func (r *Runner) List(ctx context.Context, c rempart.Caller, q Query) (rempart.JobList, error) {
	e := rempart.AuditEntry{PrincipalID: c.Principal.ID, CredentialID: c.CredentialID, IP: c.IP, UserAgent: c.UserAgent, RequestID: c.RequestID,
		Action: "job.list", Resource: "jobs", Outcome: rempart.OutcomeSuccess}
	if err := guard.AuthorizeSystem(c, guard.JobsRead); err != nil {
		e.Outcome, e.Reason = rempart.OutcomeDenied, rempart.ErrorCode(err)
		if _, aerr := r.store.Audit(ctx, e); aerr != nil {
			return rempart.JobList{}, aerr
		}
		return rempart.JobList{}, err
	}
	js, err := r.store.Jobs(ctx, q)
	if err != nil {
		return rempart.JobList{}, err
	}
	if _, err := r.store.Audit(ctx, e); err != nil {
		return rempart.JobList{}, err
	}
	return rempart.JobList{Jobs: js}, nil
}

// Get returns one job to a caller allowed to see it.
func (r *Runner) Get(ctx context.Context, c rempart.Caller, id string) (rempart.Job, error) {
	e := rempart.AuditEntry{PrincipalID: c.Principal.ID, CredentialID: c.CredentialID, IP: c.IP, UserAgent: c.UserAgent, RequestID: c.RequestID,
		Action: "job.read", Resource: "jobs/" + id, Outcome: rempart.OutcomeSuccess}
	if err := guard.AuthorizeSystem(c, guard.JobsRead); err != nil {
		e.Outcome, e.Reason = rempart.OutcomeDenied, rempart.ErrorCode(err)
		if _, aerr := r.store.Audit(ctx, e); aerr != nil {
			return rempart.Job{}, aerr
		}
		return rempart.Job{}, err
	}
	j, err := r.store.Job(ctx, id)
	if rempart.ErrorCode(err) == rempart.ENOTFOUND {
		e.Outcome, e.Reason = rempart.OutcomeDenied, rempart.ENOTFOUND
		if _, aerr := r.store.Audit(ctx, e); aerr != nil {
			return j, aerr
		}
		return j, err
	} else if err != nil {
		return j, err
	}
	_, err = r.store.Audit(ctx, e)
	return j, err
}

// Wake makes the runner look for due jobs now.
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Start runs the workers and the schedules until Close.
func (r *Runner) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	for range r.cfg.Workers {
		r.wg.Go(func() { r.work(ctx) })
	}
	if len(r.sched) > 0 {
		r.wg.Go(func() { r.schedule(ctx) })
	}
}

// Close stops taking jobs, cancels the running ones (their leases run out
// and another node, or this one at its next start, resumes them) and waits.
func (r *Runner) Close() {
	if r.cancel != nil {
		r.cancel()
		r.wg.Wait()
	}
}

func (r *Runner) kinds() []string {
	ks := make([]string, 0, len(r.handlers))
	for k := range r.handlers {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func (r *Runner) work(ctx context.Context) {
	t := time.NewTicker(r.cfg.Poll)
	defer t.Stop()
	for ctx.Err() == nil {
		ran, err := r.RunOne(ctx)
		if err != nil && ctx.Err() == nil {
			r.logger.Error("jobs: claim failed", "error", err.Error())
		}
		if ran {
			continue // there may be more
		}
		select {
		case <-ctx.Done():
		case <-t.C:
		case <-r.wake:
		}
	}
}

// RunOne claims one due job and runs it to its end (or to the end of this
// attempt); ran is false when no job was due. Tests call it directly.
func (r *Runner) RunOne(ctx context.Context) (ran bool, err error) {
	now := r.clock.Now()
	j, ok, err := r.store.Claim(ctx, r.cfg.Owner, r.kinds(), now, now.Add(r.cfg.Lease))
	if err != nil || !ok {
		return false, err
	}
	run := &Run{Job: j, runner: r}
	hctx, cancel := context.WithCancelCause(ctx)
	var renewing sync.WaitGroup
	renewing.Go(func() { r.renew(hctx, cancel, j) })
	herr := r.call(hctx, j, run)
	cancel(nil)
	renewing.Wait()
	lost := errors.Is(context.Cause(hctx), ErrLeaseLost)
	if lost || errors.Is(herr, ErrLeaseLost) || ctx.Err() != nil && herr != nil {
		// Another node has it, or this node is stopping: leave the job
		// to whoever takes it next, from its last saved state.
		return true, nil
	}
	e := rempart.AuditEntry{PrincipalID: SystemPrincipal, Action: "job.finish", Resource: "jobs/" + j.ID, Outcome: rempart.OutcomeSuccess, Reason: j.Kind}
	status, msg, after := Done, "", time.Time{}
	if herr != nil {
		msg = herr.Error()
		var p *permanent
		if j.Attempts >= r.cfg.MaxAttempts || errors.As(herr, &p) {
			status = Failed
			e.Action, e.Outcome = "job.fail", rempart.OutcomeFailure
		} else {
			status = Queued
			after = r.clock.Now().Add(backoff(j.Attempts))
			e.Action, e.Outcome = "job.retry", rempart.OutcomeFailure
		}
		e.Reason = j.Kind + ": " + truncate(msg, 200)
		r.logger.Warn("job attempt failed", "job", j.ID, "kind", j.Kind, "attempt", j.Attempts, "status", status, "error", msg)
	}
	if err := r.store.Finish(context.WithoutCancel(ctx), e, j.ID, r.cfg.Owner, status, msg, after); err != nil && !errors.Is(err, ErrLeaseLost) {
		return true, fmt.Errorf("finish job %s: %w", j.ID, err)
	}
	return true, nil
}

// renew extends the lease of job j every third of the lease until ctx ends,
// so that a step that outlasts the lease without saving (a restore test, a
// migration) keeps the job. If another node took it over, it cancels the
// handler's context with ErrLeaseLost.
func (r *Runner) renew(ctx context.Context, cancel context.CancelCauseFunc, j Job) {
	t := time.NewTicker(max(r.cfg.Lease/3, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := r.store.Renew(ctx, j.ID, r.cfg.Owner, r.clock.Now().Add(r.cfg.Lease))
		if errors.Is(err, ErrLeaseLost) {
			r.logger.Warn("job lease lost to another node: stopping", "job", j.ID, "kind", j.Kind)
			cancel(ErrLeaseLost)
			return
		} else if err != nil && ctx.Err() == nil {
			r.logger.Warn("job lease renewal failed", "job", j.ID, "kind", j.Kind, "error", err.Error())
		}
	}
}

// call runs the handler, turning a panic into a failed attempt.
func (r *Runner) call(ctx context.Context, j Job, run *Run) (err error) {
	h := r.handlers[j.Kind]
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("job %s panicked: %v", j.Kind, p)
		}
	}()
	return h(ctx, run)
}

// backoff is the delay before attempt n+1: 10 s, 40 s, 2.7 min, … ≤ 1 h.
func backoff(attempts int) time.Duration {
	d := 10 * time.Second
	for range attempts - 1 {
		d *= 4
		if d > time.Hour {
			return time.Hour
		}
	}
	return d
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Run is one attempt at a job, given to its handler.
type Run struct {
	Job
	runner *Runner
}

// DecodeParams decodes the job's parameters into v.
func (r *Run) DecodeParams(v any) error {
	if err := json.Unmarshal(r.Params, v); err != nil {
		return Permanent(fmt.Errorf("job %s parameters: %w", r.Kind, err))
	}
	return nil
}

// DecodeState decodes the saved state into v; found is false when the job
// starts from the beginning.
func (r *Run) DecodeState(v any) (found bool, err error) {
	if len(r.State) == 0 || string(r.State) == "null" {
		return false, nil
	}
	if err := json.Unmarshal(r.State, v); err != nil {
		return false, fmt.Errorf("job %s state: %w", r.Kind, err)
	}
	return true, nil
}

// Save durably records where the job is (state, to resume from) and its
// progress, and extends the lease. It fails with ErrLeaseLost if another
// node took the job over; the handler must then stop.
func (r *Run) Save(ctx context.Context, state any, done, total int64) error {
	b, err := json.Marshal(state)
	if err != nil {
		return err
	}
	now := r.runner.clock.Now()
	if err := r.runner.store.Save(ctx, r.ID, r.runner.cfg.Owner, b, done, total, now.Add(r.runner.cfg.Lease)); err != nil {
		return err
	}
	r.State, r.Done, r.Total = b, done, total
	return nil
}
