package vault

import (
	"context"
	"crypto/sha256"
	"errors"
	"regexp"
	"strconv"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
	"github.com/rempart/rempart/keys"
)

// Config tunes the data plane.
type Config struct {
	Limits Limits
	// Retention is how long a soft-deleted record or attachment stays
	// restorable (BCK-3) when its tenant has no rule for it; default 30 days.
	Retention time.Duration
	// RetentionMin and RetentionMax bound the values of tenants' retention
	// rules (GOV-5); default 1 day and 10 years.
	RetentionMin, RetentionMax time.Duration
	// OnTenantDeleted, if set, is called after a tenant and its keys are
	// deleted: the server rewrites the key escrow then, so that no backup
	// can be decrypted for that tenant any more (GOV-5, ADR 7).
	OnTenantDeleted func(ctx context.Context, tenantID string)
	// Objects holds the attachments' sealed content; nil: attachments are
	// not available.
	Objects Objects
	// Attachments bounds what may be attached to records.
	Attachments AttachmentLimits
	// Grants finds staff access grants (IAM-7); nil: staff reach no
	// tenant's records at all.
	Grants GrantLookup
}

// Service is the data plane's API: tenants, records and attachments.
type Service struct {
	store     Store
	keys      *keys.Keyring
	clock     rempart.Clock
	limits    Limits
	retention time.Duration
	onDeleted func(ctx context.Context, tenantID string)
	objects   Objects
	attach    AttachmentLimits
	grants    GrantLookup

	// retentionMin and retentionMax bound tenants' retention rules.
	retentionMin, retentionMax time.Duration
}

// New returns the data plane over store and keyring.
func New(store Store, keyring *keys.Keyring, clock rempart.Clock, cfg Config) *Service {
	if cfg.Retention <= 0 {
		cfg.Retention = 30 * 24 * time.Hour
	}
	if cfg.RetentionMin <= 0 {
		cfg.RetentionMin = 24 * time.Hour
	}
	if cfg.RetentionMax <= 0 {
		cfg.RetentionMax = 10 * 365 * 24 * time.Hour
	}
	return &Service{store: store, keys: keyring, clock: clock, limits: cfg.Limits.withDefaults(), retention: cfg.Retention, onDeleted: cfg.OnTenantDeleted,
		objects: cfg.Objects, attach: cfg.Attachments.withDefaults(), grants: cfg.Grants, retentionMin: cfg.RetentionMin, retentionMax: cfg.RetentionMax}
}

var (
	collectionRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	recordIDRE   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
	tenantNameRE = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N} ._&'-]{0,99}$`)
)

// ValidCollection reports whether name is a valid collection name.
func ValidCollection(name string) bool { return collectionRE.MatchString(name) }

// ValidRecordID reports whether id is a valid record ID.
func ValidRecordID(id string) bool { return recordIDRE.MatchString(id) }

func checkPath(collection, id string) error {
	if !collectionRE.MatchString(collection) {
		return rempart.Errorf(rempart.EINVALID, "Collection names are 1 to 63 characters: a lowercase letter, then lowercase letters, digits, '_' or '-'.")
	}
	if id != "" && !recordIDRE.MatchString(id) {
		return rempart.Errorf(rempart.EINVALID, "Record IDs are 1 to 128 characters: letters, digits, '_' or '-'.")
	}
	return nil
}

// newEntry starts an audit entry for caller doing action on resource.
func newEntry(c rempart.Caller, tenantID, action, resource string) rempart.AuditEntry {
	return rempart.AuditEntry{
		TenantID:     tenantID,
		PrincipalID:  c.Principal.ID,
		CredentialID: c.CredentialID,
		Action:       action,
		Resource:     resource,
		Outcome:      rempart.OutcomeSuccess,
		IP:           c.IP,
		UserAgent:    c.UserAgent,
		RequestID:    c.RequestID,
	}
}

// deny records a refused request and returns err (AUD-1: denials are
// audited and feed monitoring). If even the denial cannot be recorded, the
// answer is EUNAVAILABLE.
func (s *Service) deny(ctx context.Context, e rempart.AuditEntry, err error) error {
	e.Outcome = rempart.OutcomeDenied
	if rempart.ErrorCode(err) != rempart.EFORBIDDEN && rempart.ErrorCode(err) != rempart.EUNAUTHORIZED && rempart.ErrorCode(err) != rempart.ENOTFOUND {
		e.Outcome = rempart.OutcomeFailure
	}
	e.Reason = rempart.ErrorCode(err)
	if _, aerr := s.store.Audit(ctx, e); aerr != nil {
		return aerr
	}
	return err
}

// authorize loads the tenant and checks the caller's permission on it. A
// refusal is audited. Staff reach records only under a grant (IAM-7, see
// grants.go): then e is stamped with the grant's ID, so that the entry of the
// access names it.
func (s *Service) authorize(ctx context.Context, c rempart.Caller, tenantID string, p guard.Permission, e *rempart.AuditEntry) (guard.Scope, error) {
	t, err := s.store.Tenant(ctx, tenantID)
	if rempart.ErrorCode(err) == rempart.ENOTFOUND {
		return guard.Scope{}, s.deny(ctx, *e, err)
	} else if err != nil {
		return guard.Scope{}, err
	}
	scope, err := guard.Authorize(c, t, p)
	if err != nil && guard.NeedsGrant(c, p) {
		return s.underGrant(ctx, c, t, p, e)
	}
	if err != nil {
		return guard.Scope{}, s.deny(ctx, *e, err)
	}
	return scope, nil
}

// dataKey returns the tenant's data key with the given ID ("" = active).
func (s *Service) dataKey(ctx context.Context, scope guard.Scope, id string) (keys.DataKey, error) {
	if id != "" {
		if dk, ok := s.keys.Cached(scope.TenantID(), id); ok {
			return dk, nil
		}
	}
	w, err := s.store.TenantKeys(ctx, scope, id)
	if err != nil {
		return keys.DataKey{}, err
	}
	dk, err := s.keys.Unwrap(ctx, w)
	if err == nil && id == "" {
		// The active key is fetched to seal with: at most two seals (an
		// attachment's stream header and its metadata), counted (ENC-3).
		err = s.keys.ReserveSeals(ctx, scope.TenantID(), dk.ID, 2)
	}
	return dk, err
}

func recordAD(tenant, collection, id string, version int64) []byte {
	return keys.AD(tenant, collection, id, strconv.FormatInt(version, 10))
}

// seal encrypts data into row under the data key dk.
func seal(dk keys.DataKey, scope guard.Scope, row *RecordRow, data []byte) {
	row.DataKeyID = dk.ID
	row.Ciphertext = keys.Seal(dk.AEAD, data, recordAD(scope.TenantID(), row.Collection, row.ID, row.Version))
}

// ErrUndecryptable is returned when a stored record does not open under its
// tenant's key: it was altered or moved from another tenant (TEN-2).
var ErrUndecryptable = &rempart.Error{Code: rempart.EINTERNAL, Message: "The record cannot be decrypted."}

func (s *Service) open(ctx context.Context, scope guard.Scope, row RecordRow) ([]byte, error) {
	dk, err := s.dataKey(ctx, scope, row.DataKeyID)
	if rempart.ErrorCode(err) == rempart.ENOTFOUND {
		return nil, ErrUndecryptable // sealed under a key this tenant does not have
	} else if err != nil {
		return nil, err
	}
	pt, err := keys.Open(dk.AEAD, row.Ciphertext, recordAD(scope.TenantID(), row.Collection, row.ID, row.Version))
	if errors.Is(err, keys.ErrDecrypt) {
		return nil, ErrUndecryptable
	}
	return pt, err
}

func toRecord(row RecordRow, data []byte) rempart.Record {
	return rempart.Record{ID: row.ID, Collection: row.Collection, Version: row.Version, CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt, DeletedAt: row.DeletedAt, Data: data}
}

func requestHash(collection string, data []byte) []byte {
	h := sha256.New()
	h.Write([]byte(collection))
	h.Write([]byte{0})
	h.Write(data)
	return h.Sum(nil)
}
