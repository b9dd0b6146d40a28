package httpapi

import (
	"net/http"
	"strconv"

	"github.com/rempart/rempart"
)

// Role changes (IAM-10) and access reviews (IAM-9), under /staff for the
// vendor's own accounts and /tenants/{tenant} for a tenant's.

// reviewRoutes registers the routes of one scope prefix; routes.go calls it
// for both.
func (s *Server) reviewRoutes(p string) {
	s.handle("GET "+p+"/role-changes", s.authed, s.listRoleChanges)
	s.handle("POST "+p+"/role-changes", s.authed, s.requestRoleChange)
	s.handle("POST "+p+"/role-changes/{change}/approve", s.authed, s.approveRoleChange)
	s.handle("POST "+p+"/role-changes/{change}/reject", s.authed, s.rejectRoleChange)
	s.handle("GET "+p+"/access-reviews", s.authed, s.listCampaigns)
	s.handle("POST "+p+"/access-reviews", s.authed, s.createCampaign)
	s.handle("GET "+p+"/access-reviews/{campaign}", s.authed, s.getCampaign)
	s.handle("POST "+p+"/access-reviews/{campaign}/items/{principal}", s.authed, s.decideReviewItem)
	s.handle("GET "+p+"/access-reviews/{campaign}/export", s.authed, s.exportCampaign)
}

func (s *Server) listRoleChanges(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	out, err := s.reviews.RoleChanges(r.Context(), c, peopleTenant(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rempart.RoleChangeList{RoleChanges: out})
}

func (s *Server) requestRoleChange(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	var in rempart.RoleChangeCreate
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	out, err := s.reviews.RequestRoleChange(r.Context(), c, peopleTenant(r), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) approveRoleChange(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	return s.decideRoleChange(w, r, c, true)
}

func (s *Server) rejectRoleChange(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	return s.decideRoleChange(w, r, c, false)
}

// decodeDecision reads the optional body of a second person's decision
// (IAM-10): on a role change or an invitation.
func decodeDecision(r *http.Request) (rempart.RoleChangeDecision, error) {
	var in rempart.RoleChangeDecision
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &in); err != nil {
			return in, err
		}
	}
	return in, nil
}

func (s *Server) decideRoleChange(w http.ResponseWriter, r *http.Request, c rempart.Caller, approve bool) error {
	in, err := decodeDecision(r)
	if err != nil {
		return err
	}
	decide := s.reviews.RejectRoleChange
	if approve {
		decide = s.reviews.ApproveRoleChange
	}
	out, err := decide(r.Context(), c, peopleTenant(r), r.PathValue("change"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	out, err := s.reviews.Campaigns(r.Context(), c, peopleTenant(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rempart.CampaignList{Campaigns: out})
}

func (s *Server) createCampaign(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	var in rempart.CampaignCreate
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
	}
	out, err := s.reviews.CreateCampaign(r.Context(), c, peopleTenant(r), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) getCampaign(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	out, err := s.reviews.Campaign(r.Context(), c, peopleTenant(r), r.PathValue("campaign"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) decideReviewItem(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	var in rempart.ReviewDecision
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	out, err := s.reviews.Decide(r.Context(), c, peopleTenant(r), r.PathValue("campaign"), r.PathValue("principal"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// exportCampaign sends a closed campaign's evidence as a download: CSV by
// default, JSON with ?format=json.
func (s *Server) exportCampaign(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "csv"
	}
	body, ctype, name, err := s.reviews.Export(r.Context(), c, peopleTenant(r), r.PathValue("campaign"), format)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(body)
	return err
}
