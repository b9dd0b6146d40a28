package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/rempart/rempart"
)

// People (IAM-1, IAM-3, IAM-6): the users and invitations of a tenant
// (/tenants/{tenant}/people) or of the vendor's staff (/staff), joining
// with an invitation link (/join), and one's own account (/me): password,
// sessions.

// PeopleService is people and their own accounts (identity.Service).
type PeopleService interface {
	Invite(ctx context.Context, c rempart.Caller, tenant string, in rempart.InvitationCreate) (rempart.InvitationCreated, error)
	Invitations(ctx context.Context, c rempart.Caller, tenant string) ([]rempart.Invitation, error)
	RevokeInvitation(ctx context.Context, c rempart.Caller, tenant, id string) error
	ApproveInvitation(ctx context.Context, c rempart.Caller, tenant, id string, in rempart.RoleChangeDecision) (rempart.InvitationCreated, error)
	RejectInvitation(ctx context.Context, c rempart.Caller, tenant, id string, in rempart.RoleChangeDecision) (rempart.Invitation, error)
	Users(ctx context.Context, c rempart.Caller, tenant string) ([]rempart.User, error)
	User(ctx context.Context, c rempart.Caller, tenant, id string) (rempart.User, error)
	SetUserStatus(ctx context.Context, c rempart.Caller, tenant, id, status string) error
	RevokeAccess(ctx context.Context, c rempart.Caller, tenant, id string, in rempart.RevocationRequest) (rempart.Revocation, error)
	AcceptInvitation(ctx context.Context, c rempart.Caller, in rempart.InvitationAccept) (rempart.User, error)
	Me(ctx context.Context, c rempart.Caller) (rempart.User, error)
	Sessions(ctx context.Context, c rempart.Caller) ([]rempart.Session, error)
	RevokeSession(ctx context.Context, c rempart.Caller, id string) error
	ChangePassword(ctx context.Context, c rempart.Caller, in rempart.PasswordChange) error
	CreatePersonalKey(ctx context.Context, c rempart.Caller, in rempart.PersonalKeyCreate) (rempart.PersonalKeyCreated, error)
	PersonalKeys(ctx context.Context, c rempart.Caller) ([]rempart.PersonalKey, error)
	RevokePersonalKey(ctx context.Context, c rempart.Caller, id string) error
}

func init() {
	for k, v := range map[string]string{
		"invitation-pending-approval": "Invitation created for a privileged role: another administrator must approve it before its link is sent.",
		"invitation-approved-mailed":  "Invitation approved and mailed. The link works once and expires.",
		"invitation-rejected":         "Invitation rejected: it will never work.",
	} {
		notices[k] = v
	}
}

type peoplePage struct {
	view
	Tenant      *rempart.Tenant // nil for staff
	Base        string          // /staff or /tenants/{id}/people
	Users       []rempart.User
	Invitations []rempart.Invitation // pending approval, open or expired
	Roles       []string
	Email, Role string // the invite form's values, kept on error
	// Link is an invitation's link, shown once when the deployment sends
	// no mail: to the inviter, or for a privileged role to its approver.
	Link string
}

// MayDecide reports whether the viewer may approve or reject an
// invitation pending approval: anyone who manages these people but its
// inviter (IAM-10); the service checks it again.
func (p peoplePage) MayDecide(inv rempart.Invitation) bool {
	return inv.Status == rempart.InvitationPendingApproval && p.Me != nil && p.Me.ID != inv.InvitedBy
}

// peopleBase returns the tenant of a people route ("" for staff) and the
// route's base path.
func peopleBase(r *http.Request) (tenant, base string) {
	if t := r.PathValue("tenant"); t != "" {
		return t, "/tenants/" + t + "/people"
	}
	return "", "/staff"
}

func (s *server) people(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.showPeople(w, r, v, http.StatusOK, "", rempart.InvitationCreate{}, "")
}

func (s *server) showPeople(w http.ResponseWriter, r *http.Request, v *visit, status int, alert string, in rempart.InvitationCreate, link string) error {
	ctx := r.Context()
	tenant, base := peopleBase(r)
	p := peoplePage{Base: base, Roles: rempart.StaffRoles, Email: in.Email, Role: in.Role, Link: link}
	title := "Staff"
	if tenant != "" {
		t, err := s.cfg.Tenants.Tenant(ctx, v.caller, tenant)
		if err != nil {
			return err
		}
		p.Tenant, p.Roles, title = &t, rempart.TenantRoles, t.Name+": people"
	}
	var err error
	if p.Users, err = s.cfg.People.Users(ctx, v.caller, tenant); err != nil {
		return err
	}
	invs, err := s.cfg.People.Invitations(ctx, v.caller, tenant)
	if err != nil {
		return err
	}
	for _, inv := range invs {
		if inv.AcceptedAt == nil && inv.RevokedAt == nil && inv.Approval != rempart.ApprovalRejected {
			p.Invitations = append(p.Invitations, inv)
		}
	}
	if p.Role == "" {
		p.Role = p.Roles[len(p.Roles)-1]
		if tenant != "" {
			p.Role = rempart.RoleReader
		}
	}
	p.view = s.view(r, v, title, "people")
	p.Alert = alert
	s.render(w, r, status, "people", p)
	return nil
}

// invite creates an invitation. When the deployment mails links, the
// token goes to the invitee only; otherwise the page answering this post
// shows the link once (never in a URL), for the inviter to pass on.
func (s *server) invite(w http.ResponseWriter, r *http.Request, v *visit) error {
	tenant, base := peopleBase(r)
	in := rempart.InvitationCreate{Email: strings.TrimSpace(r.PostFormValue("email")), Role: r.PostFormValue("role")}
	inv, err := s.cfg.People.Invite(r.Context(), v.caller, tenant, in)
	if err != nil {
		if formError(err) || rempart.ErrorCode(err) == rempart.EUNAVAILABLE {
			return s.showPeople(w, r, v, s.status(w, r, err), rempart.ErrorMessage(err), in, "")
		}
		return err
	}
	switch {
	case inv.Status == rempart.InvitationPendingApproval:
		redirect(w, r, base, "invitation-pending-approval")
		return nil
	case inv.Mailed:
		redirect(w, r, base, "invitation-mailed")
		return nil
	}
	return s.showPeople(w, r, v, http.StatusCreated, "", rempart.InvitationCreate{}, "https://"+r.Host+"/join#"+inv.Token)
}

// approveInvitation approves an invitation for a privileged role (IAM-10).
// Without mail, the page answering this post shows the link once, to the
// approver only.
func (s *server) approveInvitation(w http.ResponseWriter, r *http.Request, v *visit) error {
	tenant, base := peopleBase(r)
	inv, err := s.cfg.People.ApproveInvitation(r.Context(), v.caller, tenant, r.PathValue("invitation"), rempart.RoleChangeDecision{Note: r.PostFormValue("note")})
	if err != nil {
		if formError(err) || rempart.ErrorCode(err) == rempart.EFORBIDDEN || rempart.ErrorCode(err) == rempart.EUNAVAILABLE {
			return s.showPeople(w, r, v, s.status(w, r, err), rempart.ErrorMessage(err), rempart.InvitationCreate{}, "")
		}
		return err
	}
	if inv.Mailed {
		redirect(w, r, base, "invitation-approved-mailed")
		return nil
	}
	return s.showPeople(w, r, v, http.StatusOK, "", rempart.InvitationCreate{}, "https://"+r.Host+"/join#"+inv.Token)
}

func (s *server) rejectInvitation(w http.ResponseWriter, r *http.Request, v *visit) error {
	tenant, base := peopleBase(r)
	if _, err := s.cfg.People.RejectInvitation(r.Context(), v.caller, tenant, r.PathValue("invitation"), rempart.RoleChangeDecision{Note: r.PostFormValue("note")}); err != nil {
		if formError(err) || rempart.ErrorCode(err) == rempart.EFORBIDDEN {
			return s.showPeople(w, r, v, s.status(w, r, err), rempart.ErrorMessage(err), rempart.InvitationCreate{}, "")
		}
		return err
	}
	redirect(w, r, base, "invitation-rejected")
	return nil
}

func (s *server) withdrawInvitation(w http.ResponseWriter, r *http.Request, v *visit) error {
	tenant, base := peopleBase(r)
	if err := s.cfg.People.RevokeInvitation(r.Context(), v.caller, tenant, r.PathValue("invitation")); err != nil {
		return err
	}
	redirect(w, r, base, "invitation-withdrawn")
	return nil
}

func (s *server) suspendUser(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.setUserStatus(w, r, v, rempart.UserSuspended, "user-suspended")
}

func (s *server) reactivateUser(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.setUserStatus(w, r, v, rempart.UserActive, "user-reactivated")
}

func (s *server) setUserStatus(w http.ResponseWriter, r *http.Request, v *visit, status, done string) error {
	tenant, base := peopleBase(r)
	if err := s.cfg.People.SetUserStatus(r.Context(), v.caller, tenant, r.PathValue("user"), status); err != nil {
		return err
	}
	redirect(w, r, base, done)
	return nil
}

// Joining with an invitation link. The link is /join#<token>: browsers
// send a URL's fragment to no server and put it in no Referer, so the
// token reaches no access log. The page's script (assets/join.js) copies
// it into the form and removes it from the address bar; without script,
// the invitee pastes it.

type joinPage struct {
	view
	Name string
}

func (s *server) joinForm(w http.ResponseWriter, r *http.Request) {
	s.showJoin(w, r, http.StatusOK, "", "")
}

func (s *server) showJoin(w http.ResponseWriter, r *http.Request, status int, alert, name string) {
	p := joinPage{view: s.view(r, nil, "Join rempart", ""), Name: name}
	p.CSRF = s.csrfToken("join", signInSecret(w, r))
	p.Alert = alert
	s.render(w, r, status, "join", p)
}

// join accepts the invitation and signs the new user in. Neither the token
// nor the password is written back into the form.
func (s *server) join(w http.ResponseWriter, r *http.Request) {
	ck, err := r.Cookie(signInCookie)
	if err != nil {
		s.showJoin(w, r, http.StatusForbidden, "The form has expired. Open the invitation link again.", "")
		return
	}
	if err := checkCSRF(r, s.csrfToken("join", ck.Value)); err != nil {
		s.showJoin(w, r, http.StatusForbidden, rempart.ErrorMessage(err), "")
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	token := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(r.PostFormValue("token")), "#"))
	if i := strings.LastIndex(token, "/join#"); i >= 0 { // the whole link pasted
		token = token[i+len("/join#"):]
	}
	pw := r.PostFormValue("password")
	if token == "" || pw == "" {
		s.showJoin(w, r, http.StatusBadRequest, "Enter the invitation code, your name and a password.", name)
		return
	}
	if pw != r.PostFormValue("confirm") {
		s.showJoin(w, r, http.StatusBadRequest, "The two passwords differ.", name)
		return
	}
	info := s.info(r)
	u, err := s.cfg.People.AcceptInvitation(r.Context(), caller(info), rempart.InvitationAccept{Token: token, Name: name, Password: pw})
	if err != nil {
		s.showJoin(w, r, s.status(w, r, err), rempart.ErrorMessage(err), name)
		return
	}
	sess, err := s.cfg.Sessions.SignIn(r.Context(), SignIn{Email: u.Email, Password: pw, RequestInfo: info})
	if err != nil {
		// The account exists: sign in the usual way (a second factor, say).
		redirect(w, r, "/sign-in", "joined")
		return
	}
	setSession(w, sess)
	clearCookie(w, signInCookie)
	redirect(w, r, "/", "joined")
}

// One's own account.

type mePage struct {
	view
	User     rempart.User
	Sessions []rempart.Session
	Keys     []rempart.PersonalKey
	// NewKey is a personal key just made: its secret is shown this once.
	NewKey *rempart.PersonalKeyCreated
	// KeyName and KeyDays are the new key form's values, kept on error.
	KeyName, KeyDays string
}

func (s *server) me(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.showMe(w, r, v, http.StatusOK, "")
}

func (s *server) showMe(w http.ResponseWriter, r *http.Request, v *visit, status int, alert string) error {
	return s.renderMe(w, r, v, status, mePage{view: view{Alert: alert}})
}

// renderMe renders the account page with p's own fields (a new key, the
// form's values, an alert) and the person's account, sessions and keys.
func (s *server) renderMe(w http.ResponseWriter, r *http.Request, v *visit, status int, p mePage) error {
	ctx := r.Context()
	u, err := s.cfg.People.Me(ctx, v.caller)
	if err != nil {
		return err
	}
	ss, err := s.cfg.People.Sessions(ctx, v.caller)
	if err != nil {
		return err
	}
	ks, err := s.cfg.People.PersonalKeys(ctx, v.caller)
	if err != nil {
		return err
	}
	alert, notice := p.Alert, p.Notice
	p.view, p.User, p.Sessions, p.Keys = s.view(r, v, "My account", "me"), u, ss, ks
	p.Alert = alert
	if notice != "" {
		p.Notice = notice
	}
	s.render(w, r, status, "me", p)
	return nil
}

// createPersonalKey makes a personal API key (IAM-6) and shows its secret
// this once. A person with a second factor proves it again first: the
// service answers EMFAREQUIRED and the step-up page follows.
func (s *server) createPersonalKey(w http.ResponseWriter, r *http.Request, v *visit) error {
	name, days := r.PostFormValue("name"), strings.TrimSpace(r.PostFormValue("expires_in_days"))
	n, _ := wholeDays(days) // 0 when not a number: refused by the service, with its message, and audited
	k, err := s.cfg.People.CreatePersonalKey(r.Context(), v.caller, rempart.PersonalKeyCreate{Name: name, ExpiresInDays: n})
	if err != nil {
		if formError(err) {
			p := mePage{KeyName: name, KeyDays: days}
			p.Alert = rempart.ErrorMessage(err)
			return s.renderMe(w, r, v, s.status(w, r, err), p)
		}
		return err
	}
	p := mePage{NewKey: &k}
	p.Notice = "Personal API key created. Copy its secret now: it is not shown again."
	return s.renderMe(w, r, v, http.StatusCreated, p)
}

// revokePersonalKey revokes one of the person's keys at once.
func (s *server) revokePersonalKey(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := s.cfg.People.RevokePersonalKey(r.Context(), v.caller, r.PathValue("key")); err != nil {
		return err
	}
	redirect(w, r, "/me", "key-revoked")
	return nil
}

// changePassword changes the password, which ends every session of the
// user (this one too): the person signs in again with the new one.
func (s *server) changePassword(w http.ResponseWriter, r *http.Request, v *visit) error {
	u, err := s.cfg.People.Me(r.Context(), v.caller)
	if err != nil {
		return err
	}
	if r.PostFormValue("new") != r.PostFormValue("confirm") {
		return s.showMe(w, r, v, http.StatusBadRequest, "The two new passwords differ.")
	}
	err = s.cfg.People.ChangePassword(r.Context(), v.caller, rempart.PasswordChange{Email: u.Email, Current: r.PostFormValue("current"), New: r.PostFormValue("new")})
	if err != nil {
		if formError(err) || rempart.ErrorCode(err) == rempart.EUNAUTHORIZED {
			st := s.status(w, r, err)
			if st == http.StatusUnauthorized {
				st = http.StatusBadRequest // the session is fine; the current password is not
			}
			return s.showMe(w, r, v, st, rempart.ErrorMessage(err))
		}
		return err
	}
	clearCookie(w, sessionCookie)
	redirect(w, r, "/sign-in", "password-changed")
	return nil
}

func (s *server) revokeSession(w http.ResponseWriter, r *http.Request, v *visit) error {
	id := r.PathValue("session")
	if err := s.cfg.People.RevokeSession(r.Context(), v.caller, id); err != nil {
		return err
	}
	if id == v.caller.CredentialID {
		clearCookie(w, sessionCookie)
		redirect(w, r, "/sign-in", "")
		return nil
	}
	redirect(w, r, "/me", "session-revoked")
	return nil
}

// signOutOthers ends every session of the caller but this one.
func (s *server) signOutOthers(w http.ResponseWriter, r *http.Request, v *visit) error {
	ss, err := s.cfg.People.Sessions(r.Context(), v.caller)
	if err != nil {
		return err
	}
	for _, sess := range ss {
		if sess.ID != v.caller.CredentialID && sess.RevokedAt == nil {
			if err := s.cfg.People.RevokeSession(r.Context(), v.caller, sess.ID); err != nil {
				return err
			}
		}
	}
	redirect(w, r, "/me", "sessions-revoked")
	return nil
}

// Person reports whether the signed-in principal is a person (who has an
// account page), not a service account.
func (v view) Person() bool { return v.People && v.Me != nil && strings.HasPrefix(v.Me.ID, "usr_") }
