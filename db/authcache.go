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

// generation returns the current generation, taken before a lookup reads
// the database.
func (c *authCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *authCache) key(id string) (identity.KeyRow, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.keys[id]
	return k, ok
}

func (c *authCache) putKey(gen uint64, k identity.KeyRow) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.keys) >= maxAuthCache {
		clear(c.keys)
	}
	c.keys[k.ID] = k
}

func (c *authCache) tenant(id string) (rempart.Tenant, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.tenants[id]
	return t, ok
}

func (c *authCache) putTenant(gen uint64, t rempart.Tenant) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.tenants) >= maxAuthCache {
		clear(c.tenants)
	}
	c.tenants[t.ID] = t
}

func (c *authCache) activeKey(tenant string) (keys.WrappedKeys, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.active[tenant]
	return k, ok
}

func (c *authCache) putActiveKey(gen uint64, k keys.WrappedKeys) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.active) >= maxAuthCache {
		clear(c.active)
	}
	c.active[k.TenantID] = k
}

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
