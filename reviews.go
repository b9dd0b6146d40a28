package rempart

import "time"

// Role changes (IAM-10): a role changes only through a request that a
// second person approves; both steps are recorded.

// Role change statuses.
const (
	RoleChangePending  = "pending"
	RoleChangeApproved = "approved"
	RoleChangeRejected = "rejected"
)

// RoleChangeCreate is the body of POST …/role-changes.
type RoleChangeCreate struct {
	PrincipalID string `json:"principal_id"`
	Role        string `json:"role"`
	Reason      string `json:"reason"`
}

// RoleChangeDecision is the body of POST …/role-changes/{id}/approve and
// …/reject, and of …/invitations/{id}/approve and …/reject: the same
// second-person decision (IAM-10).
type RoleChangeDecision struct {
	Note string `json:"note,omitempty"`
}

// RoleChange is a request to change the role of a user or service account
// of a tenant (TenantID empty: staff).
type RoleChange struct {
	ID          string     `json:"id"`
	TenantID    string     `json:"tenant_id,omitempty"`
	PrincipalID string     `json:"principal_id"`
	SubjectName string     `json:"subject_name"`
	FromRole    string     `json:"from_role"`
	ToRole      string     `json:"to_role"`
	Reason      string     `json:"reason"`
	RequestedBy string     `json:"requested_by"`
	RequestedAt time.Time  `json:"requested_at"`
	Status      string     `json:"status"`
	DecidedBy   string     `json:"decided_by,omitempty"`
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
	Note        string     `json:"note,omitempty"`
	CampaignID  string     `json:"campaign_id,omitempty"`
}

// RoleChangeList is a scope's role change requests, newest first.
type RoleChangeList struct {
	RoleChanges []RoleChange `json:"role_changes"`
}

// Access reviews (IAM-9).

// Review item kinds, MFA states, flags and decisions.
const (
	ReviewUser           = "user"
	ReviewServiceAccount = "service_account"

	MFAEnrolled      = "enrolled"
	MFANone          = "none"
	MFANotApplicable = "not_applicable" // service accounts sign in with keys

	FlagDormant            = "dormant"
	FlagNoMFA              = "no_mfa"
	FlagPrivileged         = "privileged"
	FlagPendingOffboarding = "pending_offboarding"

	DecisionKeep       = "keep"
	DecisionChangeRole = "change_role"
	DecisionRevoke     = "revoke"
)

// CampaignCreate is the body of POST …/access-reviews.
type CampaignCreate struct {
	Name      string `json:"name,omitempty"`
	DueInDays int    `json:"due_in_days,omitempty"`
}

// Campaign is an access review of one scope: a tenant's accounts, or the
// staff and the deployment's own service accounts (TenantID empty).
type Campaign struct {
	ID        string     `json:"id"`
	TenantID  string     `json:"tenant_id,omitempty"`
	Name      string     `json:"name"`
	Period    string     `json:"period,omitempty"` // the quarter of a scheduled campaign
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	DueAt     time.Time  `json:"due_at"`
	ClosedAt  *time.Time `json:"closed_at,omitempty"`
	Accounts  int        `json:"accounts"` // items to decide
	Decided   int        `json:"decided"`
	Reminders []string   `json:"reminders,omitempty"` // days (YYYY-MM-DD) a reminder was sent
}

// Overdue reports whether the campaign is open past its due date at now.
func (c Campaign) Overdue(now time.Time) bool { return c.ClosedAt == nil && !now.Before(c.DueAt) }

// CampaignList is a scope's campaigns, newest first.
type CampaignList struct {
	Campaigns []Campaign `json:"campaigns"`
}

// ReviewItem is one account of a campaign as it was when the campaign
// opened, and the reviewer's decision.
type ReviewItem struct {
	PrincipalID string     `json:"principal_id"`
	Kind        string     `json:"kind"`
	Name        string     `json:"name"`
	Email       string     `json:"email,omitempty"`
	Role        string     `json:"role"`
	Status      string     `json:"status"`
	Grants      []string   `json:"grants"`
	CreatedAt   time.Time  `json:"created_at"`
	LastLoginAt *time.Time `json:"last_login_at,omitempty"`
	MFA         string     `json:"mfa"`
	Flags       []string   `json:"flags"`

	Decision     string     `json:"decision,omitempty"`
	NewRole      string     `json:"new_role,omitempty"`
	Note         string     `json:"note,omitempty"`
	DecidedBy    string     `json:"decided_by,omitempty"`
	DecidedAt    *time.Time `json:"decided_at,omitempty"`
	RoleChangeID string     `json:"role_change_id,omitempty"`
}

// CampaignDetail is a campaign with its items.
type CampaignDetail struct {
	Campaign
	Items []ReviewItem `json:"items"`
}

// ReviewDecided is the answer to a decision: the campaign (closed by its
// last decision) and the decided item.
type ReviewDecided struct {
	Campaign Campaign   `json:"campaign"`
	Item     ReviewItem `json:"item"`
}

// ReviewDecision is the body of POST …/access-reviews/{campaign}/items/{principal}.
type ReviewDecision struct {
	Decision string `json:"decision"`
	Role     string `json:"role,omitempty"` // the new role, for change_role
	Note     string `json:"note,omitempty"`
}
