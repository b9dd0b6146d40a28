package web

import (
	"net/http"

	"github.com/rempart/rempart"
)

// Backups and restore tests (BCK-1, BCK-2): system administrators.

// restoreHistory is how many restore tests the backups page shows.
const restoreHistory = 50

type backupsPage struct {
	view
	Backups rempart.BackupList
	Tests   []rempart.RestoreTest
	Chart   chart
}

func (s *server) backups(w http.ResponseWriter, r *http.Request, v *visit) error {
	ctx := r.Context()
	list, err := s.cfg.Backups.Records(ctx, v.caller)
	if err != nil {
		return err
	}
	hist, err := s.cfg.Backups.History(ctx, v.caller, restoreHistory)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "backups", backupsPage{view: s.view(r, v, "Backups", "backups"),
		Backups: list, Tests: hist.RestoreTests, Chart: restoreChart(hist.RestoreTests)})
	return nil
}

func (s *server) createBackup(w http.ResponseWriter, r *http.Request, v *visit) error {
	if _, err := s.cfg.Backups.RequestBackup(r.Context(), v.caller); err != nil {
		return err
	}
	redirect(w, r, "/backups", "backup-started")
	return nil
}

func (s *server) verifyBackup(w http.ResponseWriter, r *http.Request, v *visit) error {
	if _, err := s.cfg.Backups.RequestVerify(r.Context(), v.caller, r.PathValue("backup")); err != nil {
		return err
	}
	redirect(w, r, "/backups", "verify-started")
	return nil
}

func (s *server) createRestoreTest(w http.ResponseWriter, r *http.Request, v *visit) error {
	if _, err := s.cfg.Backups.RequestRestoreTest(r.Context(), v.caller); err != nil {
		return err
	}
	redirect(w, r, "/backups", "restore-started")
	return nil
}
