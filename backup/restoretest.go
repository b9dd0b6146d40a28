package backup

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
)

// RestoreTest is the evidence of one restore test (BCK-2).
type RestoreTest = rempart.RestoreTest

// TestRestore restores the newest complete backup into a scratch database
// from open, checks counts and checksums (as every restore does) and runs
// the offline verifier over the restored audit log with auditKey, then
// records the result as evidence. A failure is also recorded as a security
// event (security.restore_test_failed) for monitoring. cleanup removes the
// scratch database.
func (s *Service) TestRestore(ctx context.Context, open OpenTarget, cleanup func(), auditKey string) (RestoreTest, error) {
	t := RestoreTest{ID: rempart.NewID("rt"), StartedAt: s.clock.Now(), Outcome: rempart.OutcomeSuccess}
	start := time.Now()
	err := s.testRestore(ctx, open, auditKey, &t)
	if cleanup != nil {
		cleanup()
	}
	t.DurationMilli = time.Since(start).Milliseconds()
	system := rempart.Caller{Principal: rempart.Principal{ID: "system:restore-test"}}
	e := system.Entry("", "backup.restore_test", "restore-tests/"+t.ID)
	e.Reason = t.BackupID
	if err != nil {
		t.Outcome, t.Error = rempart.OutcomeFailure, truncate(err.Error(), 1000)
		e.Outcome, e.Reason = rempart.OutcomeFailure, truncate(t.BackupID+": "+err.Error(), 200)
	}
	if rerr := s.store.RestoreTestRecorded(context.WithoutCancel(ctx), e, t); rerr != nil {
		return t, fmt.Errorf("record restore test: %w", rerr)
	}
	if err != nil {
		alert := system.Entry("", "security.restore_test_failed", "restore-tests/"+t.ID)
		alert.Outcome, alert.Reason = rempart.OutcomeFailure, e.Reason
		if _, aerr := s.store.Audit(context.WithoutCancel(ctx), alert); aerr != nil {
			return t, aerr
		}
	}
	return t, nil
}

func (s *Service) testRestore(ctx context.Context, open OpenTarget, auditKey string, t *RestoreTest) error {
	ls, err := s.List(ctx, s.signer.VerifierKey())
	if err != nil {
		return err
	}
	for _, l := range ls {
		if l.Manifest != nil {
			t.BackupID = l.ID
			break
		}
	}
	if t.BackupID == "" {
		return rempart.Errorf(rempart.ENOTFOUND, "There is no complete backup to test.")
	}
	restoreStart := time.Now()
	rep, target, err := s.Restore(ctx, t.BackupID, "", open, RestoreOptions{})
	t.RestoreMilli = time.Since(restoreStart).Milliseconds()
	t.Tables, t.Rows, t.Objects, t.DataBytes = rep.Tables, rep.Rows, rep.Objects, rep.DataBytes
	if target != nil {
		defer target.Close()
	}
	if err != nil {
		return err
	}
	verifyStart := time.Now()
	pr, pw := io.Pipe()
	exported := make(chan struct{})
	go func() {
		defer close(exported)
		pw.CloseWithError(target.ExportAudit(ctx, pw))
	}()
	vr, err := audit.Verify(pr, auditKey, nil)
	pr.Close() // a verifier that stopped early: the export's writes fail now
	// The export reads the scratch database: it must be over before the
	// target is closed and the scratch directory removed.
	<-exported
	t.VerifyMilli = time.Since(verifyStart).Milliseconds()
	t.AuditEntries = vr.Entries
	if err != nil {
		return fmt.Errorf("verify the restored audit log: %w", err)
	}
	if !vr.OK {
		return rempart.Errorf(rempart.EINVALID, "The restored audit log does not verify: %s", vr.Problem)
	}
	if vr.Entries < rep.Manifest.Audit.Size {
		return rempart.Errorf(rempart.EINVALID, "The restored audit log holds %d entries; the backup's checkpoint covers %d.", vr.Entries, rep.Manifest.Audit.Size)
	}
	return nil
}
