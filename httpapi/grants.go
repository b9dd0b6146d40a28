package httpapi

import (
	"net/http"

	"github.com/rempart/rempart"
)

// Staff access grants (IAM-7): staff ask for, approve, deny and revoke them
// under /grants; a tenant's admins see them with every access made under
// each (access transparency), approve them when the tenant requires it, and
// revoke them under /tenants/{tenant}/grants.

func (s *Server) listGrants(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	out, err := s.grants.List(r.Context(), c, r.URL.Query().Get("tenant"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rempart.GrantList{Grants: out})
}

func (s *Server) requestGrant(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	var in rempart.GrantCreate
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	g, err := s.grants.Request(r.Context(), c, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, g)
}

func (s *Server) getGrant(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	g, err := s.grants.Get(r.Context(), c, r.PathValue("grant"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, g)
}

func (s *Server) approveGrant(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	g, err := s.grants.Approve(r.Context(), c, r.PathValue("grant"))
	return s.grantAnswer(w, g, err)
}

func (s *Server) denyGrant(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	g, err := s.grants.Deny(r.Context(), c, r.PathValue("grant"))
	return s.grantAnswer(w, g, err)
}

func (s *Server) revokeGrant(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	g, err := s.grants.Revoke(r.Context(), c, r.PathValue("grant"))
	return s.grantAnswer(w, g, err)
}

func (s *Server) tenantGrants(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	out, err := s.grants.TenantGrants(r.Context(), c, r.PathValue("tenant"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rempart.GrantList{Grants: out})
}

func (s *Server) tenantGrant(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	out, err := s.grants.TenantGrant(r.Context(), c, r.PathValue("tenant"), r.PathValue("grant"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) tenantApproveGrant(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	g, err := s.grants.TenantApprove(r.Context(), c, r.PathValue("tenant"), r.PathValue("grant"))
	return s.grantAnswer(w, g, err)
}

func (s *Server) tenantDenyGrant(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	g, err := s.grants.TenantDeny(r.Context(), c, r.PathValue("tenant"), r.PathValue("grant"))
	return s.grantAnswer(w, g, err)
}

func (s *Server) tenantRevokeGrant(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	g, err := s.grants.TenantRevoke(r.Context(), c, r.PathValue("tenant"), r.PathValue("grant"))
	return s.grantAnswer(w, g, err)
}

// grantAnswer answers a change of a grant with the grant as it now is.
func (s *Server) grantAnswer(w http.ResponseWriter, g rempart.Grant, err error) error {
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, g)
}

func (s *Server) getGrantSettings(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	out, err := s.grants.Settings(r.Context(), c, r.PathValue("tenant"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) setGrantSettings(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	var in rempart.GrantSettings
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	out, err := s.grants.SetSettings(r.Context(), c, r.PathValue("tenant"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}
