package web

import (
	"net/http"

	"github.com/rempart/rempart"
)

// Offboarding and suspected compromise (IAM-8): a confirmation page that
// names what will be revoked, then a page with what was, the evidence the
// audit trail also keeps.

type revokePage struct {
	view
	Base   string
	User   rempart.User
	Kind   string
	Reason string
	Done   *rempart.Revocation
}

// revokeUser is the user the URL names, among the caller's people.
func (s *server) revokeUser(r *http.Request, v *visit) (rempart.User, string, error) {
	tenant, base := peopleBase(r)
	u, err := s.cfg.People.User(r.Context(), v.caller, tenant, r.PathValue("user"))
	return u, base, err
}

func (s *server) confirmRevokeAccess(w http.ResponseWriter, r *http.Request, v *visit) error {
	u, base, err := s.revokeUser(r, v)
	if err != nil {
		return err
	}
	p := revokePage{view: s.view(r, v, "Revoke the access of "+u.Name, "people"), Base: base, User: u, Kind: rempart.RevokeOffboard}
	s.render(w, r, http.StatusOK, "revoke-access", p)
	return nil
}

func (s *server) revokeAccess(w http.ResponseWriter, r *http.Request, v *visit) error {
	u, base, err := s.revokeUser(r, v)
	if err != nil {
		return err
	}
	tenant, _ := peopleBase(r)
	in := rempart.RevocationRequest{Kind: r.PostFormValue("kind"), Reason: r.PostFormValue("reason")}
	p := revokePage{view: s.view(r, v, "Revoke the access of "+u.Name, "people"), Base: base, User: u, Kind: in.Kind, Reason: in.Reason}
	out, err := s.cfg.People.RevokeAccess(r.Context(), v.caller, tenant, u.ID, in)
	if rempart.ErrorCode(err) == rempart.EINVALID {
		p.Alert = rempart.ErrorMessage(err)
		s.render(w, r, http.StatusBadRequest, "revoke-access", p)
		return nil
	} else if err != nil {
		return err
	}
	p.Done = &out
	s.render(w, r, http.StatusOK, "revoke-access", p)
	return nil
}
