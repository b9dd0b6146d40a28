package keys

import (
	"context"
	"errors"
	"fmt"

	"github.com/rempart/rempart"
)

// Root key rotation (ENC-3, ADR 7): a new root key version becomes active at
// once — new key-encryption keys are wrapped under it — then a job re-wraps,
// in batches, every KEK, every deployment secret and every backup key still
// wrapped under an older version, and finally destroys each older version
// that nothing refers to any more. Each step is audited; the job resumes
// where it stopped, since it always looks for what is still to re-wrap.

// Wrapped is one key stored wrapped by a root key version: a tenant's KEK
// (Kind "kek", Owner the tenant, ID the KEK's) or a backup key (Kind
// "backup", ID the backup's).
type Wrapped struct {
	Kind    string
	Owner   string
	ID      string
	Wrapper string // the root key version's ID
	Data    []byte
}

// RotationStore is what rotation needs from storage.
type RotationStore interface {
	Meta(ctx context.Context, key string) ([]byte, error)
	PutMeta(ctx context.Context, e rempart.AuditEntry, key string, value []byte) error
	// StaleWrapped returns up to limit keys wrapped under a version other
	// than active (keys wrapped by a tenant's own key are not the root's
	// business and are left out), and how many there are in all.
	StaleWrapped(ctx context.Context, active string, limit int) ([]Wrapped, int, error)
	// Rewrap stores each key's new wrapping under wrapper, in one
	// transaction recorded by e, skipping a key whose stored wrapping
	// changed meanwhile; it returns how many it stored.
	Rewrap(ctx context.Context, e rempart.AuditEntry, ks []Wrapped, wrapper string) (int, error)
	// RootRefs counts, per root key version, the keys and secrets still
	// wrapped under it; "" counts secrets stored before versions existed.
	RootRefs(ctx context.Context) (map[string]int, error)
	Audit(ctx context.Context, e rempart.AuditEntry) (rempart.AuditEntry, error)
}

// Secret names a deployment secret kept in meta, wrapped by the root key.
type Secret struct {
	Name  string // the meta key, such as "audit_signer"
	Label string // its associated data label
}

// Rotator rotates the root key.
type Rotator struct {
	store   RotationStore
	keyring *Keyring
	roots   RootKeys
	secrets []Secret
	// beforeDestroy runs before any version is destroyed: the key escrow
	// must hold the re-wrapped keys first, or backups could no longer be
	// restored. An error keeps every version.
	beforeDestroy func(context.Context) error
}

// NewRotator returns the root key rotator of a deployment. beforeDestroy (may
// be nil) runs before old versions are destroyed.
func NewRotator(store RotationStore, keyring *Keyring, roots RootKeys, secrets []Secret, beforeDestroy func(context.Context) error) *Rotator {
	return &Rotator{store: store, keyring: keyring, roots: roots, secrets: secrets, beforeDestroy: beforeDestroy}
}

func systemEntry(c rempart.Caller, action, resource string) rempart.AuditEntry {
	return rempart.AuditEntry{PrincipalID: c.Principal.ID, CredentialID: c.CredentialID, IP: c.IP, UserAgent: c.UserAgent, RequestID: c.RequestID,
		Action: action, Resource: resource, Outcome: rempart.OutcomeSuccess}
}

// Start makes a new root key version active, or, for a source that rotates
// its own versions (a KMS), keeps the one version and only re-wraps. It
// returns the active version's ID; the caller then runs Rewrap as a job.
func (r *Rotator) Start(ctx context.Context, c rempart.Caller) (string, error) {
	old := r.keyring.RootKeyID()
	p, err := r.roots.Create(ctx)
	if errors.Is(err, ErrUnsupported) {
		e := systemEntry(c, "key.root.rotate", "keys/root/"+old)
		e.Reason = "re-wrap only: " + r.roots.Describe() + " rotates its own versions"
		_, err := r.store.Audit(ctx, e)
		return old, err
	} else if err != nil {
		return "", fmt.Errorf("new root key version: %w", err)
	}
	e := systemEntry(c, "key.root.rotate", "keys/root/"+p.KeyID())
	e.Reason = "from " + old
	if err := r.store.PutMeta(ctx, e, "root_key_id", []byte(p.KeyID())); err != nil {
		return "", err
	}
	r.keyring.Activate(p)
	return p.KeyID(), nil
}

// Follow makes the keyring's active version the one the database names, for
// nodes that did not start the rotation themselves.
func (r *Rotator) Follow(ctx context.Context) error {
	id, err := r.store.Meta(ctx, "root_key_id")
	if err != nil {
		return err
	}
	if string(id) == r.keyring.RootKeyID() {
		return nil
	}
	p, err := r.keyring.Root(ctx, string(id))
	if err != nil {
		return err
	}
	r.keyring.Activate(p)
	return nil
}

const rewrapBatch = 100

// Rewrap re-wraps everything still wrapped under an older root key version,
// batch by batch, reporting progress, then destroys the versions nothing
// refers to. It is a job's body: it resumes from wherever it stopped.
func (r *Rotator) Rewrap(ctx context.Context, progress func(done, total int64) error) error {
	if err := r.Follow(ctx); err != nil {
		return err
	}
	active := r.keyring.RootKeyID()
	root, err := r.keyring.Root(ctx, active)
	if err != nil {
		return err
	}
	var done int64
	for {
		ks, total, err := r.store.StaleWrapped(ctx, active, rewrapBatch)
		if err != nil {
			return err
		}
		if progress != nil {
			if err := progress(done, done+int64(total)); err != nil {
				return err
			}
		}
		if len(ks) == 0 {
			break
		}
		for i := range ks {
			if ks[i].Data, err = r.keyring.Rewrap(ctx, ks[i], root); err != nil {
				return err
			}
		}
		e := systemEntry(rempart.Caller{Principal: rempart.Principal{ID: "system:key-rotation"}}, "key.root.rewrap", "keys/root/"+active)
		n, err := r.store.Rewrap(ctx, e, ks, active)
		if err != nil {
			return err
		}
		done += int64(n)
	}
	if err := r.rewrapSecrets(ctx, active); err != nil {
		return err
	}
	return r.destroyUnused(ctx)
}

// wrappedAD is the associated data each kind of key was wrapped with.
func wrappedAD(w Wrapped) []byte {
	if w.Kind == "backup" {
		return AD("rempart/backup-key/v1", w.ID)
	}
	return kekAD(w.Owner)
}

func (r *Rotator) rewrapSecrets(ctx context.Context, active string) error {
	for _, s := range r.secrets {
		stored, err := r.store.Meta(ctx, s.Name)
		if rempart.ErrorCode(err) == rempart.ENOTFOUND {
			continue
		} else if err != nil {
			return err
		}
		if SecretRootKeyID(stored, "") == active {
			continue
		}
		// A secret stored before versions is under the first root key:
		// the oldest version the source still has.
		secret, err := r.keyring.UnwrapSecret(ctx, stored, AD(s.Label), r.legacyRoot(ctx))
		if err != nil {
			return fmt.Errorf("%s: %w", s.Name, err)
		}
		w, err := r.keyring.WrapSecret(ctx, secret, AD(s.Label))
		if err != nil {
			return err
		}
		e := systemEntry(rempart.Caller{Principal: rempart.Principal{ID: "system:key-rotation"}}, "key.root.rewrap", "keys/"+s.Name)
		if err := r.store.PutMeta(ctx, e, s.Name, w); err != nil {
			return err
		}
	}
	return nil
}

// legacyRoot is the version a secret stored before versions was wrapped
// under: the first root key of a local source (its root.key file), or, for
// any other source, the active version.
func (r *Rotator) legacyRoot(ctx context.Context) string {
	if l, ok := r.roots.(*LocalKeys); ok {
		if p, err := OpenLocalFile(l.path); err == nil {
			return p.KeyID()
		}
	}
	return r.keyring.RootKeyID()
}

// destroyUnused destroys every root key version other than the active one
// that no key or secret refers to any more, each audited. Sources that
// cannot destroy (a KMS) are left alone.
func (r *Rotator) destroyUnused(ctx context.Context) error {
	refs, err := r.store.RootRefs(ctx)
	if err != nil {
		return err
	}
	active := r.keyring.RootKeyID()
	if refs[""] > 0 {
		return nil // a secret under an unnamed version: keep every version until it is re-wrapped
	}
	ids, err := r.roots.Versions(ctx)
	if err != nil {
		return fmt.Errorf("list root key versions: %w", err)
	}
	var unused []string
	for _, id := range ids {
		if id != active && refs[id] == 0 {
			unused = append(unused, id)
		}
	}
	if len(unused) == 0 {
		return nil
	}
	if r.beforeDestroy != nil {
		if err := r.beforeDestroy(ctx); err != nil {
			return fmt.Errorf("before destroying old root key versions: %w", err)
		}
	}
	for _, id := range unused {
		err := r.roots.Destroy(ctx, id)
		if errors.Is(err, ErrUnsupported) {
			return nil
		} else if err != nil {
			return fmt.Errorf("destroy root key %s: %w", id, err)
		}
		r.keyring.ForgetRoot(id)
		e := systemEntry(rempart.Caller{Principal: rempart.Principal{ID: "system:key-rotation"}}, "key.root.destroy", "keys/root/"+id)
		if _, err := r.store.Audit(ctx, e); err != nil {
			return err
		}
	}
	return nil
}
