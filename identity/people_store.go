package identity

import (
	"context"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/identity/password"
)

// UserRow is a user as stored.
type UserRow struct {
	rempart.User
	// PasswordHash is the PHC string of the password; "" until one is set.
	PasswordHash string
}

// InvitationRow is an invitation as stored: the token only as a hash.
type InvitationRow struct {
	rempart.Invitation
	TokenHash []byte
	// FirstStaff asks the store to open a staff invitation pending
	// approval at once when the staff has no system administrator and no
	// live invitation (see PeopleStore.CreateInvitation). It is not stored.
	FirstStaff bool
}

// InvitationDecision is a second person's decision on an invitation pending
// approval (IAM-10). An approval carries the hash of the link's new token
// and its expiry.
type InvitationDecision struct {
	Approval  string // rempart.ApprovalApproved or rempart.ApprovalRejected
	By        string
	At        time.Time
	Note      string
	TokenHash []byte
	ExpiresAt time.Time
}

// SessionRow is a session as stored, with its user's principal and status.
type SessionRow struct {
	rempart.Session
	Principal   rempart.Principal
	TokenHash   []byte
	IdleTimeout time.Duration
	// UserStatus is the user's status now; UserDeleted is set when the
	// user's principal was removed.
	UserStatus  string
	UserDeleted bool
}

// PeopleStore is what identity needs from storage for people. Methods
// that take a tenant ID ("" for staff) are called only after the service
// authorised the caller for that tenant through guard.
type PeopleStore interface {
	// CreateInvitation stores an invitation; ECONFLICT when a user of the
	// same tenant (or staff, for a staff invitation) has the email. It
	// returns the approval stored: a staff invitation pending approval with
	// FirstStaff set is stored not_required instead when, in the same
	// transaction, the staff has no system administrator (a person, active
	// or suspended) and no invitation open or pending (the first one after
	// the bootstrap), with a reason appended to e.
	CreateInvitation(ctx context.Context, e rempart.AuditEntry, inv InvitationRow) (approval string, err error)
	// DecideInvitation records the approval or rejection of an invitation
	// of a tenant ("" staff) that is pending approval and unexpired at
	// dec.At; ECONFLICT otherwise.
	DecideInvitation(ctx context.Context, e rempart.AuditEntry, tenant, id string, dec InvitationDecision) error
	// Invitation returns an invitation by ID, or ENOTFOUND.
	Invitation(ctx context.Context, id string) (InvitationRow, error)
	// Invitations lists a tenant's (or the staff's) invitations, newest first.
	Invitations(ctx context.Context, tenant string) ([]rempart.Invitation, error)
	// RevokeInvitation withdraws a pending invitation of a tenant ("" staff);
	// ENOTFOUND when there is no such pending one.
	RevokeInvitation(ctx context.Context, e rempart.AuditEntry, tenant, id string) error
	// AcceptInvitation marks the invitation accepted and creates its user,
	// in one transaction; EUNAUTHORIZED when the invitation was accepted,
	// revoked or expired meanwhile, ECONFLICT when the email is taken.
	AcceptInvitation(ctx context.Context, e rempart.AuditEntry, invitationID string, u UserRow) error

	// UserByEmail returns the user with this (lowercased) email, or ENOTFOUND.
	UserByEmail(ctx context.Context, email string) (UserRow, error)
	// User returns a user by ID, or ENOTFOUND.
	User(ctx context.Context, id string) (UserRow, error)
	// Users lists a tenant's users ("" for staff), oldest first.
	Users(ctx context.Context, tenant string) ([]rempart.User, error)
	// SetUserStatus changes a user's status; suspending revokes every
	// session of the user in the same transaction (IAM-8).
	// ENOTFOUND when the tenant ("" staff) has no such user.
	SetUserStatus(ctx context.Context, e rempart.AuditEntry, tenant, id, status string) error
	// RevokeAccess suspends a user of tenant ("" staff) and revokes, in the
	// same transaction, its sessions, second factors, recovery codes and
	// grants not yet over, and with clearPassword its password (IAM-8). It
	// counts what it revoked into e's reason. ENOTFOUND as SetUserStatus.
	RevokeAccess(ctx context.Context, e rempart.AuditEntry, tenant, id string, clearPassword bool) (rempart.Revocation, error)
	// TenantPasswordPolicy returns a tenant's overrides of the password
	// policy (none when unset); SetTenantPasswordPolicy replaces them.
	TenantPasswordPolicy(ctx context.Context, tenant string) (password.TenantPolicy, error)
	SetTenantPasswordPolicy(ctx context.Context, e rempart.AuditEntry, tenant string, tp password.TenantPolicy) error
	// SetPassword replaces a user's password hash as of at, keeps it in the
	// history (trimmed to keep entries), and revokes every session of the
	// user.
	SetPassword(ctx context.Context, e rempart.AuditEntry, id, hash string, at time.Time, keep int) error
	// PasswordHistory returns the user's current and previous password
	// hashes, newest first, at most n.
	PasswordHistory(ctx context.Context, id string, n int) ([]string, error)
	// Rehash replaces a password hash made with weaker parameters, without
	// an audit entry: the password did not change.
	Rehash(ctx context.Context, id, old, hash string) error

	// CreateSession stores a session and the user's last sign-in.
	CreateSession(ctx context.Context, e rempart.AuditEntry, s SessionRow) error
	// SessionByID returns a session with its user's principal, or ENOTFOUND.
	SessionByID(ctx context.Context, id string) (SessionRow, error)
	// TouchSession records that a session was used at t.
	TouchSession(ctx context.Context, id string, t time.Time) error
	// UserSessions lists a user's sessions that have not ended, newest first.
	UserSessions(ctx context.Context, userID string, now time.Time) ([]rempart.Session, error)
	// RevokeSession revokes one session of a user; ENOTFOUND when the user
	// has no such session.
	RevokeSession(ctx context.Context, e rempart.AuditEntry, userID, id, why string) error
}
