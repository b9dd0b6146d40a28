package httpapi

import (
	"net/http"

	"github.com/rempart/rempart"
)

// Retention rules (GOV-5): a tenant's, per collection and by default.

func (s *Server) getRetention(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	out, err := s.vault.Retention(r.Context(), c, r.PathValue("tenant"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// ruleBody reads a rule from the request body once the vault has authorised
// the caller, so that a malformed body is refused and audited like a value
// out of bounds.
func ruleBody(r *http.Request) func(*rempart.RetentionRuleSet) error {
	return func(in *rempart.RetentionRuleSet) error { return decodeJSON(r, in) }
}

func (s *Server) setRetentionDefault(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	out, err := s.vault.SetRetentionDefault(r.Context(), c, r.PathValue("tenant"), ruleBody(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteRetentionDefault(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	if err := s.vault.DeleteRetentionDefault(r.Context(), c, r.PathValue("tenant")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) setRetentionRule(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	out, err := s.vault.SetRetentionRule(r.Context(), c, r.PathValue("tenant"), r.PathValue("collection"), ruleBody(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteRetentionRule(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	if err := s.vault.DeleteRetentionRule(r.Context(), c, r.PathValue("tenant"), r.PathValue("collection")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
