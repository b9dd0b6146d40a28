package rempart

import "time"

// Just-in-time access of the vendor's staff to a tenant's service data
// (IAM-7). Staff hold no standing access to any tenant's records: a support
// or engineering staff member asks for a grant, a security admin approves it
// (never the requester), the tenant too when it requires so, and the grant
// ends by itself at its expiry or when revoked. See docs/grants.md.

// Staff roles that may ask for grants, and nothing else standing.
const (
	RoleSupport  = "support"  // answers customers: may ask for read grants
	RoleEngineer = "engineer" // fixes data: may ask for read or write grants
)

// Grant scopes: what a grant allows on the tenant's records.
const (
	GrantRead  = "read"  // read records and attachments
	GrantWrite = "write" // read and write them
)

// Grant statuses, computed from the grant's times (no job makes a grant
// inactive: every check compares its times with the clock).
const (
	GrantPending = "pending" // waiting for approval(s)
	GrantActive  = "active"
	GrantDenied  = "denied"
	GrantRevoked = "revoked"
	GrantExpired = "expired" // its time is over, or its request lapsed undecided
)

// Grant limits (IAM-7).
const (
	GrantMinDuration = 15 * time.Minute
	GrantMaxDuration = 8 * time.Hour
	// GrantRequestTTL is how long a request waits for its approvals before
	// it lapses.
	GrantRequestTTL = 24 * time.Hour
	GrantReasonMin  = 10
	GrantReasonMax  = 500
)

// EventAccessWithoutGrant is the security event raised when a staff
// principal asks for a tenant's service data without an active grant that
// covers it. Like the password events (password.account_lockout …), it is an
// audit entry of its own with this action and outcome denied, for monitoring
// to watch.
const EventAccessWithoutGrant = "staff.access_without_grant"

// GrantCreate is the body of POST /grants.
type GrantCreate struct {
	TenantID        string `json:"tenant_id"`
	Reason          string `json:"reason"`
	Scope           string `json:"scope"`
	DurationMinutes int    `json:"duration_minutes"`
}

// Grant is a staff member's just-in-time access to one tenant's records.
type Grant struct {
	ID              string `json:"id"`
	TenantID        string `json:"tenant_id"`
	RequesterID     string `json:"requester_id"`
	Reason          string `json:"reason"`
	Scope           string `json:"scope"`
	DurationMinutes int    `json:"duration_minutes"`
	Status          string `json:"status"`
	// TenantApprovalRequired is the tenant's setting when the grant was
	// requested: then a tenant admin must approve as well.
	TenantApprovalRequired bool       `json:"tenant_approval_required"`
	CreatedAt              time.Time  `json:"created_at"`
	ApprovedBy             string     `json:"approved_by,omitempty"`
	ApprovedAt             *time.Time `json:"approved_at,omitempty"`
	TenantApprovedBy       string     `json:"tenant_approved_by,omitempty"`
	TenantApprovedAt       *time.Time `json:"tenant_approved_at,omitempty"`
	DeniedBy               string     `json:"denied_by,omitempty"`
	DeniedAt               *time.Time `json:"denied_at,omitempty"`
	RevokedBy              string     `json:"revoked_by,omitempty"`
	RevokedAt              *time.Time `json:"revoked_at,omitempty"`
	// ActiveFrom is when the last approval came in; the grant ends at
	// ExpiresAt, DurationMinutes later.
	ActiveFrom *time.Time `json:"active_from,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
}

// StatusAt is the grant's status at now.
func (g Grant) StatusAt(now time.Time) string {
	switch {
	case g.RevokedAt != nil:
		return GrantRevoked
	case g.DeniedAt != nil:
		return GrantDenied
	case g.ActiveFrom != nil && g.ExpiresAt != nil:
		if now.Before(*g.ExpiresAt) && !now.Before(*g.ActiveFrom) {
			return GrantActive
		}
		return GrantExpired
	case !now.Before(g.CreatedAt.Add(GrantRequestTTL)):
		return GrantExpired
	}
	return GrantPending
}

// ActiveAt reports whether the grant allows access at now.
func (g Grant) ActiveAt(now time.Time) bool { return g.StatusAt(now) == GrantActive }

// GrantList is a list of grants, newest first.
type GrantList struct {
	Grants []Grant `json:"grants"`
}

// GrantDetail is a grant with every access made under it (access
// transparency): the audit entries that name it, oldest first.
type GrantDetail struct {
	Grant    Grant        `json:"grant"`
	Accesses []AuditEntry `json:"accesses"`
}

// GrantSettings is a tenant's rule for staff grants: with RequireApproval,
// a tenant admin must approve every grant on the tenant too.
type GrantSettings struct {
	TenantID        string    `json:"tenant_id"`
	RequireApproval bool      `json:"require_approval"`
	UpdatedAt       time.Time `json:"updated_at,omitzero"`
}
