package httpapi

import (
	"net/http"

	"github.com/rempart/rempart"
)

// Single sign-on providers (IAM-5), of the staff under /staff and of a
// tenant under /tenants/{tenant}. A client secret goes in, never out.

func (s *Server) listSSOProviders(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	out, err := s.identity.SSOProviders(r.Context(), c, peopleTenant(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rempart.SSOProviderList{Providers: out})
}

func (s *Server) createSSOProvider(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	var in rempart.SSOProviderInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	out, err := s.identity.CreateSSOProvider(r.Context(), c, peopleTenant(r), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) getSSOProvider(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	out, err := s.identity.SSOProvider(r.Context(), c, peopleTenant(r), r.PathValue("provider"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) updateSSOProvider(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	var in rempart.SSOProviderInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	out, err := s.identity.UpdateSSOProvider(r.Context(), c, peopleTenant(r), r.PathValue("provider"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteSSOProvider(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	if err := s.identity.DeleteSSOProvider(r.Context(), c, peopleTenant(r), r.PathValue("provider")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
