package rempart

import "time"

// People (IAM-1): the vendor's staff and its customers' users. A user is a
// principal like a service account, so the audit trail names both the same
// way; what only a person has (an email to sign in with, a password,
// sessions) lives beside it.

// RoleAuditor is the staff role of the vendor's auditors: the whole audit
// log and its proofs, the jobs, nothing that changes anything.
const RoleAuditor = "auditor"

// StaffRoles are the roles a staff user may hold.
var StaffRoles = []string{RoleSystemAdmin, RoleAuditor, RoleSupport, RoleEngineer}

// User statuses.
const (
	UserActive    = "active"
	UserSuspended = "suspended"
)

// User is a person who signs in (IAM-1). TenantID is empty for staff.
type User struct {
	ID                string     `json:"id"`
	TenantID          string     `json:"tenant_id,omitempty"`
	Email             string     `json:"email"`
	Name              string     `json:"name"`
	Role              string     `json:"role"`
	Status            string     `json:"status"`
	CreatedAt         time.Time  `json:"created_at"`
	LastLoginAt       *time.Time `json:"last_login_at,omitempty"`
	PasswordChangedAt *time.Time `json:"password_changed_at,omitempty"`
	// PasswordExpiresAt is when the password must be changed (IAM-3);
	// absent when expiry is disabled.
	PasswordExpiresAt *time.Time `json:"password_expires_at,omitempty"`
}

// UserList is a page of users.
type UserList struct {
	Users []User `json:"users"`
}

// InvitationCreate is the body of POST …/invitations.
type InvitationCreate struct {
	Email string `json:"email"`
	Role  string `json:"role"`
}

// Invitation statuses. An invitation for a privileged role
// (guard.Privileged) waits for a second person's approval before its link
// exists (IAM-10); the others are open at once.
const (
	InvitationPendingApproval = "pending_approval" // no link yet: another person must approve
	InvitationRejected        = "rejected"         // refused by the approver: never usable
	InvitationOpen            = "open"             // the link works until it expires
	InvitationAccepted        = "accepted"
	InvitationRevoked         = "revoked"
	InvitationExpired         = "expired"
)

// Invitation approvals, as stored: whether the invitation needed a second
// person, and what they decided.
const (
	ApprovalNotRequired = "not_required"
	ApprovalPending     = "pending"
	ApprovalApproved    = "approved"
	ApprovalRejected    = "rejected"
)

// Invitation is a one-time invitation (IAM-1). InvitedBy requested it;
// for a privileged role, DecidedBy approved or rejected it (IAM-10).
type Invitation struct {
	ID         string     `json:"id"`
	TenantID   string     `json:"tenant_id,omitempty"`
	Email      string     `json:"email"`
	Role       string     `json:"role"`
	Status     string     `json:"status"`
	Approval   string     `json:"approval"`
	InvitedBy  string     `json:"invited_by"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	DecidedBy  string     `json:"decided_by,omitempty"`
	DecidedAt  *time.Time `json:"decided_at,omitempty"`
	Note       string     `json:"note,omitempty"`
	AcceptedAt *time.Time `json:"accepted_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// StatusAt is the invitation's status at now, from its approval and times.
func (inv Invitation) StatusAt(now time.Time) string {
	switch {
	case inv.AcceptedAt != nil:
		return InvitationAccepted
	case inv.RevokedAt != nil:
		return InvitationRevoked
	case inv.Approval == ApprovalRejected:
		return InvitationRejected
	case !now.Before(inv.ExpiresAt):
		return InvitationExpired
	case inv.Approval == ApprovalPending:
		return InvitationPendingApproval
	}
	return InvitationOpen
}

// InvitationList is a tenant's (or the staff's) invitations, newest first.
type InvitationList struct {
	Invitations []Invitation `json:"invitations"`
}

// InvitationCreated is a new invitation, or one just approved. When the
// deployment sends mail, Mailed is true and the one-time token went only to
// the invitee; without mail, Token is shown once to whoever made the link
// usable (the inviter, or the approver of a privileged invitation), who
// passes the link on. An invitation pending approval has neither.
type InvitationCreated struct {
	Invitation
	Token  string `json:"token,omitempty"`
	Mailed bool   `json:"mailed"`
}

// InvitationAccept is the body of POST /invitations/accept: the invitee
// chooses a name and a password.
type InvitationAccept struct {
	Token    string `json:"token"`
	Name     string `json:"name"`
	Password string `json:"password"`
}

// SignIn is the body of POST /sessions: a person's credentials. Code is the
// second factor when the account has one.
type SignIn struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Code     string `json:"code,omitempty"`
}

// Session kinds (IAM-6): the console's cookie session, and the short-lived
// access token that a person uses with the API.
const (
	SessionConsole = "console"
	SessionAPI     = "api"
)

// Session is a person's signed-in session (IAM-6).
type Session struct {
	ID         string     `json:"id"`
	UserID     string     `json:"user_id"`
	Kind       string     `json:"kind"`
	CreatedAt  time.Time  `json:"created_at"`
	LastSeenAt time.Time  `json:"last_seen_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	IP         string     `json:"ip"`
	UserAgent  string     `json:"user_agent"`
	Current    bool       `json:"current,omitempty"`
	// MFAAt is when the session last proved a second factor (IAM-4).
	MFAAt *time.Time `json:"mfa_at,omitempty"`
	// EnrolOnly is set on a session that may only enrol a second factor.
	EnrolOnly bool `json:"enrol_only,omitempty"`
}

// SessionCreated is a new session with its token, shown once.
type SessionCreated struct {
	Session
	Token string `json:"token"`
}

// SessionList is a user's sessions.
type SessionList struct {
	Sessions []Session `json:"sessions"`
}

// PasswordChange is the body of POST /password: the account's email and
// current password, which need not be unexpired, and the new password.
type PasswordChange struct {
	Email   string `json:"email"`
	Current string `json:"current"`
	New     string `json:"new"`
}

// TenantPasswordPolicy is a tenant's overrides of the deployment's password
// policy (IAM-3); an absent field inherits the deployment's value. The result
// never goes below the floors: 10 characters, 30 days of expiry unless 0
// (never), a history of 5.
type TenantPasswordPolicy struct {
	MinLength  *int `json:"min_length,omitempty"`
	MaxAgeDays *int `json:"max_age_days,omitempty"` // 0: passwords of the tenant never expire
	History    *int `json:"history,omitempty"`
}

// PasswordPolicyInfo is a tenant's overrides and the policy in effect for
// its users.
type PasswordPolicyInfo struct {
	Overrides  TenantPasswordPolicy `json:"overrides"`
	MinLength  int                  `json:"min_length"`
	MaxAgeDays int                  `json:"max_age_days"` // 0: never expire
	History    int                  `json:"history"`
}
