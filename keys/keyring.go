package keys

import (
	"container/list"
	"context"
	"crypto/cipher"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/rempart/rempart"
)

// WrappedKeys is what storage keeps for one data key of a tenant: the
// tenant's KEK wrapped by a root key version and the data key wrapped by the
// KEK. Neither is usable without the root key (ENC-3: no plaintext key at
// rest).
type WrappedKeys struct {
	TenantID   string
	DataKeyID  string
	KEKID      string
	RootKeyID  string // the root key version that wraps the KEK
	WrappedKEK []byte
	WrappedDEK []byte
}

// DataKey is an unwrapped data key, ready to seal and open.
type DataKey struct {
	ID   string
	AEAD cipher.AEAD
}

// Keyring creates tenant keys and unwraps data keys, keeping at most a bounded
// number of unwrapped keys in memory. New keys are wrapped under the active
// root key version; keys wrapped under an older version are unwrapped with
// it, opened from the root key source, until a rotation has re-wrapped them.
type Keyring struct {
	max int

	rootMu   sync.RWMutex
	active   Provider
	src      RootKeys            // nil: only the active version is known
	versions map[string]Provider // opened versions, by KeyID

	customer CustomerKeys // nil: no tenant brings its own key
	seals    *sealLeases  // nil: seals are not counted
	// customerTTL bounds how long a data key unwrapped through a tenant's
	// own key stays cached, so that revoking it takes effect that soon.
	customerTTL time.Duration
	now         func() time.Time

	mu    sync.Mutex
	lru   *list.List // of *cacheItem, most recent first
	items map[string]*list.Element
}

type cacheItem struct {
	key     string
	dk      DataKey
	expires time.Time // zero: until evicted
}

// CustomerKeys opens tenants' own keys (customer-managed keys, GOV-5): a
// wrapper ID with the CustomerPrefix names one.
type CustomerKeys interface {
	Open(ctx context.Context, wrapperID string) (Provider, error)
}

// CustomerPrefix starts the wrapper ID of a KEK wrapped by a tenant's own key
// rather than by a root key version.
const CustomerPrefix = "cmk:"

// SetCustomerKeys lets the keyring unwrap KEKs wrapped by tenants' own keys;
// data keys unwrapped through one stay cached at most ttl.
func (k *Keyring) SetCustomerKeys(c CustomerKeys, ttl time.Duration) {
	k.rootMu.Lock()
	defer k.rootMu.Unlock()
	k.customer, k.customerTTL = c, ttl
}

// NewKeyring returns a keyring whose active root key version is root,
// caching up to maxCached unwrapped data keys (at least 1).
func NewKeyring(root Provider, maxCached int) *Keyring {
	return &Keyring{active: root, versions: map[string]Provider{root.KeyID(): root}, max: max(maxCached, 1), lru: list.New(), items: map[string]*list.Element{}}
}

// SetSource gives the keyring the source of the other root key versions.
func (k *Keyring) SetSource(src RootKeys) {
	k.rootMu.Lock()
	defer k.rootMu.Unlock()
	k.src = src
}

// RootKeyID identifies the active root key version.
func (k *Keyring) RootKeyID() string {
	k.rootMu.RLock()
	defer k.rootMu.RUnlock()
	return k.active.KeyID()
}

// Activate makes p the root key version new keys are wrapped under.
func (k *Keyring) Activate(p Provider) {
	k.rootMu.Lock()
	defer k.rootMu.Unlock()
	k.active = p
	k.versions[p.KeyID()] = p
}

func (k *Keyring) activeRoot() Provider {
	k.rootMu.RLock()
	defer k.rootMu.RUnlock()
	return k.active
}

// Root returns the root key version id, opening it from the source the first
// time, or the tenant's own key a customer wrapper ID names.
func (k *Keyring) Root(ctx context.Context, id string) (Provider, error) {
	k.rootMu.RLock()
	p, ok := k.versions[id]
	src, customer := k.src, k.customer
	k.rootMu.RUnlock()
	if ok {
		return p, nil
	}
	if IsCustomer(id) {
		if customer == nil {
			return nil, fmt.Errorf("%w: %s is a tenant's own key and none can be opened here", ErrNoRootKey, id)
		}
		return customer.Open(ctx, id)
	}
	if src == nil {
		return nil, fmt.Errorf("%w: root key %s is not the active one and no source is configured", ErrNoRootKey, id)
	}
	p, err := src.Open(ctx, id)
	if err != nil {
		return nil, err
	}
	k.rootMu.Lock()
	defer k.rootMu.Unlock()
	k.versions[id] = p
	return p, nil
}

// IsRootVersion reports whether id names a version of the deployment's own
// root key: one the keyring has open, or one its source holds.
func (k *Keyring) IsRootVersion(ctx context.Context, id string) (bool, error) {
	k.rootMu.RLock()
	_, ok := k.versions[id]
	src := k.src
	k.rootMu.RUnlock()
	if ok || src == nil {
		return ok, nil
	}
	ids, err := src.Versions(ctx)
	if err != nil {
		return false, fmt.Errorf("list root key versions: %w", err)
	}
	return slices.Contains(ids, id), nil
}

// ForgetRoot drops a destroyed root key version from those the keyring keeps
// open (the active one stays).
func (k *Keyring) ForgetRoot(id string) {
	k.rootMu.Lock()
	defer k.rootMu.Unlock()
	if k.active.KeyID() != id {
		delete(k.versions, id)
	}
}

func kekAD(tenantID string) []byte { return AD("rempart/kek/v1", tenantID) }

func dekAD(tenantID, dataKeyID string) []byte { return AD("rempart/dek/v1", tenantID, dataKeyID) }

// NewTenantKeys makes a fresh KEK and a first data key for a tenant and returns
// them wrapped, for storage in the same transaction as the tenant (TEN-2).
func (k *Keyring) NewTenantKeys(ctx context.Context, tenantID string) (WrappedKeys, error) {
	root := k.activeRoot()
	return k.NewTenantKeysWith(ctx, tenantID, root, root.KeyID())
}

// NewTenantKeysWith is NewTenantKeys with the KEK wrapped by wrapper, known
// by wrapperID: the tenant's own key (CustomerPrefix) for a tenant that
// brings one.
func (k *Keyring) NewTenantKeysWith(ctx context.Context, tenantID string, root Provider, wrapperID string) (WrappedKeys, error) {
	kek, dek := randomKey(), randomKey()
	wkek, err := root.Wrap(ctx, kek, kekAD(tenantID))
	if err != nil {
		return WrappedKeys{}, fmt.Errorf("wrap tenant key: %w", err)
	}
	kekAEAD, err := NewAEAD(kek)
	if err != nil {
		return WrappedKeys{}, err
	}
	id := rempart.NewID("dk")
	return WrappedKeys{
		TenantID:   tenantID,
		DataKeyID:  id,
		KEKID:      rempart.NewID("kek"),
		RootKeyID:  wrapperID,
		WrappedKEK: wkek,
		WrappedDEK: Seal(kekAEAD, dek, dekAD(tenantID, id)),
	}, nil
}

// Rewrap unwraps a stored key (a tenant's KEK or a backup key) under the
// wrapper it records — a root key version or the tenant's own key — and
// returns it wrapped by to instead. The plaintext key is cleared before it
// returns.
func (k *Keyring) Rewrap(ctx context.Context, w Wrapped, to Provider) ([]byte, error) {
	from, err := k.Root(ctx, w.Wrapper)
	if err != nil {
		return nil, fmt.Errorf("%s %s/%s is wrapped under %s, which cannot be opened: %w", w.Kind, w.Owner, w.ID, w.Wrapper, err)
	}
	ad := wrappedAD(w)
	raw, err := from.Unwrap(ctx, w.Data, ad)
	if err != nil {
		return nil, fmt.Errorf("unwrap %s %s/%s: %w", w.Kind, w.Owner, w.ID, err)
	}
	defer clear(raw)
	return to.Wrap(ctx, raw, ad)
}

// Cached returns the unwrapped data key if it is in memory.
func (k *Keyring) Cached(tenantID, dataKeyID string) (DataKey, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if e, ok := k.items[tenantID+"/"+dataKeyID]; ok {
		it := e.Value.(*cacheItem)
		if !it.expires.IsZero() && !k.clock().Before(it.expires) {
			k.lru.Remove(e)
			delete(k.items, it.key)
			return DataKey{}, false
		}
		k.lru.MoveToFront(e)
		return it.dk, true
	}
	return DataKey{}, false
}

// Unwrap returns the data key described by w, from the cache or by unwrapping
// the KEK with the root key and the data key with the KEK.
func (k *Keyring) Unwrap(ctx context.Context, w WrappedKeys) (DataKey, error) {
	if dk, ok := k.Cached(w.TenantID, w.DataKeyID); ok {
		return dk, nil
	}
	root, err := k.Root(ctx, w.RootKeyID)
	if err != nil {
		return DataKey{}, fmt.Errorf("unwrap tenant key: %w", err)
	}
	kek, err := root.Unwrap(ctx, w.WrappedKEK, kekAD(w.TenantID))
	if err != nil {
		return DataKey{}, fmt.Errorf("unwrap tenant key: %w", err)
	}
	kekAEAD, err := NewAEAD(kek)
	if err != nil {
		return DataKey{}, err
	}
	dek, err := Open(kekAEAD, w.WrappedDEK, dekAD(w.TenantID, w.DataKeyID))
	if err != nil {
		return DataKey{}, fmt.Errorf("unwrap data key: %w", err)
	}
	aead, err := NewAEAD(dek)
	if err != nil {
		return DataKey{}, err
	}
	dk := DataKey{ID: w.DataKeyID, AEAD: aead}
	var ttl time.Duration
	if IsCustomer(w.RootKeyID) {
		k.rootMu.RLock()
		ttl = k.customerTTL
		k.rootMu.RUnlock()
	}
	k.put(w.TenantID+"/"+w.DataKeyID, dk, ttl)
	return dk, nil
}

func (k *Keyring) clock() time.Time {
	if k.now != nil {
		return k.now()
	}
	return time.Now()
}

func (k *Keyring) put(key string, dk DataKey, ttl time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if e, ok := k.items[key]; ok {
		k.lru.MoveToFront(e)
		return
	}
	it := &cacheItem{key: key, dk: dk}
	if ttl > 0 {
		it.expires = k.clock().Add(ttl)
	}
	k.items[key] = k.lru.PushFront(it)
	for k.lru.Len() > k.max {
		last := k.lru.Back()
		k.lru.Remove(last)
		delete(k.items, last.Value.(*cacheItem).key)
	}
}

// Forget drops every cached key of a tenant, as when it is deleted.
func (k *Keyring) Forget(tenantID string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for key, e := range k.items {
		if e.Value.(*cacheItem).dk.ID != "" && len(key) > len(tenantID) && key[:len(tenantID)+1] == tenantID+"/" {
			k.lru.Remove(e)
			delete(k.items, key)
		}
	}
}
