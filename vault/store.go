// Package vault is the data plane: tenants, their collections of JSON
// records, and the records' attachments. Every operation follows the one
// rule (DESIGN.md): authenticate (done by the caller) → authorise (guard) →
// act on encrypted storage → audit. Records are sealed with AES-256-GCM
// under the tenant's data key, with tenant, collection, record ID and version
// as associated data (ENC-2, TEN-2); attachments are streams sealed the same
// way (see attachments.go).
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
	// Retention rules, and the purge of records whose retention is over (a
	// record that still has attachments waits until they are purged).
	RetentionStore

	// RecordLive returns ENOTFOUND unless the record exists and is not
	// deleted.
	RecordLive(ctx context.Context, s guard.Scope, collection, id string) error
	// CreateAttachment inserts row once the record is checked live in the
	// same transaction (ENOTFOUND otherwise), and refuses (ECONFLICT) a
	// record that already has maxPerRecord attachments, deleted or not.
	CreateAttachment(ctx context.Context, s guard.Scope, e rempart.AuditEntry, row AttachmentRow, maxPerRecord int) error
	// GetAttachment returns one attachment, deleted or not, with whether its
	// record is deleted.
	GetAttachment(ctx context.Context, s guard.Scope, collection, recordID, id string) (AttachmentRow, error)
	// ListAttachments returns a record's attachments, oldest first: the
	// live ones, or with deleted the soft-deleted ones.
	ListAttachments(ctx context.Context, s guard.Scope, collection, recordID string, deleted bool) ([]AttachmentRow, error)
	// SetAttachmentDeleted loads an attachment in the write transaction,
	// passes it to check (whose error aborts the change) and sets its
	// deleted_at (nil: restored).
	SetAttachmentDeleted(ctx context.Context, s guard.Scope, e rempart.AuditEntry, collection, recordID, id string, deletedAt *time.Time, check func(cur AttachmentRow) error) (AttachmentRow, error)
	// PurgeableAttachments returns at most limit attachments, of any tenant,
	// whose retention is over: soft-deleted, or of a soft-deleted record,
	// with a purge deadline before now, or without one (the deployment's
	// retention) before cutoff.
	PurgeableAttachments(ctx context.Context, now, cutoff time.Time, limit int) ([]PurgeableAttachment, error)
	// PurgeAttachment removes an attachment's row, recording e with it, if
	// it is still due at now and cutoff (ECONFLICT otherwise), and queues
	// its object for deletion in the same transaction.
	PurgeAttachment(ctx context.Context, e rempart.AuditEntry, row AttachmentRow, now, cutoff time.Time) error
	// ObjectPurges returns at most limit queued object keys; ObjectPurged
	// removes one from the queue once the object is gone.
	ObjectPurges(ctx context.Context, limit int) ([]string, error)
	ObjectPurged(ctx context.Context, key string) error
	// TenantObjectPurges lists deleted tenants whose attachment objects are
	// still to be removed.
	TenantObjectPurges(ctx context.Context) ([]string, error)
	// TenantObjectsPurged records, with e, that a deleted tenant's objects
	// are gone.
	TenantObjectsPurged(ctx context.Context, e rempart.AuditEntry, tenantID string) error
}

// AttachmentRow is an attachment as stored: its content is an object of the
// attachments store, its file name is sealed.
type AttachmentRow struct {
	TenantID   string // filled by reads; writes take the scope's tenant
	Collection string
	RecordID   string
	ID         string
	ObjectKey  string
	DataKeyID  string
	// SealedMeta is the plaintext's hex SHA-256, a NUL and the file name,
	// sealed under the data key (see attachmentMetaAD).
	SealedMeta    []byte
	ContentType   string
	Size          int64
	CreatedAt     time.Time
	DeletedAt     *time.Time
	RecordDeleted bool // filled by GetAttachment and SetAttachmentDeleted
}
