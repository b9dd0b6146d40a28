package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/backup"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/jobs"
	"github.com/rempart/rempart/keys"
	"github.com/rempart/rempart/vault"
)

// Kinds of background jobs.
const (
	jobBackup      = backup.KindCreate
	jobEscrow      = backup.KindEscrow
	jobVerify      = backup.KindVerify
	jobRestoreTest = backup.KindRestoreTest
	// jobPurge removes what retention let go and expires records past their
	// maximum age (BCK-3), at most purgeBatch of each per run, and the
	// sign-in networks past their memory.
	jobPurge   = "retention.purge"
	purgeBatch = 1000
)

// system is the caller of what rempart does by itself.
var system = rempart.Caller{Principal: rempart.Principal{ID: "system:jobs"}}

// schedules reads the schedule settings.
func (m *Main) schedules() ([]jobs.Schedule, error) {
	var out []jobs.Schedule
	for _, s := range []struct{ kind, name, value string }{
		{jobBackup, "backup-schedule", *m.backupSchedule},
		{jobRestoreTest, "restore-test-schedule", *m.restoreTestSchedule},
	} {
		if s.value == "off" {
			continue
		}
		every, at, err := jobs.ParseEvery(s.value)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		out = append(out, jobs.Schedule{Kind: s.kind, Every: every, At: at})
	}
	return out, nil
}

type backupState struct {
	ID string `json:"id,omitempty"`
}

// handleJobs registers the handlers of every kind of job.
func (m *Main) handleJobs(retention time.Duration) {
	b := m.Deployment.Backups
	b.SetEnqueuer(m.Jobs)
	m.Jobs.Handle(jobBackup, func(ctx context.Context, run *jobs.Run) error {
		var st backupState
		if _, err := run.DecodeState(&st); err != nil {
			return err
		}
		if st.ID != "" { // an earlier attempt's process stopped mid-way
			if err := b.Abandon(ctx, system, st.ID); err != nil {
				return err
			}
		}
		_, err := b.Create(ctx, system, backup.CreateOptions{
			Started:  func(id string) error { st.ID = id; return run.Save(ctx, st, 0, 0) },
			Progress: func(n int64) { run.Save(ctx, st, n, 0) },
		})
		if err != nil {
			return err
		}
		_, err = b.Prune(ctx, system, retention)
		return err
	})
	m.Jobs.Handle(jobPurge, func(ctx context.Context, run *jobs.Run) error {
		n, err := m.Vault.Purge(ctx, purgeBatch)
		if err == nil {
			err = run.Save(ctx, nil, int64(n), int64(n))
		}
		if err == nil {
			// The sign-in networks of new-sign-in notices past their
			// 180 days (docs/notices.md).
			_, err = m.Identity.ForgetSignInNetworks(ctx)
		}
		return err
	})
	m.Jobs.Handle(jobEscrow, func(ctx context.Context, run *jobs.Run) error { return b.RefreshEscrow(ctx) })
	m.Jobs.Handle(jobVerify, func(ctx context.Context, run *jobs.Run) error {
		var p backup.VerifyParams
		if err := run.DecodeParams(&p); err != nil {
			return err
		}
		_, err := b.Verify(ctx, p.ID, "", func(n int64) { run.Save(ctx, nil, n, 0) })
		if rempart.ErrorCode(err) == rempart.EINVALID || rempart.ErrorCode(err) == rempart.ENOTFOUND {
			return jobs.Permanent(err) // a damaged backup stays damaged
		}
		return err
	})
	m.Jobs.Handle(keys.KindRootRewrap, func(ctx context.Context, run *jobs.Run) error {
		return m.Rotator.Rewrap(ctx, func(done, total int64) error { return run.Save(ctx, nil, done, total) })
	})
	m.Jobs.Handle(vault.KindReencrypt, func(ctx context.Context, run *jobs.Run) error {
		var p vault.ReencryptParams
		if err := run.DecodeParams(&p); err != nil {
			return err
		}
		return m.TenantKeys.Reencrypt(ctx, p.TenantID, func(done, total int64) error { return run.Save(ctx, nil, done, total) })
	})
	m.Jobs.Handle(jobRestoreTest, func(ctx context.Context, run *jobs.Run) error {
		t, err := m.restoreTest(ctx)
		if err != nil {
			return err
		}
		if t.Outcome != rempart.OutcomeSuccess {
			return jobs.Permanent(errors.New(t.Error)) // recorded as evidence and as a security event
		}
		return nil
	})
}

// restoreTest restores the newest backup into a scratch SQLite database (the
// backup format is the same whatever the database) and checks it (BCK-2).
func (m *Main) restoreTest(ctx context.Context) (backup.RestoreTest, error) {
	dir, err := os.MkdirTemp("", "rempart-restore-test-")
	if err != nil {
		return backup.RestoreTest{}, err
	}
	open := func(ctx context.Context, schema int) (backup.Target, error) {
		return db.OpenRestoreTarget(ctx, "sqlite:"+filepath.Join(dir, "scratch.db"), schema, false)
	}
	return m.Deployment.Backups.TestRestore(ctx, open, func() { os.RemoveAll(dir) }, m.Log.VerifierKey())
}
