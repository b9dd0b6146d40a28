// Package vault is the data plane: tenants and their collections of JSON
// records. Every operation follows the one rule (DESIGN.md): authenticate
// (done by the caller) → authorise (guard) → act on encrypted storage →
// audit. Records are sealed with AES-256-GCM under the tenant's data key, with
// tenant, collection, record ID and version as associated data (ENC-2, TEN-2).
package vault

import (
	"context"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
	"github.com/rempart/rempart/keys"
)

// RecordRow is a record as stored: metadata in clear, data sealed.
type RecordRow struct {
	Collection string
	ID         string
	Version    int64
	CreatedAt  time.Time
	UpdatedAt  time.Time
	DeletedAt  *time.Time
	DataKeyID  string
	Ciphertext []byte
}

// ListQuery selects a page of records. After is the position of the last
// record of the previous page (from the cursor).
type ListQuery struct {
	SortBy     string // "created_at" or "updated_at"
	Descending bool
	Limit      int
	After      *Position
	Deleted    bool // list soft-deleted records instead of live ones
}

// Position is a point in a sorted listing.
type Position struct {
	Time time.Time
	ID   string
}

// Idempotency ties a create to a client-chosen key (per principal).
type Idempotency struct {
	Key         string
	RequestHash []byte
}

// Store is what the data plane needs from storage. Every method that touches a
// tenant's data takes a guard.Scope and filters by its tenant; writes take the
// audit entry that commits with them (AUD-1).
type Store interface {
	// Audit records an entry and returns once it is durable.
	Audit(ctx context.Context, e rempart.AuditEntry) (rempart.AuditEntry, error)

	Tenant(ctx context.Context, id string) (rempart.Tenant, error)
	Tenants(ctx context.Context) ([]rempart.Tenant, error)
	CreateTenant(ctx context.Context, e rempart.AuditEntry, t rempart.Tenant, k keys.WrappedKeys) (rempart.AuditEntry, error)
	SetTenantStatus(ctx context.Context, s guard.Scope, e rempart.AuditEntry, status string) (rempart.Tenant, error)
	DeleteTenant(ctx context.Context, s guard.Scope, e rempart.AuditEntry) error
	// TenantKeys returns the wrapped keys of a tenant's data key; an empty
	// dataKeyID means the active one.
	TenantKeys(ctx context.Context, s guard.Scope, dataKeyID string) (keys.WrappedKeys, error)

	GetRecord(ctx context.Context, s guard.Scope, collection, id string) (RecordRow, error)
	ListRecords(ctx context.Context, s guard.Scope, collection string, q ListQuery) ([]RecordRow, error)
	Collections(ctx context.Context, s guard.Scope) ([]string, error)
	// CreateRecord inserts row. With an idempotency key already used by the
	// same principal it inserts nothing and returns the existing record's
	// collection and ID with existing=true, or ECONFLICT if the request
	// differs.
	CreateRecord(ctx context.Context, s guard.Scope, e rempart.AuditEntry, row RecordRow, idem *Idempotency) (got RecordRow, existing bool, err error)
	// MutateRecord loads a record (deleted or not) in the write transaction,
	// passes it to fn, and stores what fn returns; fn's error aborts the
	// change and is returned.
	MutateRecord(ctx context.Context, s guard.Scope, e rempart.AuditEntry, collection, id string, fn func(cur RecordRow) (RecordRow, error)) (RecordRow, error)
	// PurgeRecords removes records soft-deleted before cutoff, at most limit.
	PurgeRecords(ctx context.Context, e rempart.AuditEntry, cutoff time.Time, limit int) (int, error)
}
