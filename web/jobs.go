package web

import (
	"net/http"
	"slices"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/jobs"
)

type jobsPage struct {
	view
	Jobs     []rempart.Job
	Status   string
	Statuses []string
}

// jobs lists background jobs, newest first, with their progress.
func (s *server) jobs(w http.ResponseWriter, r *http.Request, v *visit) error {
	p := jobsPage{view: s.view(r, v, "Jobs", "jobs"), Status: r.URL.Query().Get("status"), Statuses: jobs.Statuses}
	if p.Status != "" && !slices.Contains(jobs.Statuses, p.Status) {
		p.Alert = "Choose a status from the list."
		s.render(w, r, http.StatusBadRequest, "jobs", p)
		return nil
	}
	list, err := s.cfg.Jobs.List(r.Context(), v.caller, jobs.Query{Status: p.Status, Limit: 100})
	if err != nil {
		return err
	}
	p.Jobs = list.Jobs
	s.render(w, r, http.StatusOK, "jobs", p)
	return nil
}
