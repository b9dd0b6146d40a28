package rempart

// Roles. System roles act across tenants on the control plane only; tenant
// roles act inside one tenant (IAM-2). See guard/permissions.go for what each
// may do.
const (
	RoleSystemAdmin = "system_admin" // vendor operator: tenants, keys; never tenant records
	RoleAdmin       = "admin"        // tenant admin: records, service accounts, audit trail
	RoleWriter      = "writer"       // tenant: read and write records
	RoleReader      = "reader"       // tenant: read records
)

// TenantRoles are the roles a tenant service account may hold.
var TenantRoles = []string{RoleAdmin, RoleWriter, RoleReader}

// Principal is an authenticated identity (IAM-1): one person or one service
// account. TenantID is empty for system principals.
type Principal struct {
	ID       string
	Name     string
	TenantID string
	Role     string
}

// Caller is who makes a request, with which credential, and from where. It
// travels with every store call so that the audit entry can say it (AUD-1).
type Caller struct {
	Principal    Principal
	CredentialID string // the API key (or session) used; "" when none
	IP           string
	UserAgent    string
	RequestID    string
	// EnrolOnly marks a person's session that may only enrol a second
	// factor: staff, or a user of a tenant that requires MFA, without one
	// (IAM-4). guard refuses it everything.
	EnrolOnly bool
	// RecentMFA is set when the caller's session proved a second factor
	// within the step-up window (IAM-4); guard.StepUp requires it.
	RecentMFA bool
}

// Anonymous reports whether the caller presented no valid credential.
func (c Caller) Anonymous() bool { return c.Principal.ID == "" }

// Entry starts the audit entry of an action c takes: who, with which
// credential, from where, in which request; a success until the action
// says otherwise (AUD-1).
func (c Caller) Entry(tenantID, action, resource string) AuditEntry {
	return AuditEntry{TenantID: tenantID, PrincipalID: c.Principal.ID, CredentialID: c.CredentialID, Action: action, Resource: resource,
		Outcome: OutcomeSuccess, IP: c.IP, UserAgent: c.UserAgent, RequestID: c.RequestID}
}
