package web

import (
	"context"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/jobs"
)

// The console's view of the domain services: only the methods it calls. Each
// takes the signed-in caller and authorises and audits on its own, as it does
// for the API.

// Sessions is what the console needs from identity.
type Sessions interface {
	// SignIn checks a person's email and password, and the second-factor
	// code when the account has one enrolled, and opens a session. Wrong
	// credentials: a rempart EUNAUTHORIZED error whose message the page shows
	// as is; throttled: ERATELIMIT.
	SignIn(ctx context.Context, in SignIn) (Session, error)
	// Resume returns the caller of a live session token (with IP and user
	// agent filled from in), or EUNAUTHORIZED when it is unknown, expired
	// or revoked.
	Resume(ctx context.Context, token string, in RequestInfo) (rempart.Caller, error)
	// SignOut ends the session of a caller that Resume returned, recording
	// where the request came from.
	SignOut(ctx context.Context, c rempart.Caller) error
}

// RequestInfo says where a request comes from, for the audit trail.
type RequestInfo struct{ IP, UserAgent, RequestID string }

// SignIn is what a person types into the sign-in form.
type SignIn struct {
	Email, Password, Code string
	RequestInfo
}

// Session is an open session: its secret token, kept only in the browser's
// cookie, and when it ends.
type Session struct {
	Token     string
	ExpiresAt time.Time
	// Challenge, when set, means no session yet: the password was right
	// and the second step of the sign-in is due (MFAService.CompleteSignIn).
	Challenge string
}

// TenantService is the tenants (vault.Service).
type TenantService interface {
	Tenants(ctx context.Context, c rempart.Caller) ([]rempart.Tenant, error)
	Tenant(ctx context.Context, c rempart.Caller, id string) (rempart.Tenant, error)
	CreateTenant(ctx context.Context, c rempart.Caller, name string) (rempart.Tenant, error)
	SetTenantStatus(ctx context.Context, c rempart.Caller, id, status string) (rempart.Tenant, error)
	DeleteTenant(ctx context.Context, c rempart.Caller, id string) error
}

// AccountService is a tenant's service accounts and their API keys
// (identity.Service).
type AccountService interface {
	ServiceAccounts(ctx context.Context, c rempart.Caller, tenant string) ([]rempart.ServiceAccount, error)
	CreateServiceAccount(ctx context.Context, c rempart.Caller, tenant string, in rempart.ServiceAccountCreate) (rempart.ServiceAccount, error)
	APIKeys(ctx context.Context, c rempart.Caller, tenant, account string) ([]rempart.APIKey, error)
	CreateAPIKey(ctx context.Context, c rempart.Caller, tenant, account string, in rempart.APIKeyCreate) (rempart.APIKeyCreated, error)
	RevokeAPIKey(ctx context.Context, c rempart.Caller, tenant, account, keyID string) error
}

// AuditService is the audit log (audit.Log).
type AuditService interface {
	TenantEntries(ctx context.Context, c rempart.Caller, tenant string, start uint64, limit int, action, principal string) (rempart.AuditList, error)
	Entries(ctx context.Context, c rempart.Caller, start uint64, limit int, action, principal string) (rempart.AuditList, error)
}

// KeyService is the deployment's key inventory and root rotation
// (keys.Admin).
type KeyService interface {
	Inventory(ctx context.Context, c rempart.Caller) (rempart.KeyInventory, error)
	RotateRoot(ctx context.Context, c rempart.Caller) (rempart.Job, error)
}

// TenantKeyService is one tenant's keys (vault.Keys).
type TenantKeyService interface {
	Inventory(ctx context.Context, c rempart.Caller, tenant string) (rempart.TenantKeys, error)
	Rotate(ctx context.Context, c rempart.Caller, tenant string) (rempart.Job, error)
	// SetCustomerKey makes the tenant's own key, at uri (a PKCS#11 URI or a
	// KMS URL), wrap its key-encryption keys (GOV-5); RemoveCustomerKey
	// goes back to the deployment's root key.
	SetCustomerKey(ctx context.Context, c rempart.Caller, tenant, uri string) (rempart.TenantKeys, error)
	RemoveCustomerKey(ctx context.Context, c rempart.Caller, tenant string) (rempart.TenantKeys, error)
}

// RetentionService is a tenant's retention rules (vault.Service, GOV-5,
// BCK-3). The set methods call read once the caller is authorised, to fill
// in the rule; an error it returns is refused and audited like a value out
// of bounds.
type RetentionService interface {
	Retention(ctx context.Context, c rempart.Caller, tenant string) (rempart.Retention, error)
	SetRetentionDefault(ctx context.Context, c rempart.Caller, tenant string, read func(*rempart.RetentionRuleSet) error) (rempart.RetentionRule, error)
	SetRetentionRule(ctx context.Context, c rempart.Caller, tenant, collection string, read func(*rempart.RetentionRuleSet) error) (rempart.RetentionRule, error)
	DeleteRetentionDefault(ctx context.Context, c rempart.Caller, tenant string) error
	DeleteRetentionRule(ctx context.Context, c rempart.Caller, tenant, collection string) error
}

// BackupService is the backups and restore tests (backup.Service).
type BackupService interface {
	RequestBackup(ctx context.Context, c rempart.Caller) (rempart.Job, error)
	RequestVerify(ctx context.Context, c rempart.Caller, id string) (rempart.Job, error)
	RequestRestoreTest(ctx context.Context, c rempart.Caller) (rempart.Job, error)
	Records(ctx context.Context, c rempart.Caller) (rempart.BackupList, error)
	History(ctx context.Context, c rempart.Caller, limit int) (rempart.RestoreTestList, error)
}

// JobService is the background jobs (jobs.Runner).
type JobService interface {
	List(ctx context.Context, c rempart.Caller, q jobs.Query) (rempart.JobList, error)
}
