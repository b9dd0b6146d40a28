package httpapi

import (
	"net/http"

	"github.com/rempart/rempart"
)

// People (IAM-1, IAM-3, IAM-6): invitations, users, sign-in and sessions.
// Staff routes live under /staff, a tenant's under /tenants/{tenant}: the
// handlers pass "" or the tenant to the same service methods.

func (s *Server) signIn(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	var in rempart.SignIn
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	out, err := s.identity.SignIn(r.Context(), c, in, rempart.SessionAPI)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	var in rempart.PasswordChange
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := s.identity.ChangePassword(r.Context(), c, in); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) acceptInvitation(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	var in rempart.InvitationAccept
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	u, err := s.identity.AcceptInvitation(r.Context(), c, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, u)
}

func (s *Server) me(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	u, err := s.identity.Me(r.Context(), c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, u)
}

func (s *Server) mySessions(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	out, err := s.identity.Sessions(r.Context(), c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rempart.SessionList{Sessions: out})
}

func (s *Server) revokeMySession(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	if err := s.identity.RevokeSession(r.Context(), c, r.PathValue("session")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// maxPersonalKeyBody bounds the body of a new personal key: a name and a
// number.
const maxPersonalKeyBody = 4 << 10

func (s *Server) createPersonalKey(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	var in rempart.PersonalKeyCreate
	r.Body = http.MaxBytesReader(w, r.Body, maxPersonalKeyBody)
	if err := decodeJSON(r, &in); err != nil {
		return s.identity.Refused(r.Context(), c, "personal_key.create", "malformed request: "+rempart.ErrorCode(err), err)
	}
	k, err := s.identity.CreatePersonalKey(r.Context(), c, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, k)
}

func (s *Server) myPersonalKeys(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	out, err := s.identity.PersonalKeys(r.Context(), c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rempart.PersonalKeyList{Keys: out})
}

func (s *Server) revokePersonalKey(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	if err := s.identity.RevokePersonalKey(r.Context(), c, r.PathValue("key")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// peopleTenant is the tenant of a people route: "" under /staff.
func peopleTenant(r *http.Request) string { return r.PathValue("tenant") }

func (s *Server) listInvitations(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	out, err := s.identity.Invitations(r.Context(), c, peopleTenant(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rempart.InvitationList{Invitations: out})
}

func (s *Server) createInvitation(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	var in rempart.InvitationCreate
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	out, err := s.identity.Invite(r.Context(), c, peopleTenant(r), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) revokeInvitation(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	if err := s.identity.RevokeInvitation(r.Context(), c, peopleTenant(r), r.PathValue("invitation")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// approveInvitation is a second person's approval of an invitation for a
// privileged role (IAM-10); the answer carries the link's token only when
// the deployment sends no mail.
func (s *Server) approveInvitation(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	in, err := decodeDecision(r)
	if err != nil {
		return err
	}
	out, err := s.identity.ApproveInvitation(r.Context(), c, peopleTenant(r), r.PathValue("invitation"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) rejectInvitation(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	in, err := decodeDecision(r)
	if err != nil {
		return err
	}
	out, err := s.identity.RejectInvitation(r.Context(), c, peopleTenant(r), r.PathValue("invitation"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	out, err := s.identity.Users(r.Context(), c, peopleTenant(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rempart.UserList{Users: out})
}

func (s *Server) suspendUser(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	return s.setUserStatus(w, r, c, rempart.UserSuspended)
}

func (s *Server) reactivateUser(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	return s.setUserStatus(w, r, c, rempart.UserActive)
}

// revokeUserAccess offboards a person or cuts off a suspected compromise
// (IAM-8).
func (s *Server) revokeUserAccess(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	var in rempart.RevocationRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	out, err := s.identity.RevokeAccess(r.Context(), c, peopleTenant(r), r.PathValue("user"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) setUserStatus(w http.ResponseWriter, r *http.Request, c rempart.Caller, status string) error {
	if err := s.identity.SetUserStatus(r.Context(), c, peopleTenant(r), r.PathValue("user"), status); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getPasswordPolicy(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	out, err := s.identity.PasswordPolicy(r.Context(), c, r.PathValue("tenant"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) putPasswordPolicy(w http.ResponseWriter, r *http.Request, c rempart.Caller) error {
	var in rempart.TenantPasswordPolicy
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	out, err := s.identity.SetPasswordPolicy(r.Context(), c, r.PathValue("tenant"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}
