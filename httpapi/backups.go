package httpapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/jobs"
)

// Backups, restore tests and jobs: system administrators only.

func (s *Server) listBackups(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	out, err := s.backups.Records(r.Context(), c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// accepted answers 202 with the job that does the work and where to follow it.
func accepted(w http.ResponseWriter, j rempart.Job) error {
	w.Header().Set("Location", "/api/v1/jobs/"+j.ID)
	return writeJSON(w, http.StatusAccepted, j)
}

func (s *Server) createBackup(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	j, err := s.backups.RequestBackup(r.Context(), c)
	if err != nil {
		return err
	}
	return accepted(w, j)
}

func (s *Server) verifyBackup(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	j, err := s.backups.RequestVerify(r.Context(), c, r.PathValue("backup"))
	if err != nil {
		return err
	}
	return accepted(w, j)
}

func (s *Server) listRestoreTests(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	limit, err := queryInt(r, "limit", 50)
	if err != nil {
		return err
	}
	if limit < 1 || limit > 1000 {
		return rempart.Errorf(rempart.EINVALID, "limit must be between 1 and 1000.")
	}
	out, err := s.backups.History(r.Context(), c, int(limit))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) createRestoreTest(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	j, err := s.backups.RequestRestoreTest(r.Context(), c)
	if err != nil {
		return err
	}
	return accepted(w, j)
}

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	q := r.URL.Query()
	limit, err := queryInt(r, "limit", 100)
	if err != nil {
		return err
	}
	if limit < 1 || limit > 1000 {
		return rempart.Errorf(rempart.EINVALID, "limit must be between 1 and 1000.")
	}
	status, kind := q.Get("status"), q.Get("kind")
	if status != "" && !slices.Contains(jobs.Statuses, status) {
		return rempart.Errorf(rempart.EINVALID, "status must be one of %s.", strings.Join(jobs.Statuses, ", "))
	}
	if len(kind) > 64 || strings.ContainsFunc(kind, func(r rune) bool { return !(r == '.' || r == '_' || r >= 'a' && r <= 'z') }) {
		return rempart.Errorf(rempart.EINVALID, "kind must be a job kind like backup.create.")
	}
	out, err := s.jobs.List(r.Context(), c, jobs.Query{Kind: kind, Status: status, Limit: int(limit)})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	j, err := s.jobs.Get(r.Context(), c, r.PathValue("job"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, j)
}
