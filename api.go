package rempart

import (
	"encoding/json"
	"time"
)

// The JSON shapes of the REST API (/api/v1). The server and the Go client
// share them, so that a change shows in both and in the OpenAPI document.

// Tenant is a customer company.
type Tenant struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Status    string    `json:"status"` // TenantActive or TenantSuspended
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Tenant statuses.
const (
	TenantActive    = "active"
	TenantSuspended = "suspended"
)

// TenantCreate is the body of POST /tenants.
type TenantCreate struct {
	Name string `json:"name"`
}

// ServiceAccount is a non-human principal of one tenant (IAM-1).
type ServiceAccount struct {
	ID        string    `json:"id"`
	TenantID  string    `json:"tenant_id"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

// ServiceAccountCreate is the body of POST /tenants/{tenant}/service-accounts.
type ServiceAccountCreate struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// APIKey describes an API key; the secret itself is shown only once, in
// APIKeyCreated, and stored only as a hash.
type APIKey struct {
	ID          string     `json:"id"`
	PrincipalID string     `json:"principal_id"`
	TenantID    string     `json:"tenant_id,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   time.Time  `json:"expires_at"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
}

// APIKeyCreate is the body of POST …/keys. ExpiresInDays defaults to the
// server's configured key lifetime (90 days) and cannot exceed it.
type APIKeyCreate struct {
	ExpiresInDays int `json:"expires_in_days,omitempty"`
}

// APIKeyCreated carries the secret of a new key: the only time it is shown.
type APIKeyCreated struct {
	APIKey
	Secret string `json:"secret"`
}

// Record is one JSON document of a tenant's collection. Data is the caller's
// own JSON object, stored encrypted (ENC-2).
type Record struct {
	ID         string          `json:"id"`
	Collection string          `json:"collection"`
	Version    int64           `json:"version"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
	DeletedAt  *time.Time      `json:"deleted_at,omitempty"`
	Data       json.RawMessage `json:"data"`
}

// RecordList is a page of records; NextCursor is empty on the last page.
type RecordList struct {
	Records    []Record `json:"records"`
	NextCursor string   `json:"next_cursor,omitempty"`
}

// CollectionList names a tenant's collections.
type CollectionList struct {
	Collections []string `json:"collections"`
}

// AuditEntry is one line of the audit trail (AUD-1). Its canonical JSON
// encoding (encoding/json of this struct, fields in this order) is what the
// Merkle tree hashes (AUD-2), so fields are only ever appended.
type AuditEntry struct {
	Index        uint64    `json:"index"`
	Time         time.Time `json:"time"`
	TenantID     string    `json:"tenant_id,omitempty"`
	PrincipalID  string    `json:"principal_id,omitempty"`
	CredentialID string    `json:"credential_id,omitempty"`
	Action       string    `json:"action"`
	Resource     string    `json:"resource,omitempty"`
	Outcome      string    `json:"outcome"` // OutcomeSuccess, OutcomeDenied, OutcomeFailure
	Reason       string    `json:"reason,omitempty"`
	IP           string    `json:"ip,omitempty"`
	UserAgent    string    `json:"user_agent,omitempty"`
	RequestID    string    `json:"request_id,omitempty"`
}

// Audit outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeDenied  = "denied"
	OutcomeFailure = "failure"
)

// AuditList is a page of audit entries.
type AuditList struct {
	Entries    []AuditEntry `json:"entries"`
	NextCursor string       `json:"next_cursor,omitempty"`
}

// Checkpoint is a signed statement of the audit log's size and root hash.
// Note is the signed note text (C2SP signed-note / tlog-checkpoint format);
// VerifierKey is the public key to check it with.
type Checkpoint struct {
	Origin      string `json:"origin"`
	Size        uint64 `json:"size"`
	RootHash    []byte `json:"root_hash"`
	Note        string `json:"note"`
	VerifierKey string `json:"verifier_key"`
}

// Proof is an inclusion or consistency proof over the audit log.
type Proof struct {
	Index    uint64   `json:"index,omitempty"` // inclusion: the leaf index
	From     uint64   `json:"from,omitempty"`  // consistency: the older size
	Size     uint64   `json:"size"`
	LeafHash []byte   `json:"leaf_hash,omitempty"`
	Hashes   [][]byte `json:"hashes"`
}

// Bootstrapped is the answer to POST /bootstrap: the first administrator's
// API key.
type Bootstrapped struct {
	Principal ServiceAccount `json:"principal"`
	Key       APIKeyCreated  `json:"key"`
}
