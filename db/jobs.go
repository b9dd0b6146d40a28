package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/jobs"
)

const jobCols = `id, kind, unique_key, params, state, status, done, total, attempts, error, run_after, lease_owner, lease_until, created_at, started_at, finished_at`

func scanJob(row interface{ Scan(...any) error }) (jobs.Job, error) {
	var j jobs.Job
	var uk, state, errMsg, owner sql.NullString
	var params string
	var runAfter, created int64
	var lease, started, finished sql.NullInt64
	err := row.Scan(&j.ID, &j.Kind, &uk, &params, &state, &j.Status, &j.Done, &j.Total, &j.Attempts, &errMsg, &runAfter, &owner, &lease, &created, &started, &finished)
	if errors.Is(err, sql.ErrNoRows) {
		return j, rempart.Errorf(rempart.ENOTFOUND, "Job not found.")
	} else if err != nil {
		return j, err
	}
	j.UniqueKey, j.Params, j.Error, j.LeaseOwner = uk.String, json.RawMessage(params), errMsg.String, owner.String
	if state.Valid {
		j.State = json.RawMessage(state.String)
	}
	j.RunAfter, j.CreatedAt = fromTS(runAfter), fromTS(created)
	j.LeaseUntil, j.Started, j.Finished = fromNullTS(lease), fromNullTS(started), fromNullTS(finished)
	return j, nil
}

// errJobExists fails the write of a job whose unique key another holds, so
// that its audit entry records that no job was created.
var errJobExists = rempart.Errorf(rempart.ECONFLICT, "A job with this unique key exists already.")

// Enqueue stores a job, or returns the one holding its unique key.
func (d *DB) Enqueue(ctx context.Context, e rempart.AuditEntry, j jobs.Job) (jobs.Job, bool, error) {
	existing := func() (jobs.Job, error) {
		return scanJob(d.reader(ctx).QueryRow(`SELECT `+jobCols+` FROM jobs WHERE unique_key = ?`, j.UniqueKey))
	}
	if j.UniqueKey != "" {
		// A read first: most nodes find the period's job already there
		// and need no write (nor an audit entry).
		if got, err := existing(); err == nil {
			return got, false, nil
		} else if rempart.ErrorCode(err) != rempart.ENOTFOUND {
			return jobs.Job{}, false, err
		}
	}
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		res, err := tx.Exec(`INSERT INTO jobs (id, kind, unique_key, params, status, run_after, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			j.ID, j.Kind, nullString(j.UniqueKey), string(j.Params), j.Status, ts(j.RunAfter), ts(j.CreatedAt))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errJobExists // another node was faster: audited as a failure
		}
		return nil
	})
	if errors.Is(err, errJobExists) {
		got, err := existing()
		return got, false, err
	} else if err != nil {
		return jobs.Job{}, false, err
	}
	return j, true, nil
}

func kindsIn(kinds []string) (string, []any) {
	args := make([]any, len(kinds))
	for i, k := range kinds {
		args[i] = k
	}
	return "kind IN (?" + strings.Repeat(", ?", len(kinds)-1) + ")", args
}

// Claim leases the oldest due job of one of kinds to owner.
func (d *DB) Claim(ctx context.Context, owner string, kinds []string, now, leaseUntil time.Time) (jobs.Job, bool, error) {
	if len(kinds) == 0 {
		return jobs.Job{}, false, nil
	}
	in, args := kindsIn(kinds)
	due := in + ` AND ((status = 'queued' AND run_after <= ?) OR (status = 'running' AND lease_until < ?))`
	args = append(args, ts(now), ts(now))
	// A read first: most polls find nothing and need no write.
	var id string
	err := d.reader(ctx).QueryRow(`SELECT id FROM jobs WHERE `+due+` ORDER BY run_after, created_at LIMIT 1`, args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return jobs.Job{}, false, nil
	} else if err != nil {
		return jobs.Job{}, false, err
	}
	var j jobs.Job
	claimed := false
	err = d.writeQuiet(ctx, func(tx *Tx) error {
		// The op may run more than once (a failed batch is retried write
		// by write): start from nothing each time.
		j, claimed = jobs.Job{}, false
		res, err := tx.Exec(`UPDATE jobs SET status = 'running', lease_owner = ?, lease_until = ?, attempts = attempts + 1, started_at = COALESCE(started_at, ?)
			WHERE id = ? AND `+due, append([]any{owner, ts(leaseUntil), ts(now), id}, args...)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil // another node was faster
		}
		claimed = true
		j, err = scanJob(tx.QueryRow(`SELECT `+jobCols+` FROM jobs WHERE id = ?`, id))
		return err
	})
	return j, claimed, err
}

// Save records a running job's state and progress and extends its lease.
func (d *DB) Save(ctx context.Context, id, owner string, state json.RawMessage, done, total int64, leaseUntil time.Time) error {
	return d.writeQuiet(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE jobs SET state = ?, done = ?, total = ?, lease_until = ? WHERE id = ? AND lease_owner = ? AND status = 'running'`,
			string(state), done, total, ts(leaseUntil), id, owner)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return jobs.ErrLeaseLost
		}
		return nil
	})
}

// Renew extends a running job's lease, if owner still holds it.
func (d *DB) Renew(ctx context.Context, id, owner string, leaseUntil time.Time) error {
	return d.writeQuiet(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE jobs SET lease_until = ? WHERE id = ? AND lease_owner = ? AND status = 'running'`, ts(leaseUntil), id, owner)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return jobs.ErrLeaseLost
		}
		return nil
	})
}

// Finish ends (or requeues) a job held by owner, with its audit entry.
func (d *DB) Finish(ctx context.Context, e rempart.AuditEntry, id, owner, status, errMsg string, runAfter time.Time) error {
	now := d.clock.Now()
	_, err := d.Write(ctx, e, func(tx *Tx) error {
		var res sql.Result
		var err error
		if status == jobs.Queued {
			res, err = tx.Exec(`UPDATE jobs SET status = ?, error = ?, run_after = ?, lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ? AND status = 'running'`,
				status, nullString(errMsg), ts(runAfter), id, owner)
		} else {
			res, err = tx.Exec(`UPDATE jobs SET status = ?, error = ?, finished_at = ?, lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ? AND status = 'running'`,
				status, nullString(errMsg), ts(now), id, owner)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return jobs.ErrLeaseLost
		}
		return nil
	})
	return err
}

// Job returns one job.
func (d *DB) Job(ctx context.Context, id string) (jobs.Job, error) {
	return scanJob(d.reader(ctx).QueryRow(`SELECT `+jobCols+` FROM jobs WHERE id = ?`, id))
}

// Jobs lists jobs, newest first.
func (d *DB) Jobs(ctx context.Context, q jobs.Query) ([]jobs.Job, error) {
	query := `SELECT ` + jobCols + ` FROM jobs WHERE 1 = 1`
	var args []any
	if q.Kind != "" {
		query += ` AND kind = ?`
		args = append(args, q.Kind)
	}
	if q.Status != "" {
		query += ` AND status = ?`
		args = append(args, q.Status)
	}
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 100
	}
	query += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, q.Limit)
	rows, err := d.reader(ctx).Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []jobs.Job{}
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}
