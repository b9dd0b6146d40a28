package keys

import (
	"context"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
)

// KindRootRewrap is the job that re-wraps everything under a new root key
// version.
const KindRootRewrap = "key.root.rewrap"

// AdminStore is what the key administration reads.
type AdminStore interface {
	RotationStore
	// TenantKeyInventory describes every tenant's keys for tenant "".
	TenantKeyInventory(ctx context.Context, tenant string) ([]rempart.TenantKeys, error)
}

// Enqueuer starts background work (the jobs runner).
type Enqueuer interface {
	Enqueue(ctx context.Context, c rempart.Caller, kind, uniqueKey string, params any, runAfter time.Time) (rempart.Job, bool, error)
}

// Admin is the root key's administration for system administrators: the
// key inventory and rotation (ENC-3). Every call is authorised and audited.
type Admin struct {
	store   AdminStore
	rotator *Rotator
	jobs    Enqueuer
}

// NewAdmin returns the key administration.
func NewAdmin(store AdminStore, rotator *Rotator, jobs Enqueuer) *Admin {
	return &Admin{store: store, rotator: rotator, jobs: jobs}
}

func (a *Admin) authorize(ctx context.Context, c rempart.Caller, action, resource string) (rempart.AuditEntry, error) {
	e := systemEntry(c, action, resource)
	if err := guard.AuthorizeSystem(c, guard.KeysManage); err != nil {
		e.Outcome, e.Reason = rempart.OutcomeDenied, rempart.ErrorCode(err)
		if _, aerr := a.store.Audit(ctx, e); aerr != nil {
			return e, aerr
		}
		return e, err
	}
	return e, nil
}

// Inventory lists the root key's versions with what each still wraps, and
// every tenant's keys; no key material.
func (a *Admin) Inventory(ctx context.Context, c rempart.Caller) (rempart.KeyInventory, error) {
	e, err := a.authorize(ctx, c, "key.list", "keys")
	if err != nil {
		return rempart.KeyInventory{}, err
	}
	refs, err := a.store.RootRefs(ctx)
	if err != nil {
		return rempart.KeyInventory{}, err
	}
	ts, err := a.store.TenantKeyInventory(ctx, "")
	if err != nil {
		return rempart.KeyInventory{}, err
	}
	active := a.rotator.keyring.RootKeyID()
	inv := rempart.KeyInventory{RootSource: a.rotator.roots.Describe(), ActiveRoot: active, RootVersions: []rempart.RootKeyVersion{}, Tenants: ts}
	ids, err := a.rotator.roots.Versions(ctx)
	if err != nil {
		return rempart.KeyInventory{}, err
	}
	for _, id := range ids {
		inv.RootVersions = append(inv.RootVersions, rempart.RootKeyVersion{ID: id, Active: id == active, Refs: refs[id]})
	}
	if _, err := a.store.Audit(ctx, e); err != nil {
		return rempart.KeyInventory{}, err
	}
	return inv, nil
}

// RotateRoot makes a new root key version active and starts the job that
// re-wraps everything under it.
func (a *Admin) RotateRoot(ctx context.Context, c rempart.Caller) (rempart.Job, error) {
	e, err := a.authorize(ctx, c, "key.root.rotate_request", "keys/root")
	if err != nil {
		return rempart.Job{}, err
	}
	if err := guard.StepUp(c); err != nil { // IAM-4: a recent second factor
		e.Outcome, e.Reason = rempart.OutcomeDenied, rempart.ErrorCode(err)
		if _, aerr := a.store.Audit(ctx, e); aerr != nil {
			return rempart.Job{}, aerr
		}
		return rempart.Job{}, err
	}
	if _, err := a.rotator.Start(ctx, c); err != nil {
		return rempart.Job{}, err
	}
	j, _, err := a.jobs.Enqueue(ctx, c, KindRootRewrap, "", struct{}{}, time.Time{})
	return j, err
}
