package vault

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
	"github.com/rempart/rempart/keys"
)

// Tenant key rotation (ENC-3): new keys become active at once — a new
// key-encryption key, wrapped under the active root key version, and a new
// data key under it — and a job re-seals the tenant's records under the new
// data key, batch by batch, then drops the data keys that seal nothing any
// more. A retired KEK is kept as long as a restorable backup may need it
// (ADR 7). Every step is audited.

// KeyStore is what key rotation and the key inventory need from storage.
type KeyStore interface {
	RotateTenantKeys(ctx context.Context, s guard.Scope, e rempart.AuditEntry, w keys.WrappedKeys) error
	// StaleRecords returns up to limit records sealed under a data key
	// other than active, and how many there are.
	StaleRecords(ctx context.Context, s guard.Scope, active string, limit int) ([]RecordRow, int, error)
	// Reencrypt stores re-sealed rows, each only if its version and data
	// key (oldKeys[i]) are unchanged; it returns how many it stored.
	Reencrypt(ctx context.Context, s guard.Scope, e rempart.AuditEntry, rows []RecordRow, oldKeys []string) (int, error)
	// StaleAttachments returns up to limit attachments sealed under a data
	// key other than active, and how many there are.
	StaleAttachments(ctx context.Context, s guard.Scope, active string, limit int) ([]AttachmentRow, int, error)
	// MoveAttachment points an attachment at its re-sealed object if it is
	// still the one under oldKey and oldDataKey.
	MoveAttachment(ctx context.Context, s guard.Scope, e rempart.AuditEntry, a AttachmentRow, oldKey, oldDataKey string) (bool, error)
	// TenantKEKs returns every KEK of the scope's tenant, as stored.
	TenantKEKs(ctx context.Context, s guard.Scope) ([]keys.Wrapped, error)
	// SetKEKWrapper stores the tenant's KEKs re-wrapped under wrapper and
	// records its own key's URI ("" for none).
	SetKEKWrapper(ctx context.Context, s guard.Scope, e rempart.AuditEntry, wrapper, uri string, ks []keys.Wrapped) error
	// CustomerKey returns the tenant's own key, or ENOTFOUND.
	CustomerKey(ctx context.Context, s guard.Scope) (uri, wrapper string, err error)
	// TenantKeys returns the wrapped active keys ("") of the scope's tenant.
	TenantKeys(ctx context.Context, s guard.Scope, dataKeyID string) (keys.WrappedKeys, error)
	// DropRetiredKeys deletes what key rotation left unused.
	DropRetiredKeys(ctx context.Context, s guard.Scope, e rempart.AuditEntry) (dataKeys, keks int, err error)
	TenantKeyInventory(ctx context.Context, tenant string) ([]rempart.TenantKeys, error)
}

// Enqueuer starts background work (the jobs runner).
type Enqueuer interface {
	Enqueue(ctx context.Context, c rempart.Caller, kind, uniqueKey string, params any, runAfter time.Time) (rempart.Job, bool, error)
}

// KindReencrypt is the job that re-seals a tenant's data after a rotation.
const KindReencrypt = "key.tenant.reencrypt"

// ReencryptParams are a re-encryption job's parameters.
type ReencryptParams struct {
	TenantID string `json:"tenant_id"`
}

// Keys rotates tenants' keys and describes them.
type Keys struct {
	v     *Service
	store KeyStore
	jobs  Enqueuer

	customer    CustomerKeys // nil: tenants cannot bring their own keys
	afterChange func(ctx context.Context)
	logger      *slog.Logger
}

// SetLogger sets where failures whose detail the caller must not see are
// logged (default slog.Default()).
func (k *Keys) SetLogger(l *slog.Logger) { k.logger = l }

func (k *Keys) log() *slog.Logger {
	if k.logger != nil {
		return k.logger
	}
	return slog.Default()
}

// CustomerKeys opens a tenant's own key from its URI, after checking it
// against what the operator allows (keys.Customer).
type CustomerKeys interface {
	// Try opens the newest version of the key at uri, keeping nothing
	// open after release. An error that is an EINVALID *rempart.Error is
	// fit for the tenant; any other is detail for the operator only.
	Try(ctx context.Context, uri string) (p keys.Provider, release func(), err error)
}

// SetCustomerKeys lets tenants bring their own keys; afterChange runs after a
// tenant's KEKs are re-wrapped (the server rewrites the key escrow then, so
// that no copy wrapped the old way remains, ADR 7).
func (k *Keys) SetCustomerKeys(c CustomerKeys, afterChange func(ctx context.Context)) {
	k.customer, k.afterChange = c, afterChange
}

// NewKeys returns the tenant key service over the data plane v, whose store
// must also be a KeyStore.
func NewKeys(v *Service, jobs Enqueuer) *Keys {
	return &Keys{v: v, store: v.store.(KeyStore), jobs: jobs}
}

// Rotate makes new keys active for tenant and starts the job that re-seals
// its data. Tenant administrators rotate their own tenant's keys; system
// administrators any tenant's.
func (k *Keys) Rotate(ctx context.Context, c rempart.Caller, tenant string) (rempart.Job, error) {
	e := newEntry(c, tenant, "key.tenant.rotate", "tenants/"+tenant+"/keys")
	scope, err := k.v.authorize(ctx, c, tenant, guard.TenantKeys, &e)
	if err != nil {
		return rempart.Job{}, err
	}
	w, err := k.newKeys(ctx, scope)
	if err != nil {
		return rempart.Job{}, err
	}
	e.Reason = "new data key " + w.DataKeyID + " under " + w.KEKID
	if err := k.store.RotateTenantKeys(ctx, scope, e, w); err != nil {
		return rempart.Job{}, err
	}
	j, _, err := k.jobs.Enqueue(ctx, c, KindReencrypt, "", ReencryptParams{TenantID: tenant}, time.Time{})
	return j, err
}

// AutoRotate rotates a tenant's keys because its active data key reached its
// seal limit (ENC-3): the same as Rotate, done by rempart itself, once per
// data key however many nodes reach the limit.
func (k *Keys) AutoRotate(ctx context.Context, tenant, dataKeyID string) error {
	t, err := k.v.store.Tenant(ctx, tenant)
	if err != nil {
		return err
	}
	scope := guard.Maintenance(t, "seal-limit")
	active, err := k.store.TenantKeys(ctx, scope, "")
	if err != nil {
		return err
	}
	if active.DataKeyID != dataKeyID {
		return nil // already rotated
	}
	w, err := k.newKeys(ctx, scope)
	if err != nil {
		return err
	}
	e := newEntry(scope.Caller(), tenant, "key.tenant.rotate", "tenants/"+tenant+"/keys")
	e.Reason = "seal limit of " + dataKeyID + "; new data key " + w.DataKeyID
	if err := k.store.RotateTenantKeys(ctx, scope, e, w); err != nil {
		return err
	}
	_, _, err = k.jobs.Enqueue(ctx, scope.Caller(), KindReencrypt, "reencrypt:"+w.DataKeyID, ReencryptParams{TenantID: tenant}, time.Time{})
	return err
}

// newKeys makes a tenant's next KEK and data key, the KEK wrapped by the
// tenant's own key if it has one, by the active root key version otherwise.
func (k *Keys) newKeys(ctx context.Context, scope guard.Scope) (keys.WrappedKeys, error) {
	_, wrapper, err := k.store.CustomerKey(ctx, scope)
	if rempart.ErrorCode(err) == rempart.ENOTFOUND {
		return k.v.keys.NewTenantKeys(ctx, scope.TenantID())
	} else if err != nil {
		return keys.WrappedKeys{}, err
	}
	if k.customer == nil {
		return keys.WrappedKeys{}, keys.ErrCustomerKey
	}
	// The version the tenant's wrapper names, not the key's newest: the
	// wrapper records which version unwraps.
	p, err := k.v.keys.Root(ctx, wrapper)
	if err != nil {
		return keys.WrappedKeys{}, err
	}
	return k.v.keys.NewTenantKeysWith(ctx, scope.TenantID(), p, wrapper)
}

// SetCustomerKey makes the tenant's own key, at uri (a PKCS#11 URI or a KMS
// URL the operator allows), wrap its key-encryption keys from now on: every
// KEK is re-wrapped under it at once (GOV-5). If the tenant revokes that key
// later, its data cannot be read — by anyone, from the database or from a
// backup — until it restores it; other tenants are not affected.
func (k *Keys) SetCustomerKey(ctx context.Context, c rempart.Caller, tenant, uri string) (rempart.TenantKeys, error) {
	e := newEntry(c, tenant, "key.tenant.customer_key.set", "tenants/"+tenant+"/keys/customer")
	scope, err := k.v.authorize(ctx, c, tenant, guard.TenantKeys, &e)
	if err != nil {
		return rempart.TenantKeys{}, err
	}
	if k.customer == nil {
		return rempart.TenantKeys{}, k.v.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "This deployment does not take tenants' own keys (the operator sets customer-key-sources)."))
	}
	if len(uri) == 0 || len(uri) > 1024 {
		return rempart.TenantKeys{}, k.v.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "uri must name the key: a PKCS#11 URI or a KMS URL, at most 1024 characters."))
	}
	p, release, err := k.customer.Try(ctx, uri)
	if err != nil {
		if rempart.ErrorCode(err) == rempart.EINVALID { // the operator's policy, in words for the tenant
			return rempart.TenantKeys{}, k.v.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "The key at that URI cannot be used: %s", rempart.ErrorMessage(err)))
		}
		// The detail may tell of the server (its files, its network):
		// the operator's, not the tenant's.
		k.log().Warn("a tenant's own key could not be opened", "tenant", tenant, "principal", c.Principal.ID, "error", err.Error())
		return rempart.TenantKeys{}, k.v.deny(ctx, e, errCustomerKeyUnusable)
	}
	defer release()
	own, err := k.v.keys.IsRootVersion(ctx, p.KeyID())
	if err != nil {
		return rempart.TenantKeys{}, err
	}
	if own {
		return rempart.TenantKeys{}, k.v.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "The key at that URI is this deployment's own root key, not a key of the tenant's."))
	}
	wrapper := keys.CustomerPrefix + p.KeyID()
	e.Reason = wrapper
	return k.rewrapAll(ctx, scope, e, p, wrapper, uri)
}

// errCustomerKeyUnusable is the answer when a tenant's proposed key cannot
// be opened for a reason only the operator may see in full.
var errCustomerKeyUnusable = rempart.Errorf(rempart.EINVALID, "The key at that URI cannot be used: it could not be opened. Check that the URI names an existing key and that this deployment has been given access to it; the operator's log has the detail.")

// RemoveCustomerKey goes back to the deployment's root key: every KEK of the
// tenant is re-wrapped under the active root key version.
func (k *Keys) RemoveCustomerKey(ctx context.Context, c rempart.Caller, tenant string) (rempart.TenantKeys, error) {
	e := newEntry(c, tenant, "key.tenant.customer_key.remove", "tenants/"+tenant+"/keys/customer")
	scope, err := k.v.authorize(ctx, c, tenant, guard.TenantKeys, &e)
	if err != nil {
		return rempart.TenantKeys{}, err
	}
	if _, _, err := k.store.CustomerKey(ctx, scope); err != nil {
		return rempart.TenantKeys{}, k.v.deny(ctx, e, err)
	}
	root, err := k.v.keys.Root(ctx, k.v.keys.RootKeyID())
	if err != nil {
		return rempart.TenantKeys{}, err
	}
	return k.rewrapAll(ctx, scope, e, root, root.KeyID(), "")
}

func (k *Keys) rewrapAll(ctx context.Context, scope guard.Scope, e rempart.AuditEntry, to keys.Provider, wrapper, uri string) (rempart.TenantKeys, error) {
	tenant := scope.TenantID()
	ks, err := k.store.TenantKEKs(ctx, scope)
	if err != nil {
		return rempart.TenantKeys{}, err
	}
	for i := range ks {
		if ks[i].Data, err = k.v.keys.Rewrap(ctx, ks[i], to); err != nil {
			return rempart.TenantKeys{}, k.v.deny(ctx, e, err)
		}
	}
	if err := k.store.SetKEKWrapper(ctx, scope, e, wrapper, uri, ks); err != nil {
		return rempart.TenantKeys{}, err
	}
	k.v.keys.Forget(tenant)
	if k.afterChange != nil {
		k.afterChange(ctx)
	}
	ts, err := k.store.TenantKeyInventory(ctx, tenant)
	if err != nil || len(ts) == 0 {
		return rempart.TenantKeys{}, err
	}
	return ts[0], nil
}

const reencryptBatch = 200

// Reencrypt re-seals every record of tenant still under a retired data key,
// reporting progress, then drops what is no longer used. It is a job's body
// and resumes from wherever it stopped.
func (k *Keys) Reencrypt(ctx context.Context, tenant string, progress func(done, total int64) error) error {
	t, err := k.v.store.Tenant(ctx, tenant)
	if rempart.ErrorCode(err) == rempart.ENOTFOUND {
		return nil // deleted meanwhile: its keys are gone with it
	} else if err != nil {
		return err
	}
	scope := guard.Maintenance(t, "key-rotation")
	var done int64
	for {
		active, err := k.v.dataKey(ctx, scope, "")
		if err != nil {
			return err
		}
		rows, total, err := k.store.StaleRecords(ctx, scope, active.ID, reencryptBatch)
		if err != nil {
			return err
		}
		if progress != nil {
			if err := progress(done, done+int64(total)); err != nil {
				return err
			}
		}
		if len(rows) == 0 {
			break
		}
		if err := k.v.keys.ReserveSeals(ctx, tenant, active.ID, int64(len(rows))); err != nil {
			return err
		}
		old := make([]string, len(rows))
		for i := range rows {
			old[i] = rows[i].DataKeyID
			data, err := k.v.open(ctx, scope, rows[i])
			if err != nil {
				return fmt.Errorf("record %s/%s: %w", rows[i].Collection, rows[i].ID, err)
			}
			seal(active, scope, &rows[i], data)
		}
		e := newEntry(scope.Caller(), tenant, "key.tenant.reencrypt", "tenants/"+tenant+"/keys")
		e.Reason = fmt.Sprintf("%d records under %s", len(rows), active.ID)
		n, err := k.store.Reencrypt(ctx, scope, e, rows, old)
		if err != nil {
			return err
		}
		done += int64(n)
	}
	if err := k.reseal(ctx, scope, tenant, progress, &done); err != nil {
		return err
	}
	e := newEntry(scope.Caller(), tenant, "key.tenant.destroy", "tenants/"+tenant+"/keys")
	e.Reason = "retired keys that seal nothing"
	dks, keks, err := k.store.DropRetiredKeys(ctx, scope, e)
	if err != nil {
		return err
	}
	if dks > 0 || keks > 0 {
		k.v.keys.Forget(tenant) // drop unwrapped copies of destroyed keys
	}
	return nil
}

const resealBatch = 20

// reseal moves the tenant's attachments under the active data key. Only the
// 65-byte stream header (the object key, sealed by the data key) and the
// sealed digest and file name are re-sealed; the content is neither
// decrypted nor re-encrypted. But objects never change in place, so each
// object is copied in full — new header, then its segment bytes as they
// were — to a new object key, the row moved to it and the old object
// deleted: a rotation reads and writes every byte of the tenant's
// attachments once.
func (k *Keys) reseal(ctx context.Context, scope guard.Scope, tenant string, progress func(done, total int64) error, done *int64) error {
	if k.v.objects == nil {
		return nil
	}
	for {
		active, err := k.v.dataKey(ctx, scope, "")
		if err != nil {
			return err
		}
		rows, total, err := k.store.StaleAttachments(ctx, scope, active.ID, resealBatch)
		if err != nil {
			return err
		}
		if progress != nil {
			if err := progress(*done, *done+int64(total)); err != nil {
				return err
			}
		}
		if len(rows) == 0 {
			return nil
		}
		if err := k.v.keys.ReserveSeals(ctx, tenant, active.ID, 2*int64(len(rows))); err != nil {
			return err
		}
		for _, row := range rows {
			if err := k.resealOne(ctx, scope, tenant, active, row); err != nil {
				return fmt.Errorf("attachment %s: %w", row.ID, err)
			}
			*done++
		}
	}
}

func (k *Keys) resealOne(ctx context.Context, scope guard.Scope, tenant string, active keys.DataKey, row AttachmentRow) error {
	old, err := k.v.dataKey(ctx, scope, row.DataKeyID)
	if err != nil {
		return err
	}
	m, err := openMeta(old, tenant, row)
	if err != nil {
		return err
	}
	ad := attachmentAD(tenant, row.Collection, row.RecordID, row.ID)
	rc, err := k.v.objects.Get(ctx, row.ObjectKey)
	if err != nil {
		return err
	}
	defer rc.Close()
	header := make([]byte, keys.StreamHeaderSize)
	if _, err := io.ReadFull(rc, header); err != nil {
		return fmt.Errorf("read header: %w", err)
	}
	h, err := keys.ResealStreamHeader(header, old, active, ad)
	if err != nil {
		return ErrAttachmentUndecryptable
	}
	moved := row
	moved.ObjectKey = objectKey(tenant, row.ID) + "." + strings.TrimPrefix(active.ID, "dk_")
	moved.DataKeyID = active.ID
	moved.SealedMeta = keys.Seal(active.AEAD, []byte(m.sha256+"\x00"+m.name), attachmentMetaAD(tenant, row.Collection, row.RecordID, row.ID))
	if _, err := k.v.objects.Put(ctx, moved.ObjectKey, io.MultiReader(bytes.NewReader(h), rc)); err != nil {
		return err
	}
	e := newEntry(scope.Caller(), tenant, "key.tenant.reencrypt", attachmentResource(tenant, row.Collection, row.RecordID, row.ID))
	e.Reason = "attachment under " + active.ID
	ok, err := k.store.MoveAttachment(ctx, scope, e, moved, row.ObjectKey, row.DataKeyID)
	if err != nil || !ok {
		k.v.objects.Delete(context.WithoutCancel(ctx), moved.ObjectKey) // not pointed at: garbage
		return err
	}
	return k.v.objects.Delete(ctx, row.ObjectKey)
}

// Inventory describes tenant's keys to its administrators and to system
// administrators; the read is audited.
func (k *Keys) Inventory(ctx context.Context, c rempart.Caller, tenant string) (rempart.TenantKeys, error) {
	e := newEntry(c, tenant, "key.tenant.list", "tenants/"+tenant+"/keys")
	if _, err := k.v.authorize(ctx, c, tenant, guard.TenantKeys, &e); err != nil {
		return rempart.TenantKeys{}, err
	}
	ts, err := k.store.TenantKeyInventory(ctx, tenant)
	if err != nil {
		return rempart.TenantKeys{}, err
	}
	if _, err := k.v.store.Audit(ctx, e); err != nil {
		return rempart.TenantKeys{}, err
	}
	if len(ts) == 0 {
		return rempart.TenantKeys{TenantID: tenant, KEKs: []rempart.KEKInfo{}, DataKeys: []rempart.DataKeyInfo{}}, nil
	}
	return ts[0], nil
}
