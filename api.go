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

// Attachment describes a file attached to a record, such as a call
// recording or a document. Its content is stored encrypted with streaming
// AES-256-GCM under the tenant's keys, and so is its file name (ENC-2); it is
// uploaded and downloaded as raw bytes, not in JSON. SHA256 is the hex
// SHA-256 of the content, also served as its ETag.
type Attachment struct {
	ID          string     `json:"id"`
	Collection  string     `json:"collection"`
	RecordID    string     `json:"record_id"`
	Filename    string     `json:"filename"`
	ContentType string     `json:"content_type"`
	Size        int64      `json:"size"`
	SHA256      string     `json:"sha256"`
	CreatedAt   time.Time  `json:"created_at"`
	DeletedAt   *time.Time `json:"deleted_at,omitempty"`
}

// AttachmentList lists the attachments of one record, oldest first.
type AttachmentList struct {
	Attachments []Attachment `json:"attachments"`
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
	// GrantID names the staff access grant an access was made under
	// (IAM-7). Empty otherwise, and then absent from the encoding, so that
	// entries written before it existed hash the same.
	GrantID string `json:"grant_id,omitempty"`
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

// Job is a unit of background work (package jobs): a backup, a restore test,
// a key rotation. Done and Total show its progress (Total 0: unknown).
type Job struct {
	ID        string          `json:"id"`
	Kind      string          `json:"kind"`
	UniqueKey string          `json:"unique_key,omitempty"`
	Params    json.RawMessage `json:"params"`
	State     json.RawMessage `json:"state,omitempty"`
	Status    string          `json:"status"` // queued, running, done, failed
	Done      int64           `json:"done"`
	Total     int64           `json:"total"`
	Attempts  int             `json:"attempts"`
	Error     string          `json:"error,omitempty"`
	RunAfter  time.Time       `json:"run_after"`
	CreatedAt time.Time       `json:"created_at"`
	Started   *time.Time      `json:"started_at,omitempty"`
	Finished  *time.Time      `json:"finished_at,omitempty"`
	// LeaseOwner and LeaseUntil say which node holds a running job.
	LeaseOwner string     `json:"-"`
	LeaseUntil *time.Time `json:"-"`
}

// JobList is a list of jobs, newest first.
type JobList struct {
	Jobs []Job `json:"jobs"`
}

// Backup is what the database records of a backup (BCK-1); its key, wrapped
// by the root key, is never shown.
type Backup struct {
	ID         string     `json:"id"`
	Status     string     `json:"status"` // running, complete, failed, deleted
	RootKeyID  string     `json:"root_key_id"`
	WrappedKey []byte     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	DataBytes  int64      `json:"data_bytes"`
	Rows       int64      `json:"rows"`
	Objects    int64      `json:"objects"`
	Error      string     `json:"error,omitempty"`
}

// BackupList lists the recorded backups, newest first, with the key that
// verifies their manifests.
type BackupList struct {
	Backups     []Backup `json:"backups"`
	VerifierKey string   `json:"verifier_key"`
}

// RestoreTest is the evidence of one restore test (BCK-2): which backup was
// restored into a scratch database, what was checked, how long it took.
type RestoreTest struct {
	ID        string    `json:"id"`
	BackupID  string    `json:"backup_id,omitempty"`
	StartedAt time.Time `json:"started_at"`
	// DurationMilli is the whole test; RestoreMilli and VerifyMilli its
	// two halves.
	DurationMilli int64  `json:"duration_ms"`
	RestoreMilli  int64  `json:"restore_ms"`
	VerifyMilli   int64  `json:"verify_ms"`
	Outcome       string `json:"outcome"` // OutcomeSuccess or OutcomeFailure
	Tables        int    `json:"tables"`
	Rows          int64  `json:"rows"`
	Objects       int64  `json:"objects"`
	DataBytes     int64  `json:"data_bytes"`
	AuditEntries  uint64 `json:"audit_entries"`
	Error         string `json:"error,omitempty"`
}

// RestoreTestList lists restore tests, newest first.
type RestoreTestList struct {
	RestoreTests []RestoreTest `json:"restore_tests"`
}

// KeyInventory lists keys and where they are used, never key material
// (ENC-3): the root key's versions (system administrators only) and each
// tenant's key-encryption keys and data keys.
type KeyInventory struct {
	RootSource   string           `json:"root_source,omitempty"`
	ActiveRoot   string           `json:"active_root,omitempty"`
	RootVersions []RootKeyVersion `json:"root_versions,omitempty"`
	Tenants      []TenantKeys     `json:"tenants"`
}

// RootKeyVersion is one version of the root key and how many keys and
// secrets it still wraps.
type RootKeyVersion struct {
	ID     string `json:"id"`
	Active bool   `json:"active"`
	Refs   int    `json:"refs"`
}

// TenantKeys are one tenant's keys.
type TenantKeys struct {
	TenantID string        `json:"tenant_id"`
	KEKs     []KEKInfo     `json:"keks"`
	DataKeys []DataKeyInfo `json:"data_keys"`
}

// CustomerKeySet is the body of PUT /tenants/{tenant}/keys/customer: where
// the tenant's own key is (a PKCS#11 URI or a KMS URL).
type CustomerKeySet struct {
	URI string `json:"uri"`
}

// KEKInfo describes a tenant's key-encryption key.
type KEKInfo struct {
	ID        string    `json:"id"`
	Wrapper   string    `json:"wrapper"` // the root key version (or the tenant's own key) that wraps it
	CreatedAt time.Time `json:"created_at"`
	Active    bool      `json:"active"`
}

// DataKeyInfo describes a data key: how many seals were leased under it and
// how much data it still seals.
type DataKeyInfo struct {
	ID          string     `json:"id"`
	KEKID       string     `json:"kek_id"`
	CreatedAt   time.Time  `json:"created_at"`
	Active      bool       `json:"active"`
	RetiredAt   *time.Time `json:"retired_at,omitempty"`
	Seals       int64      `json:"seals"`
	Records     int64      `json:"records"`
	Attachments int64      `json:"attachments"`
}

// RetentionRule is how long a tenant keeps the data of one collection
// (GOV-5): how long a deleted record, with its attachments, stays restorable
// before it is purged, and optionally how long a live record is kept after
// its last update before it is deleted. A rule without Collection is the
// tenant's default, for its collections without a rule of their own.
type RetentionRule struct {
	Collection     string     `json:"collection,omitempty"`
	RestorableDays int        `json:"restorable_days"`
	MaxAgeDays     int        `json:"max_age_days,omitempty"` // 0: live records are kept
	UpdatedAt      *time.Time `json:"updated_at,omitempty"`   // unset for the deployment's default
}

// RetentionRuleSet is the body of PUT /tenants/{tenant}/retention (the
// tenant's default) and PUT /tenants/{tenant}/retention/{collection}. Both
// values are whole days between the bounds the operator set (Retention's
// MinDays and MaxDays).
type RetentionRuleSet struct {
	RestorableDays int `json:"restorable_days"`
	MaxAgeDays     int `json:"max_age_days,omitempty"`
}

// Retention is a tenant's retention rules. Default is what applies to its
// collections without a rule: the tenant's own default (DefaultSource
// "tenant") or else the deployment's ("deployment").
type Retention struct {
	TenantID      string          `json:"tenant_id"`
	Default       RetentionRule   `json:"default"`
	DefaultSource string          `json:"default_source"`
	Rules         []RetentionRule `json:"rules"`
	MinDays       int             `json:"min_days"`
	MaxDays       int             `json:"max_days"`
}

// PersonalKey is a person's own API key (IAM-6): it authenticates as the
// person, with the person's current role, until it expires or is revoked.
// Its secret is shown once, at creation; only a hash is stored.
type PersonalKey struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	UserID     string     `json:"user_id"`
	TenantID   string     `json:"tenant_id,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	Current    bool       `json:"current,omitempty"` // the key of this request
}

// PersonalKeyCreate is the body of POST /api/v1/me/api-keys. ExpiresInDays
// is required: 1 to the deployment's key lifetime in days (90 by default).
type PersonalKeyCreate struct {
	Name          string `json:"name"`
	ExpiresInDays int    `json:"expires_in_days"`
}

// PersonalKeyCreated carries the secret of a new personal key: the only
// time it is shown.
type PersonalKeyCreated struct {
	PersonalKey
	Secret string `json:"secret"`
}

// PersonalKeyList is the answer of GET /api/v1/me/api-keys: the keys that
// still work, never their secrets.
type PersonalKeyList struct {
	Keys []PersonalKey `json:"keys"`
}

// PersonalKeyKind is the ID kind of personal API keys: their credential IDs
// (in callers and audit entries) start with "pak_".
const PersonalKeyKind = "pak"

// IsPersonalKey reports whether a credential ID names a person's API key.
func IsPersonalKey(credentialID string) bool {
	return len(credentialID) > len(PersonalKeyKind) && credentialID[:len(PersonalKeyKind)+1] == PersonalKeyKind+"_"
}
