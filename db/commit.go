package db

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rempart/rempart"
)

// ErrClosed is returned for writes submitted after Close.
var ErrClosed = errors.New("database is closed")

// pending is one write (or audit-only entry) waiting for the group commit.
type pending struct {
	ctx   context.Context
	quiet bool               // bookkeeping: no audit entry
	orig  rempart.AuditEntry // as submitted; entry is reset to it on a retry
	entry rempart.AuditEntry
	op    func(*Tx) error
	err   error // the op's own error (the entry is still recorded)
	done  chan error
}

// committer runs every write of this process through group commits: one
// goroutine takes up to max pending writes, runs each in a savepoint of one
// transaction, appends their audit entries to the Merkle log, and commits once.
type committer struct {
	db    *DB
	max   int
	queue chan *pending

	mu     sync.RWMutex
	closed bool
	wg     sync.WaitGroup
}

func newCommitter(d *DB, max int) *committer {
	c := &committer{db: d, max: max, queue: make(chan *pending, max*4)}
	c.wg.Add(1)
	go c.run()
	return c
}

func (c *committer) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	close(c.queue)
	c.mu.Unlock()
	c.wg.Wait()
}

func (c *committer) submit(p *pending) error {
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return ErrClosed
	}
	select {
	case c.queue <- p:
	case <-p.ctx.Done():
		c.mu.RUnlock()
		return p.ctx.Err()
	}
	c.mu.RUnlock()
	// Once queued, the write is committed or failed by the committer; the
	// caller waits for that answer even if its context ends, so that it never
	// reports failure for a write that became durable.
	return <-p.done
}

func (c *committer) run() {
	defer c.wg.Done()
	batch := make([]*pending, 0, c.max)
	for first := range c.queue {
		batch = append(batch[:0], first)
	fill:
		for len(batch) < c.max {
			select {
			case p, ok := <-c.queue:
				if !ok {
					break fill
				}
				batch = append(batch, p)
			default:
				break fill
			}
		}
		err := c.commit(batch)
		for _, p := range batch {
			switch {
			case err != nil:
				p.done <- err
			default:
				p.done <- p.err
			}
		}
	}
}

// commit runs one batch in one transaction. It first runs every write
// directly; almost always they all succeed and the batch commits. When one
// fails, its partial changes cannot be told apart from the others', so the
// transaction is rolled back and the batch runs again with each write in a
// savepoint of its own, so that a failing write undoes only itself and is
// still recorded. (A savepoint per write in every batch would copy each page
// a write touches into a sub-journal: a sixth of a write's cost.)
func (c *committer) commit(batch []*pending) error {
	m := c.db.metrics
	start := time.Now()
	err, failed := c.try(batch, false)
	if failed {
		m.isolated.Inc()
		err, _ = c.try(batch, true)
	}
	if err != nil {
		m.unavailable.Inc()
	} else {
		m.commit.Observe(since(start))
		m.batch.Observe(float64(len(batch)))
	}
	return err
}

// try runs batch in one transaction; with isolate, each write in a
// savepoint. Without it, it stops and reports failed at the first write
// that fails, having rolled back.
func (c *committer) try(batch []*pending, isolate bool) (err error, failed bool) {
	ctx := context.Background()
	c.db.prepareWanted(ctx)
	sqltx, err := c.db.write.BeginTx(ctx, nil)
	if err != nil {
		return unavailable("begin", err), false
	}
	defer func() {
		if err != nil || failed {
			sqltx.Rollback()
		}
	}()
	tx := &Tx{db: c.db, ctx: ctx, pool: c.db.write, tx: sqltx}
	log, err := c.db.openLog(tx)
	if err != nil {
		return unavailable("audit log", err), false
	}
	for _, p := range batch {
		p.entry, p.err = p.orig, nil
		tx.entry = &p.entry
		switch {
		case p.op == nil:
		case p.ctx.Err() != nil:
			p.err = p.ctx.Err() // its caller gave up before it ran: nothing to undo
		case isolate:
			p.err = runSavepoint(tx, p)
		default:
			if p.err = p.op(tx); p.err != nil {
				return nil, true
			}
		}
		if p.quiet {
			continue
		}
		if p.err != nil {
			p.entry.Outcome = rempart.OutcomeFailure
			if p.entry.Reason == "" {
				p.entry.Reason = rempart.ErrorCode(p.err)
			}
		}
		if err := log.append(&p.entry, c.db.clock); err != nil {
			return unavailable("audit append", err), false
		}
	}
	if err := log.save(); err != nil {
		return unavailable("audit save", err), false
	}
	if err := sqltx.Commit(); err != nil {
		return unavailable("commit", err), false
	}
	if tx.authDirty && c.db.auth != nil {
		c.db.auth.invalidate() // before any writer of the batch is answered
	}
	return nil, false
}

// runSavepoint runs p.op so that its failure undoes only its own changes.
func runSavepoint(tx *Tx, p *pending) error {
	if _, err := tx.Exec("SAVEPOINT w"); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	if err := p.op(tx); err != nil {
		if _, rerr := tx.Exec("ROLLBACK TO SAVEPOINT w"); rerr != nil {
			return errors.Join(err, rerr)
		}
		tx.Exec("RELEASE SAVEPOINT w")
		return err
	}
	if _, err := tx.Exec("RELEASE SAVEPOINT w"); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	return nil
}

func unavailable(what string, err error) error {
	return fmt.Errorf("%s: %w", what, &unavailableError{err})
}

// unavailableError is an infrastructure failure of the commit: the write did
// not happen and neither did its audit entry (AUD-1: fail closed).
type unavailableError struct{ err error }

func (e *unavailableError) Error() string { return e.err.Error() }
func (e *unavailableError) Unwrap() error { return e.err }

// Write runs op and records entry in the same transaction (AUD-1). If op
// fails, its changes are undone and the entry is recorded with outcome
// failure; Write then returns op's error. If the transaction cannot commit,
// neither op nor the entry happened and Write returns an EUNAVAILABLE error.
// The returned entry carries its index in the audit log.
func (d *DB) Write(ctx context.Context, entry rempart.AuditEntry, op func(*Tx) error) (rempart.AuditEntry, error) {
	p := &pending{ctx: ctx, orig: entry, entry: entry, op: op, done: make(chan error, 1)}
	err := d.committer.submit(p)
	var ue *unavailableError
	if errors.As(err, &ue) || errors.Is(err, ErrClosed) {
		return p.entry, &rempart.Error{Code: rempart.EUNAVAILABLE, Message: "The audit log cannot record this request right now; nothing was changed."}
	}
	return p.entry, err
}

// writeQuiet runs op in a commit without an audit entry. It is for
// bookkeeping that is neither access to service data nor a security event
// (a job's progress), never for anything AUD-1 covers.
func (d *DB) writeQuiet(ctx context.Context, op func(*Tx) error) error {
	p := &pending{ctx: ctx, quiet: true, op: op, done: make(chan error, 1)}
	err := d.committer.submit(p)
	var ue *unavailableError
	if errors.As(err, &ue) || errors.Is(err, ErrClosed) {
		return &rempart.Error{Code: rempart.EUNAVAILABLE, Message: "The database cannot take this write right now."}
	}
	return err
}

// Audit records an entry and returns once it is durable. Reads call it before
// answering, so that no read goes unrecorded (AUD-1).
func (d *DB) Audit(ctx context.Context, entry rempart.AuditEntry) (rempart.AuditEntry, error) {
	return d.Write(ctx, entry, nil)
}
