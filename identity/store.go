// Package identity holds principals and their credentials (IAM-1, IAM-6,
// IAM-8): service accounts of a tenant, the system administrators, and the API
// keys they authenticate with. Keys are shown once, stored only as a hash,
// expire, and can be revoked with immediate effect.
package identity

import (
	"context"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
)

// KeyRow is an API key as stored, with its principal.
type KeyRow struct {
	ID        string
	Principal rempart.Principal
	Hash      []byte // SHA-256 of the secret
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt *time.Time
	// PrincipalDeleted is set when the key's principal was removed.
	PrincipalDeleted bool
}

// Store is what identity needs from storage.
type Store interface {
	PeopleStore
	MFAStore
	SSOStore
	NoticeStore

	Audit(ctx context.Context, e rempart.AuditEntry) (rempart.AuditEntry, error)
	Tenant(ctx context.Context, id string) (rempart.Tenant, error)

	// APIKey returns a key and its principal, or ENOTFOUND.
	APIKey(ctx context.Context, id string) (KeyRow, error)
	APIKeys(ctx context.Context, s guard.Scope, principalID string) ([]rempart.APIKey, error)
	CreateAPIKey(ctx context.Context, s guard.Scope, e rempart.AuditEntry, k KeyRow) error
	RevokeAPIKey(ctx context.Context, s guard.Scope, e rempart.AuditEntry, principalID, keyID string) error

	PersonalKeyStore

	ServiceAccounts(ctx context.Context, s guard.Scope) ([]rempart.ServiceAccount, error)
	ServiceAccount(ctx context.Context, s guard.Scope, id string) (rempart.ServiceAccount, error)
	CreateServiceAccount(ctx context.Context, s guard.Scope, e rempart.AuditEntry, sa rempart.ServiceAccount) error
	// DeleteServiceAccount removes a service account and revokes its keys.
	DeleteServiceAccount(ctx context.Context, s guard.Scope, e rempart.AuditEntry, id string) error

	// HasSystemAdmin reports whether a system administrator holds an
	// unexpired, unrevoked key.
	HasSystemAdmin(ctx context.Context) (bool, error)
	// SetBootstrapToken stores the hash of a new one-time bootstrap token,
	// replacing any earlier one.
	SetBootstrapToken(ctx context.Context, e rempart.AuditEntry, hash []byte, expires time.Time) error
	// Bootstrap checks the token hash (constant time, unexpired, no admin
	// yet), then creates the first system administrator with its key and
	// deletes the token, all in one transaction.
	Bootstrap(ctx context.Context, e rempart.AuditEntry, tokenHash []byte, admin rempart.ServiceAccount, k KeyRow) error
}
