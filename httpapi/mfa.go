package httpapi

import (
	"net/http"

	"github.com/rempart/rempart"
)

// Second factors (IAM-4): a person's own TOTP devices and recovery codes,
// step-up, and a tenant's MFA requirement.

func (s *Server) myFactors(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	out, err := s.identity.Factors(r.Context(), c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) startTOTP(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	var in rempart.TOTPStart
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	out, err := s.identity.StartTOTP(r.Context(), c, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) confirmFactor(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	var in rempart.MFACode
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	out, err := s.identity.ConfirmTOTP(r.Context(), c, r.PathValue("factor"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) deleteFactor(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	if err := s.identity.DeleteFactor(r.Context(), c, r.PathValue("factor")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) regenerateRecoveryCodes(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	out, err := s.identity.RegenerateRecoveryCodes(r.Context(), c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) verifyMFA(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	var in rempart.MFACode
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.identity.VerifyMFA(r.Context(), c, in); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getMFAPolicy(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	out, err := s.identity.MFAPolicy(r.Context(), c, r.PathValue("tenant"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) putMFAPolicy(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	var in rempart.MFAPolicy
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.identity.SetMFAPolicy(r.Context(), c, r.PathValue("tenant"), in); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, in)
}
