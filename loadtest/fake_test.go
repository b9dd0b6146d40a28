package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rempart/rempart"
)

const adminKey = "rk_key_admin.secret"

// fakeServer implements the routes a load test uses, over TLS, with the
// checks that matter to it: the admin key for the control plane, a tenant's
// own key for its records.
type fakeServer struct {
	t   *testing.T
	srv *httptest.Server

	// hooks, set before Run
	failKeyFor int                                       // 1-based tenant number whose key creation fails; 0 none
	onRecord   func(w http.ResponseWriter, n int64) bool // may answer a record request itself

	reads, writes, seeds atomic.Int64
	http2                atomic.Int64
	conns                atomic.Int64

	mu        sync.Mutex
	tenants   map[string]bool   // id → alive
	keys      map[string]string // secret → tenant
	records   map[string][]byte // tenant/id → body
	sizes     map[int]int       // record body sizes seen
	deleted   []string
	nTenants  int
	idemSeen  map[string]bool
	userAgent map[string]bool
}

func newFakeServer(t *testing.T, http2 bool) *fakeServer {
	t.Helper()
	f := &fakeServer{t: t, tenants: map[string]bool{}, keys: map[string]string{}, records: map[string][]byte{}, sizes: map[int]int{}, idemSeen: map[string]bool{}, userAgent: map[string]bool{}}
	mux := http.NewServeMux()
	const rc = "/api/v1/tenants/{tenant}/collections/{collection}/records"
	mux.HandleFunc("POST /api/v1/tenants", f.admin(f.createTenant))
	mux.HandleFunc("DELETE /api/v1/tenants/{tenant}", f.admin(f.deleteTenant))
	mux.HandleFunc("POST /api/v1/tenants/{tenant}/service-accounts", f.admin(f.createAccount))
	mux.HandleFunc("POST /api/v1/tenants/{tenant}/service-accounts/{account}/keys", f.admin(f.createKey))
	mux.HandleFunc("POST "+rc, f.tenant(f.createRecord))
	mux.HandleFunc("GET "+rc+"/{id}", f.tenant(f.getRecord))
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 {
			f.http2.Add(1)
		}
		f.mu.Lock()
		f.userAgent[r.UserAgent()] = true
		f.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	f.srv.EnableHTTP2 = http2
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes cut by Close or refused on purpose
	f.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.conns.Add(1)
		}
	}
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeServer) problem(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"type":"urn:rempart:problem:%s","title":%q,"status":%d,"detail":"fake","code":%q}`, code, http.StatusText(status), status, code)
}

func (f *fakeServer) json(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (f *fakeServer) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+adminKey {
			f.problem(w, 401, rempart.EUNAUTHORIZED)
			return
		}
		h(w, r)
	}
}

// tenant checks that the key is the tenant's own: anything else is 404.
func (f *fakeServer) tenant(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		secret := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		f.mu.Lock()
		owner, ok := f.keys[secret]
		alive := f.tenants[owner]
		f.mu.Unlock()
		switch {
		case !ok:
			f.problem(w, 401, rempart.EUNAUTHORIZED)
		case owner != r.PathValue("tenant") || !alive || r.PathValue("collection") != Collection:
			f.problem(w, 404, rempart.ENOTFOUND)
		default:
			h(w, r)
		}
	}
}

func (f *fakeServer) createTenant(w http.ResponseWriter, r *http.Request) {
	var in rempart.TenantCreate
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || !strings.HasPrefix(in.Name, "loadtest-") {
		f.problem(w, 400, rempart.EINVALID)
		return
	}
	f.mu.Lock()
	f.nTenants++
	id := fmt.Sprintf("ten_%d", f.nTenants)
	f.tenants[id] = true
	f.mu.Unlock()
	f.json(w, 201, rempart.Tenant{ID: id, Name: in.Name, Status: rempart.TenantActive})
}

func (f *fakeServer) deleteTenant(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := r.PathValue("tenant")
	if !f.tenants[id] {
		f.problem(w, 404, rempart.ENOTFOUND)
		return
	}
	f.tenants[id] = false
	f.deleted = append(f.deleted, id)
	w.WriteHeader(204)
}

func (f *fakeServer) createAccount(w http.ResponseWriter, r *http.Request) {
	var in rempart.ServiceAccountCreate
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Role != rempart.RoleWriter {
		f.problem(w, 400, rempart.EINVALID)
		return
	}
	ten := r.PathValue("tenant")
	f.json(w, 201, rempart.ServiceAccount{ID: "sa_" + ten, TenantID: ten, Name: in.Name, Role: in.Role})
}

func (f *fakeServer) createKey(w http.ResponseWriter, r *http.Request) {
	ten := r.PathValue("tenant")
	if r.PathValue("account") != "sa_"+ten {
		f.problem(w, 404, rempart.ENOTFOUND)
		return
	}
	if f.failKeyFor != 0 && ten == fmt.Sprintf("ten_%d", f.failKeyFor) {
		f.problem(w, 503, rempart.EUNAVAILABLE)
		return
	}
	secret := "rk_key_" + ten + ".s"
	f.mu.Lock()
	f.keys[secret] = ten
	f.mu.Unlock()
	f.json(w, 201, rempart.APIKeyCreated{APIKey: rempart.APIKey{ID: "key_" + ten, PrincipalID: "sa_" + ten, TenantID: ten}, Secret: secret})
}

func (f *fakeServer) createRecord(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || !json.Valid(body) || r.Header.Get("Content-Type") != "application/json" {
		f.problem(w, 400, rempart.EINVALID)
		return
	}
	seed := r.Header.Get("Idempotency-Key") != ""
	n := f.writes.Add(1)
	if seed {
		f.seeds.Add(1)
	} else if f.onRecord != nil && f.onRecord(w, n) {
		return
	}
	ten := r.PathValue("tenant")
	f.mu.Lock()
	id := fmt.Sprintf("rec_%d", len(f.records)+1)
	f.records[ten+"/"+id] = body
	f.sizes[len(body)]++
	if seed {
		f.idemSeen[r.Header.Get("Idempotency-Key")] = true
	}
	f.mu.Unlock()
	w.Header().Set("ETag", `"1"`)
	f.json(w, 201, rempart.Record{ID: id, Collection: Collection, Version: 1, Data: body})
}

func (f *fakeServer) getRecord(w http.ResponseWriter, r *http.Request) {
	n := f.reads.Add(1)
	if f.onRecord != nil && f.onRecord(w, n) {
		return
	}
	id := r.PathValue("id")
	f.mu.Lock()
	body, ok := f.records[r.PathValue("tenant")+"/"+id]
	f.mu.Unlock()
	if !ok {
		f.problem(w, 404, rempart.ENOTFOUND)
		return
	}
	f.json(w, 200, rempart.Record{ID: id, Collection: Collection, Version: 1, CreatedAt: time.Time{}, Data: body})
}

// measured returns the data-plane requests made after seeding.
func (f *fakeServer) measured() int64 {
	return f.reads.Load() + f.writes.Load() - f.seeds.Load()
}
