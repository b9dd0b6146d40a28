package keys

import (
	"container/list"
	"context"
	"crypto/cipher"
	"fmt"
	"sync"

	"github.com/rempart/rempart"
)

// WrappedKeys is what storage keeps for one data key of a tenant: the
// tenant's KEK wrapped by the root key and the data key wrapped by the KEK.
// Neither is usable without the root key (ENC-3: no plaintext key at rest).
type WrappedKeys struct {
	TenantID   string
	DataKeyID  string
	RootKeyID  string
	WrappedKEK []byte
	WrappedDEK []byte
}

// DataKey is an unwrapped data key, ready to seal and open.
type DataKey struct {
	ID   string
	AEAD cipher.AEAD
}

// Keyring creates tenant keys and unwraps data keys, keeping at most a bounded
// number of unwrapped keys in memory.
type Keyring struct {
	root Provider
	max  int

	mu    sync.Mutex
	lru   *list.List // of *cacheItem, most recent first
	items map[string]*list.Element
}

type cacheItem struct {
	key string
	dk  DataKey
}

// NewKeyring returns a keyring over the root key provider, caching up to
// maxCached unwrapped data keys (at least 1).
func NewKeyring(root Provider, maxCached int) *Keyring {
	return &Keyring{root: root, max: max(maxCached, 1), lru: list.New(), items: map[string]*list.Element{}}
}

// RootKeyID identifies the root key in use.
func (k *Keyring) RootKeyID() string { return k.root.KeyID() }

func kekAD(tenantID string) []byte { return AD("rempart/kek/v1", tenantID) }

func dekAD(tenantID, dataKeyID string) []byte { return AD("rempart/dek/v1", tenantID, dataKeyID) }

// NewTenantKeys makes a fresh KEK and a first data key for a tenant and returns
// them wrapped, for storage in the same transaction as the tenant (TEN-2).
func (k *Keyring) NewTenantKeys(ctx context.Context, tenantID string) (WrappedKeys, error) {
	kek, dek := randomKey(), randomKey()
	wkek, err := k.root.Wrap(ctx, kek, kekAD(tenantID))
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
		RootKeyID:  k.root.KeyID(),
		WrappedKEK: wkek,
		WrappedDEK: Seal(kekAEAD, dek, dekAD(tenantID, id)),
	}, nil
}

// Cached returns the unwrapped data key if it is in memory.
func (k *Keyring) Cached(tenantID, dataKeyID string) (DataKey, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if e, ok := k.items[tenantID+"/"+dataKeyID]; ok {
		k.lru.MoveToFront(e)
		return e.Value.(*cacheItem).dk, true
	}
	return DataKey{}, false
}

// Unwrap returns the data key described by w, from the cache or by unwrapping
// the KEK with the root key and the data key with the KEK.
func (k *Keyring) Unwrap(ctx context.Context, w WrappedKeys) (DataKey, error) {
	if dk, ok := k.Cached(w.TenantID, w.DataKeyID); ok {
		return dk, nil
	}
	kek, err := k.root.Unwrap(ctx, w.WrappedKEK, kekAD(w.TenantID))
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
	k.put(w.TenantID+"/"+w.DataKeyID, dk)
	return dk, nil
}

func (k *Keyring) put(key string, dk DataKey) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if e, ok := k.items[key]; ok {
		k.lru.MoveToFront(e)
		return
	}
	k.items[key] = k.lru.PushFront(&cacheItem{key: key, dk: dk})
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
