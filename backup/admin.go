package backup

import (
	"context"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
)

// Kinds of the jobs that do the backup work (registered by the server).
const (
	KindCreate      = "backup.create"
	KindEscrow      = "backup.escrow"
	KindVerify      = "backup.verify"
	KindRestoreTest = "backup.restore_test"
)

// VerifyParams are a verification job's parameters.
type VerifyParams struct {
	ID string `json:"id"`
}

// Enqueuer starts background work (the jobs runner).
type Enqueuer interface {
	Enqueue(ctx context.Context, c rempart.Caller, kind, uniqueKey string, params any, runAfter time.Time) (rempart.Job, bool, error)
}

// SetEnqueuer gives the service the job runner that does its long work.
func (s *Service) SetEnqueuer(e Enqueuer) { s.jobs = e }

// authorize checks that c may manage backups (system administrators only);
// a refusal is audited.
func (s *Service) authorize(ctx context.Context, c rempart.Caller, action, resource string) (rempart.AuditEntry, error) {
	e := c.Entry("", action, resource)
	if err := guard.AuthorizeSystem(c, guard.BackupsManage); err != nil {
		e.Outcome, e.Reason = rempart.OutcomeDenied, rempart.ErrorCode(err)
		if _, aerr := s.store.Audit(ctx, e); aerr != nil {
			return e, aerr
		}
		return e, err
	}
	return e, nil
}

// RequestBackup starts a backup now, as a job.
func (s *Service) RequestBackup(ctx context.Context, c rempart.Caller) (rempart.Job, error) {
	if _, err := s.authorize(ctx, c, "backup.request", "backups"); err != nil {
		return rempart.Job{}, err
	}
	j, _, err := s.jobs.Enqueue(ctx, c, KindCreate, "", struct{}{}, time.Time{})
	return j, err
}

// RequestVerify starts the verification of backup id, as a job.
func (s *Service) RequestVerify(ctx context.Context, c rempart.Caller, id string) (rempart.Job, error) {
	e, err := s.authorize(ctx, c, "backup.verify_request", "backups/"+id)
	if err != nil {
		return rempart.Job{}, err
	}
	refuse := func(err error) (rempart.Job, error) {
		e.Outcome, e.Reason = rempart.OutcomeDenied, rempart.ErrorCode(err)
		if _, aerr := s.store.Audit(ctx, e); aerr != nil {
			return rempart.Job{}, aerr
		}
		return rempart.Job{}, err
	}
	if !validID(id) {
		return refuse(rempart.Errorf(rempart.EINVALID, "%q is not a backup ID.", id))
	}
	recs, err := s.store.Backups(ctx)
	if err != nil {
		return rempart.Job{}, err
	}
	found := false
	for _, r := range recs {
		found = found || r.ID == id && r.Status == StatusComplete
	}
	if !found {
		return refuse(rempart.Errorf(rempart.ENOTFOUND, "No complete backup %s.", id))
	}
	j, _, err := s.jobs.Enqueue(ctx, c, KindVerify, "", VerifyParams{ID: id}, time.Time{})
	return j, err
}

// RequestRestoreTest starts a restore test now, as a job.
func (s *Service) RequestRestoreTest(ctx context.Context, c rempart.Caller) (rempart.Job, error) {
	if _, err := s.authorize(ctx, c, "restore_test.request", "restore-tests"); err != nil {
		return rempart.Job{}, err
	}
	j, _, err := s.jobs.Enqueue(ctx, c, KindRestoreTest, "", struct{}{}, time.Time{})
	return j, err
}

// Records lists the recorded backups, newest first.
func (s *Service) Records(ctx context.Context, c rempart.Caller) (rempart.BackupList, error) {
	e, err := s.authorize(ctx, c, "backup.list", "backups")
	if err != nil {
		return rempart.BackupList{}, err
	}
	recs, err := s.store.Backups(ctx)
	if err != nil {
		return rempart.BackupList{}, err
	}
	if _, err := s.store.Audit(ctx, e); err != nil {
		return rempart.BackupList{}, err
	}
	return rempart.BackupList{Backups: recs, VerifierKey: s.signer.VerifierKey()}, nil
}

// History lists the newest restore tests (at most limit).
func (s *Service) History(ctx context.Context, c rempart.Caller, limit int) (rempart.RestoreTestList, error) {
	e, err := s.authorize(ctx, c, "restore_test.list", "restore-tests")
	if err != nil {
		return rempart.RestoreTestList{}, err
	}
	ts, err := s.store.RestoreTests(ctx, limit)
	if err != nil {
		return rempart.RestoreTestList{}, err
	}
	if _, err := s.store.Audit(ctx, e); err != nil {
		return rempart.RestoreTestList{}, err
	}
	return rempart.RestoreTestList{RestoreTests: ts}, nil
}
