package identity

import (
	"context"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
	"github.com/rempart/rempart/identity/password"
)

// Passwords hashes passwords and applies the password policy (IAM-3);
// package identity/password implements it.
type Passwords interface {
	// Hash returns the PHC string of pw.
	Hash(ctx context.Context, pw string) (string, error)
	// Verify checks pw against a PHC string in constant time; rehash is set
	// when the hash was made with weaker parameters than today's.
	Verify(ctx context.Context, encoded, pw string) (ok, rehash bool, err error)
	// Equalize spends the work of one Verify, for an account that does not
	// exist: the answer's timing must not tell.
	Equalize(ctx context.Context, pw string)
	// Check applies the policy to a new password of the account with this
	// email and name, given its previous hashes (newest first): one EINVALID
	// error naming every rule broken.
	Check(ctx context.Context, pw, email, name string, previous []string) error
}

// NoExpiry as Config.PasswordMaxAge turns password expiry off.
const NoExpiry time.Duration = -1

const (
	invitationPrefix = "ri_"
	sessionPrefix    = "rs_"
	// minPasswordHistory is the floor of PasswordHistory (IAM-3).
	minPasswordHistory = 5
	// maxAccessToken is the longest a person's API access token lives (IAM-6).
	maxAccessToken = time.Hour
)

func peopleDefaults(cfg Config) Config {
	if cfg.Passwords == nil {
		cfg.Passwords = DefaultPasswords()
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
	switch {
	case cfg.PasswordMaxAge == 0:
		cfg.PasswordMaxAge = password.DefaultPolicy().MaxAge
	case cfg.PasswordMaxAge < 0:
		cfg.PasswordMaxAge = 0 // NoExpiry
	}
	cfg.PasswordHistory = max(cfg.PasswordHistory, minPasswordHistory)
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

// staffOrTenant authorises the caller to manage the people of tenant ("" for
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

func peoplePath(tenant string) string {
	if tenant == "" {
		return "staff"
	}
	return "tenants/" + tenant
}

// Invite creates a one-time, expiring invitation for a person to join a
// tenant ("" for the vendor's staff) with a role (IAM-1). The token is
// returned once; only its hash is stored.
func (s *Service) Invite(ctx context.Context, c rempart.Caller, tenant string, in rempart.InvitationCreate) (rempart.InvitationCreated, error) {
	id, token, secret := newToken(invitationPrefix, "inv")
	e := entry(c, tenant, "invitation.create", peoplePath(tenant)+"/invitations/"+id)
	if err := s.authorizePeople(ctx, c, tenant, e); err != nil {
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
	inv := InvitationRow{Invitation: rempart.Invitation{ID: id, TenantID: tenant, Email: email, Role: in.Role, InvitedBy: c.Principal.ID,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.InvitationLifetime)}, TokenHash: tokenHash("invitation", secret)}
	e.Reason = "role " + in.Role
	if err := s.store.CreateInvitation(ctx, e, inv); err != nil {
		return rempart.InvitationCreated{}, err
	}
	return rempart.InvitationCreated{Invitation: inv.Invitation, Token: token}, nil
}

// Invitations lists the invitations of a tenant ("" for staff).
func (s *Service) Invitations(ctx context.Context, c rempart.Caller, tenant string) ([]rempart.Invitation, error) {
	e := entry(c, tenant, "invitation.list", peoplePath(tenant)+"/invitations")
	if err := s.authorizePeople(ctx, c, tenant, e); err != nil {
		return nil, err
	}
	out, err := s.store.Invitations(ctx, tenant)
	if err != nil {
		return nil, err
	}
	_, err = s.store.Audit(ctx, e)
	return out, err
}

var errBadInvitation = rempart.Errorf(rempart.EUNAUTHORIZED, "The invitation link is invalid, expired or already used.")

// AcceptInvitation turns an invitation into a user with the name and
// password the invitee chose. The link works once.
func (s *Service) AcceptInvitation(ctx context.Context, c rempart.Caller, in rempart.InvitationAccept) (rempart.User, error) {
	e := entry(c, "", "invitation.accept", "")
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
	if err := s.cfg.Passwords.Check(ctx, in.Password, inv.Email, name, nil); err != nil {
		return rempart.User{}, s.deny(ctx, e, err)
	}
	hash, err := s.cfg.Passwords.Hash(ctx, in.Password)
	if err != nil {
		return rempart.User{}, err
	}
	u := UserRow{User: rempart.User{ID: rempart.NewID("usr"), TenantID: inv.TenantID, Email: inv.Email, Name: name, Role: inv.Role,
		Status: rempart.UserActive, CreatedAt: now, PasswordChangedAt: &now}, PasswordHash: hash}
	e.PrincipalID, e.Reason = u.ID, "role "+u.Role
	if err := s.store.AcceptInvitation(ctx, e, inv.ID, u); err != nil {
		return rempart.User{}, err
	}
	return s.withExpiry(u.User), nil
}

// withExpiry fills in when the user's password expires.
func (s *Service) withExpiry(u rempart.User) rempart.User {
	if s.cfg.PasswordMaxAge > 0 && u.PasswordChangedAt != nil {
		t := u.PasswordChangedAt.Add(s.cfg.PasswordMaxAge)
		u.PasswordExpiresAt = &t
	}
	return u
}

// Users lists the users of a tenant ("" for staff).
func (s *Service) Users(ctx context.Context, c rempart.Caller, tenant string) ([]rempart.User, error) {
	e := entry(c, tenant, "user.list", peoplePath(tenant)+"/users")
	if err := s.authorizePeople(ctx, c, tenant, e); err != nil {
		return nil, err
	}
	out, err := s.store.Users(ctx, tenant)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i] = s.withExpiry(out[i])
	}
	_, err = s.store.Audit(ctx, e)
	return out, err
}

// SetUserStatus suspends or reactivates a user of a tenant ("" for staff).
// Suspension ends every session of the user at once (IAM-8).
func (s *Service) SetUserStatus(ctx context.Context, c rempart.Caller, tenant, id, status string) error {
	action := map[string]string{rempart.UserSuspended: "user.suspend", rempart.UserActive: "user.reactivate"}[status]
	if action == "" {
		return rempart.Errorf(rempart.EINVALID, "status must be %s or %s.", rempart.UserActive, rempart.UserSuspended)
	}
	e := entry(c, tenant, action, peoplePath(tenant)+"/users/"+id)
	if err := s.authorizePeople(ctx, c, tenant, e); err != nil {
		return err
	}
	u, err := s.store.User(ctx, id)
	if err != nil || u.TenantID != tenant {
		return s.deny(ctx, e, rempart.Errorf(rempart.ENOTFOUND, "User not found."))
	}
	if id == c.Principal.ID {
		return s.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "You cannot change your own status."))
	}
	return s.store.SetUserStatus(ctx, e, id, status)
}
