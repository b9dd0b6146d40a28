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

// Security keys (WebAuthn) over the API: enrolment, the second step of a
// sign-in, and step-up. Each ceremony is two calls: options and a sealed
// state, then the browser's answer with that state.

// maxCeremonyBody bounds the body of a ceremony's call: a security key's
// answer is a few KiB at most.
const maxCeremonyBody = 64 << 10

// decodeCeremony decodes the body of a ceremony's call, bounded by
// maxCeremonyBody; a refused body is audited under action.
func (s *Server) decodeCeremony(w http.ResponseWriter, r *http.Request, c rempart.Caller, action string, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxCeremonyBody)
	if err := decodeJSON(r, v); err != nil {
		return s.identity.Refused(r.Context(), c, action, "malformed request: "+rempart.ErrorCode(err), err)
	}
	return nil
}

func (s *Server) startWebAuthn(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	var in rempart.WebAuthnStart
	if err := s.decodeCeremony(w, r, c, "mfa.webauthn.start", &in); err != nil {
		return err
	}
	opts, state, err := s.identity.BeginWebAuthnRegistration(r.Context(), c, in.Name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rempart.WebAuthnOptions{Options: opts, State: state})
}

func (s *Server) finishWebAuthn(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	var in rempart.WebAuthnAnswer
	if err := s.decodeCeremony(w, r, c, "mfa.webauthn.register", &in); err != nil {
		return err
	}
	out, err := s.identity.FinishWebAuthnRegistration(r.Context(), c, in.State, in.Credential)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) signInWebAuthnOptions(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	var in rempart.SignInChallenge
	if err := s.decodeCeremony(w, r, c, "auth.sign_in", &in); err != nil {
		return err
	}
	opts, state, err := s.identity.BeginWebAuthnLogin(r.Context(), c, in.Challenge, rempart.SessionAPI)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rempart.WebAuthnOptions{Options: opts, State: state})
}

func (s *Server) signInWebAuthn(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	var in rempart.SignInWebAuthn
	if err := s.decodeCeremony(w, r, c, "auth.sign_in", &in); err != nil {
		return err
	}
	out, err := s.identity.CompleteSignInWebAuthn(r.Context(), c, in.Challenge, in.State, in.Credential, rempart.SessionAPI)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) signInCode(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	var in rempart.SignInCode
	if err := s.decodeCeremony(w, r, c, "auth.sign_in", &in); err != nil {
		return err
	}
	out, err := s.identity.CompleteSignIn(r.Context(), c, in.Challenge, in.Code, rempart.SessionAPI)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) stepUpWebAuthnOptions(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	opts, state, err := s.identity.BeginWebAuthnStepUp(r.Context(), c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rempart.WebAuthnOptions{Options: opts, State: state})
}

func (s *Server) verifyMFAWebAuthn(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	var in rempart.WebAuthnAnswer
	if err := s.decodeCeremony(w, r, c, "mfa.verify", &in); err != nil {
		return err
	}
	if err := s.identity.VerifyMFAWebAuthn(r.Context(), c, in.State, in.Credential); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
