package httpapi

import (
	"net/http"

	"github.com/rempart/rempart"
)

// Keys: the inventory and rotation (ENC-3).

func (s *Server) keyInventory(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	inv, err := s.keys.Inventory(r.Context(), c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, inv)
}

func (s *Server) rotateRoot(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	j, err := s.keys.RotateRoot(r.Context(), c)
	if err != nil {
		return err
	}
	return accepted(w, j)
}

func (s *Server) tenantKeys(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	tk, err := s.tkeys.Inventory(r.Context(), c, r.PathValue("tenant"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, tk)
}

func (s *Server) rotateTenantKeys(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	j, err := s.tkeys.Rotate(r.Context(), c, r.PathValue("tenant"))
	if err != nil {
		return err
	}
	return accepted(w, j)
}

func (s *Server) setCustomerKey(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	var in rempart.CustomerKeySet
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	tk, err := s.tkeys.SetCustomerKey(r.Context(), c, r.PathValue("tenant"), in.URI)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, tk)
}

func (s *Server) removeCustomerKey(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	tk, err := s.tkeys.RemoveCustomerKey(r.Context(), c, r.PathValue("tenant"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, tk)
}
