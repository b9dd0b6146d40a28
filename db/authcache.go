package db

import (
	"strings"
	"sync"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/identity"
	"github.com/rempart/rempart/keys"
)

// authCache keeps API keys (with their principals), tenants and the wrapped
// active data key of each tenant in memory, so that authenticating a
// request, checking its tenant and sealing a write cost no query.
//
// It is exact, not eventually consistent: it is used only on SQLite, where
// this process's committer is the one writer of the database, and every
// committed batch that wrote to api_keys, principals, tenants or the
// tenant key tables clears it
// before any of that batch's writers gets its answer (so a revocation or a
// suspension has taken effect when its request returns, IAM-8). A lookup that
// read the database before such a commit does not store its result after it:
// entries are stored only under the generation they were read in.
//
// On PostgreSQL several nodes write, and a node cannot see another's
// revocation without asking the database: there is no cache.
type authCache struct {
	mu      sync.Mutex
	gen     uint64
	keys    map[string]identity.KeyRow
	tenants map[string]rempart.Tenant
	active  map[string]keys.WrappedKeys // tenant ID → its active data key
}

// maxAuthCache bounds each map; past it the map starts over.
const maxAuthCache = 100_000

func newAuthCache() *authCache {
	return &authCache{keys: map[string]identity.KeyRow{}, tenants: map[string]rempart.Tenant{}, active: map[string]keys.WrappedKeys{}}
}

// cached returns m[id] from the cache of c, or, when c is nil or m does
// not hold id, what load reads, stored under the generation it was read in
// (a commit meanwhile discards it). An error is not cached.
func cached[V any](c *authCache, m func(*authCache) map[string]V, id string, load func() (V, error)) (V, error) {
	if c == nil {
		return load()
	}
	c.mu.Lock()
	v, ok := m(c)[id]
	gen := c.gen
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen == c.gen {
		mm := m(c)
		if len(mm) >= maxAuthCache {
			clear(mm)
		}
		mm[id] = v
	}
	return v, nil
}

func (c *authCache) keyMap() map[string]identity.KeyRow     { return c.keys }
func (c *authCache) tenantMap() map[string]rempart.Tenant   { return c.tenants }
func (c *authCache) activeMap() map[string]keys.WrappedKeys { return c.active }

// invalidate forgets everything and starts a new generation.
func (c *authCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.keys)
	clear(c.tenants)
	clear(c.active)
}

// authTables are the tables whose changes the cache must see.
var authTables = []string{"api_keys", "principals", "tenants", "tenant_keys", "tenant_keks"}

var writesAuthMemo sync.Map // query text → bool

// writesAuth reports whether a statement may change an authTable. It errs on
// the side of yes: any statement that is not a SELECT and names one of them.
func writesAuth(query string) bool {
	if v, ok := writesAuthMemo.Load(query); ok {
		return v.(bool)
	}
	q := strings.ToLower(strings.TrimSpace(query))
	w := false
	if !strings.HasPrefix(q, "select") {
		for _, t := range authTables {
			w = w || strings.Contains(q, t)
		}
	}
	writesAuthMemo.Store(query, w)
	return w
}
