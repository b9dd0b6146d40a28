package identity

import (
	"context"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
	"github.com/rempart/rempart/identity/password"
)

const (
	invitationPrefix = "ri_"
	sessionPrefix    = "rs_"
	// maxAccessToken is the longest a person's API access token lives (IAM-6).
	maxAccessToken = time.Hour
)

// defaultHasher is shared by the services that bring none (tests make
// many): its bound on concurrent hashing is per process.
var defaultHasher = sync.OnceValue(func() *password.Hasher {
	h, err := password.NewHasher(password.HasherConfig{})
	if err != nil {
		panic(err) // the default costs are valid; the package's tests pin them
	}
	return h
})

func peopleDefaults(cfg Config, clock rempart.Clock) Config {
	if cfg.PasswordPolicy == (password.Policy{}) {
		cfg.PasswordPolicy = password.DefaultPolicy()
	}
	if err := cfg.PasswordPolicy.Validate(); err != nil {
		panic(err) // settings are validated before; see Config
	}
	if cfg.Hasher == nil {
		cfg.Hasher = defaultHasher()
	}
	if cfg.Throttle == nil {
		cfg.Throttle = password.NewThrottle(password.ThrottleConfig{}, clock)
	}
	if cfg.InvitationLifetime <= 0 {
		cfg.InvitationLifetime = 72 * time.Hour
	}
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = 30 * time.Minute
	}
	if cfg.SessionLifetime <= 0 {
		cfg.SessionLifetime = 12 * time.Hour
	}
	if cfg.AccessTokenLifetime <= 0 || cfg.AccessTokenLifetime > maxAccessToken {
		cfg.AccessTokenLifetime = maxAccessToken
	}
	return cfg
}

// normalEmail validates and lowercases an email address.
func normalEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 || a.Name != "" {
		return "", rempart.Errorf(rempart.EINVALID, "email must be a plain address such as name@example.com.")
	}
	return s, nil
}

// authorizePeople authorises the caller to manage the people of tenant ("" for
// staff).
func (s *Service) authorizePeople(ctx context.Context, c rempart.Caller, tenant string, e rempart.AuditEntry) error {
	if tenant == "" {
		if err := guard.AuthorizeSystem(c, guard.StaffManage); err != nil {
			return s.deny(ctx, e, err)
		}
		return nil
	}
	_, err := s.authorize(ctx, c, tenant, e)
	return err
}

// authorizePeopleChange is authorizePeople for a change; a change to the
// staff also needs a recent second factor (IAM-4 step-up).
func (s *Service) authorizePeopleChange(ctx context.Context, c rempart.Caller, tenant string, e rempart.AuditEntry) error {
	if err := s.authorizePeople(ctx, c, tenant, e); err != nil {
		return err
	}
	if err := guard.StaffStepUp(c, tenant); err != nil {
		return s.deny(ctx, e, err)
	}
	return nil
}

func peoplePath(tenant string) string {
	if tenant == "" {
		return "staff"
	}
	return "tenants/" + tenant
}

// Invite creates a one-time, expiring invitation for a person to join a
// tenant ("" for the vendor's staff) with a role (IAM-1). Only the token's
// hash is stored. When the service has a mailer the token is mailed to the
// invitee and not returned, so that only the invitee can use it; without
// one it is returned once, for the inviter to pass on.
//
// An invitation for a privileged role (guard.Privileged: every staff role,
// a tenant's admin) is held pending approval instead (IAM-10): no link
// exists, nothing is mailed or returned, until another person approves it
// (ApproveInvitation). The one exception is the staff's invitation made
// while no staff system administrator exists yet, which nobody else could
// approve: see PeopleStore.CreateInvitation.
func (s *Service) Invite(ctx context.Context, c rempart.Caller, tenant string, in rempart.InvitationCreate) (rempart.InvitationCreated, error) {
	id, token, secret := newToken(invitationPrefix, "inv")
	e := c.Entry(tenant, "invitation.create", peoplePath(tenant)+"/invitations/"+id)
	if err := s.authorizePeopleChange(ctx, c, tenant, e); err != nil {
		return rempart.InvitationCreated{}, err
	}
	email, err := normalEmail(in.Email)
	if err != nil {
		return rempart.InvitationCreated{}, s.deny(ctx, e, err)
	}
	roles := rempart.TenantRoles
	if tenant == "" {
		roles = rempart.StaffRoles
	}
	if !slices.Contains(roles, in.Role) {
		return rempart.InvitationCreated{}, s.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "role must be one of %s.", strings.Join(roles, ", ")))
	}
	now := s.clock.Now()
	inv := InvitationRow{Invitation: rempart.Invitation{ID: id, TenantID: tenant, Email: email, Role: in.Role, Approval: rempart.ApprovalNotRequired,
		InvitedBy: c.Principal.ID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.InvitationLifetime)}, TokenHash: tokenHash("invitation", secret)}
	e.Reason = "role " + in.Role
	if guard.Privileged(in.Role) {
		inv.Approval, inv.FirstStaff = rempart.ApprovalPending, tenant == ""
		e.Reason += "; pending approval by another person"
	}
	if inv.Approval, err = s.store.CreateInvitation(ctx, e, inv); err != nil {
		return rempart.InvitationCreated{}, err
	}
	inv.Status = inv.StatusAt(now)
	if inv.Approval == rempart.ApprovalPending {
		// The token is dropped here: nobody holds its secret, and the
		// approval replaces its hash with that of a new one.
		return rempart.InvitationCreated{Invitation: inv.Invitation}, nil
	}
	return s.deliverInvitation(ctx, c, inv.Invitation, token)
}

// deliverInvitation hands a usable invitation's token to exactly one
// party: mailed to the invitee when the service has a mailer, otherwise
// returned once to c, who passes it on.
func (s *Service) deliverInvitation(ctx context.Context, c rempart.Caller, inv rempart.Invitation, token string) (rempart.InvitationCreated, error) {
	if s.cfg.Mailer != nil {
		return s.mailInvitation(ctx, c, inv, token)
	}
	return rempart.InvitationCreated{Invitation: inv, Token: token}, nil
}

// ApproveInvitation is a second person's approval of an invitation for a
// privileged role (IAM-10): its link exists from now and for the
// invitation lifetime. It is mailed to the invitee when the service has a
// mailer; otherwise it is returned once to the approver, never to the
// inviter, who could otherwise claim the account themselves. The approver
// has the authority of a role change's approver (the people of the scope:
// staff:manage for staff, accounts:manage for a tenant), with step-up for
// the staff, and is never the inviter.
func (s *Service) ApproveInvitation(ctx context.Context, c rempart.Caller, tenant, id string, in rempart.RoleChangeDecision) (rempart.InvitationCreated, error) {
	inv, token, err := s.decideInvitation(ctx, c, tenant, id, rempart.ApprovalApproved, in)
	if err != nil {
		return rempart.InvitationCreated{}, err
	}
	return s.deliverInvitation(ctx, c, inv, token)
}

// RejectInvitation is a second person's rejection of an invitation pending
// approval: it never becomes usable.
func (s *Service) RejectInvitation(ctx context.Context, c rempart.Caller, tenant, id string, in rempart.RoleChangeDecision) (rempart.Invitation, error) {
	inv, _, err := s.decideInvitation(ctx, c, tenant, id, rempart.ApprovalRejected, in)
	return inv, err
}

func (s *Service) decideInvitation(ctx context.Context, c rempart.Caller, tenant, id, approval string, in rempart.RoleChangeDecision) (rempart.Invitation, string, error) {
	action := map[string]string{rempart.ApprovalApproved: "invitation.approve", rempart.ApprovalRejected: "invitation.reject"}[approval]
	e := c.Entry(tenant, action, peoplePath(tenant)+"/invitations/"+id)
	if err := s.authorizePeopleChange(ctx, c, tenant, e); err != nil {
		return rempart.Invitation{}, "", err
	}
	note := strings.TrimSpace(in.Note)
	if utf8.RuneCountInString(note) > 500 || !utf8.ValidString(note) || strings.IndexFunc(note, unicode.IsControl) >= 0 {
		return rempart.Invitation{}, "", s.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "note must be at most 500 characters on one line."))
	}
	row, err := s.store.Invitation(ctx, id)
	if rempart.ErrorCode(err) == rempart.ENOTFOUND || err == nil && row.TenantID != tenant {
		e.Reason = "not found"
		return rempart.Invitation{}, "", s.deny(ctx, e, rempart.Errorf(rempart.ENOTFOUND, "No invitation with this ID."))
	} else if err != nil {
		return rempart.Invitation{}, "", err
	}
	inv, now := row.Invitation, s.clock.Now()
	status := inv.StatusAt(now)
	e.Reason = inv.Email + " as " + inv.Role
	switch {
	case status != rempart.InvitationPendingApproval && status != rempart.InvitationExpired || inv.Approval != rempart.ApprovalPending:
		e.Reason += "; already " + status
		return rempart.Invitation{}, "", s.deny(ctx, e, rempart.Errorf(rempart.ECONFLICT, "This invitation is %s: there is nothing to decide.", status))
	case status == rempart.InvitationExpired:
		e.Reason += "; expired"
		return rempart.Invitation{}, "", s.deny(ctx, e, rempart.Errorf(rempart.ECONFLICT, "This invitation expired before anyone decided on it; invite the person again."))
	case inv.InvitedBy == c.Principal.ID:
		e.Reason += "; the inviter cannot decide"
		return rempart.Invitation{}, "", s.deny(ctx, e, rempart.Errorf(rempart.EFORBIDDEN, "Another person must decide on an invitation you made."))
	}
	dec := InvitationDecision{Approval: approval, By: c.Principal.ID, At: now, Note: note}
	var token string
	if approval == rempart.ApprovalApproved {
		var secret string
		token, secret = tokenFor(invitationPrefix, "inv", inv.ID)
		dec.TokenHash, dec.ExpiresAt = tokenHash("invitation", secret), now.Add(s.cfg.InvitationLifetime)
		inv.ExpiresAt = dec.ExpiresAt
	}
	if err := s.store.DecideInvitation(ctx, e, tenant, id, dec); err != nil {
		return rempart.Invitation{}, "", err
	}
	inv.Approval, inv.DecidedBy, inv.DecidedAt, inv.Note = approval, c.Principal.ID, &now, note
	inv.Status = inv.StatusAt(now)
	return inv, token, nil
}

// Invitations lists the invitations of a tenant ("" for staff).
func (s *Service) Invitations(ctx context.Context, c rempart.Caller, tenant string) ([]rempart.Invitation, error) {
	e := c.Entry(tenant, "invitation.list", peoplePath(tenant)+"/invitations")
	if err := s.authorizePeople(ctx, c, tenant, e); err != nil {
		return nil, err
	}
	out, err := s.store.Invitations(ctx, tenant)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	for i := range out {
		out[i].Status = out[i].StatusAt(now)
	}
	_, err = s.store.Audit(ctx, e)
	return out, err
}

// RevokeInvitation withdraws a pending invitation of a tenant ("" for
// staff): its link stops working at once (IAM-8).
func (s *Service) RevokeInvitation(ctx context.Context, c rempart.Caller, tenant, id string) error {
	e := c.Entry(tenant, "invitation.revoke", peoplePath(tenant)+"/invitations/"+id)
	if err := s.authorizePeopleChange(ctx, c, tenant, e); err != nil {
		return err
	}
	inv, err := s.store.Invitation(ctx, id)
	if rempart.ErrorCode(err) == rempart.ENOTFOUND || err == nil && (inv.TenantID != tenant || inv.AcceptedAt != nil || inv.RevokedAt != nil || inv.Approval == rempart.ApprovalRejected) {
		return s.deny(ctx, e, rempart.Errorf(rempart.ENOTFOUND, "No pending invitation with this ID."))
	} else if err != nil {
		return err
	}
	return s.store.RevokeInvitation(ctx, e, tenant, id)
}

var errBadInvitation = rempart.Errorf(rempart.EUNAUTHORIZED, "The invitation link is invalid, expired or already used.")

// AcceptInvitation turns an invitation into a user with the name and
// password the invitee chose. The link works once.
func (s *Service) AcceptInvitation(ctx context.Context, c rempart.Caller, in rempart.InvitationAccept) (rempart.User, error) {
	e := c.Entry("", "invitation.accept", "")
	id, secret, ok := parseToken(in.Token, invitationPrefix, "inv")
	if !ok {
		e.Reason = "malformed"
		return rempart.User{}, s.deny(ctx, e, errBadInvitation)
	}
	e.Resource = "invitations/" + id
	inv, err := s.store.Invitation(ctx, id)
	if err != nil && rempart.ErrorCode(err) != rempart.ENOTFOUND {
		return rempart.User{}, err
	}
	now := s.clock.Now()
	switch {
	case err != nil:
		e.Reason = "unknown invitation"
	case !equalHash(inv.TokenHash, tokenHash("invitation", secret)):
		e.Reason = "wrong secret"
	case inv.AcceptedAt != nil:
		e.Reason = "already accepted"
	case inv.RevokedAt != nil:
		e.Reason = "revoked"
	case inv.Approval == rempart.ApprovalPending:
		e.Reason = "awaiting approval"
	case inv.Approval == rempart.ApprovalRejected:
		e.Reason = "rejected"
	case !now.Before(inv.ExpiresAt):
		e.Reason = "expired"
	}
	if e.Reason != "" {
		if err == nil {
			e.TenantID = inv.TenantID
		}
		return rempart.User{}, s.deny(ctx, e, errBadInvitation)
	}
	e.TenantID = inv.TenantID
	name := strings.TrimSpace(in.Name)
	if name == "" || utf8.RuneCountInString(name) > 100 || strings.ContainsAny(name, "\r\n\t") {
		return rempart.User{}, s.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "name must be 1 to 100 characters on one line."))
	}
	checker, pol, err := s.checkerFor(ctx, inv.TenantID)
	if err != nil {
		return rempart.User{}, err
	}
	if _, err := checker.Check(ctx, in.Password, password.Account{Email: inv.Email, Name: name}, nil); err != nil {
		return rempart.User{}, s.deny(ctx, e, err)
	}
	hash, err := s.cfg.Hasher.Hash(ctx, in.Password)
	if err != nil {
		return rempart.User{}, err
	}
	u := UserRow{User: rempart.User{ID: rempart.NewID("usr"), TenantID: inv.TenantID, Email: inv.Email, Name: name, Role: inv.Role,
		Status: rempart.UserActive, CreatedAt: now, PasswordChangedAt: &now}, PasswordHash: hash}
	e.PrincipalID, e.Reason = u.ID, "role "+u.Role
	if err := s.store.AcceptInvitation(ctx, e, inv.ID, u); err != nil {
		if rempart.ErrorCode(err) == rempart.ECONFLICT {
			// The email has an account (perhaps in another tenant): the
			// same answer as any unusable invitation.
			return rempart.User{}, errBadInvitation
		}
		return rempart.User{}, err
	}
	return withExpiry(u.User, pol), nil
}

// withExpiry fills in when the user's password expires under pol.
func withExpiry(u rempart.User, pol password.Policy) rempart.User {
	if u.PasswordChangedAt != nil {
		if t, ok := pol.ExpiresAt(*u.PasswordChangedAt); ok {
			u.PasswordExpiresAt = &t
		}
	}
	return u
}

// Users lists the users of a tenant ("" for staff).
func (s *Service) Users(ctx context.Context, c rempart.Caller, tenant string) ([]rempart.User, error) {
	e := c.Entry(tenant, "user.list", peoplePath(tenant)+"/users")
	if err := s.authorizePeople(ctx, c, tenant, e); err != nil {
		return nil, err
	}
	out, err := s.store.Users(ctx, tenant)
	if err != nil {
		return nil, err
	}
	pol, err := s.policyFor(ctx, tenant)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i] = withExpiry(out[i], pol)
	}
	_, err = s.store.Audit(ctx, e)
	return out, err
}

// User returns one user of a tenant ("" for staff), for a page about that
// person, without listing the others. A user of another tenant is not found,
// like one that does not exist.
func (s *Service) User(ctx context.Context, c rempart.Caller, tenant, id string) (rempart.User, error) {
	e := c.Entry(tenant, "user.read", peoplePath(tenant)+"/users/"+id)
	if err := s.authorizePeople(ctx, c, tenant, e); err != nil {
		return rempart.User{}, err
	}
	u, err := s.store.User(ctx, id)
	if err == nil && u.TenantID != tenant {
		err = errNoUser
	}
	if err != nil {
		if rempart.ErrorCode(err) == rempart.ENOTFOUND {
			return rempart.User{}, s.deny(ctx, e, errNoUser)
		}
		return rempart.User{}, err
	}
	pol, err := s.policyFor(ctx, tenant)
	if err != nil {
		return rempart.User{}, err
	}
	_, err = s.store.Audit(ctx, e)
	return withExpiry(u.User, pol), err
}

var errNoUser = rempart.Errorf(rempart.ENOTFOUND, "User not found.")

// SetUserStatus suspends or reactivates a user of a tenant ("" for staff).
// Suspension ends every session of the user at once (IAM-8).
func (s *Service) SetUserStatus(ctx context.Context, c rempart.Caller, tenant, id, status string) error {
	action := map[string]string{rempart.UserSuspended: "user.suspend", rempart.UserActive: "user.reactivate"}[status]
	if action == "" {
		return rempart.Errorf(rempart.EINVALID, "status must be %s or %s.", rempart.UserActive, rempart.UserSuspended)
	}
	e := c.Entry(tenant, action, peoplePath(tenant)+"/users/"+id)
	if err := s.authorizePeopleChange(ctx, c, tenant, e); err != nil {
		return err
	}
	u, err := s.store.User(ctx, id)
	if rempart.ErrorCode(err) == rempart.ENOTFOUND || err == nil && u.TenantID != tenant {
		return s.deny(ctx, e, rempart.Errorf(rempart.ENOTFOUND, "User not found."))
	} else if err != nil {
		return err
	}
	if id == c.Principal.ID {
		return s.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "You cannot change your own status."))
	}
	return s.store.SetUserStatus(ctx, e, tenant, id, status)
}
