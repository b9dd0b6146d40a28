package client_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rempart/rempart"
	"github.com/rempart/rempart/client"
)

// seen is what the fake server received.
type seen struct {
	Method  string
	Path    string // escaped, as sent on the wire
	Query   string
	Header  http.Header
	Body    string
	Trailer http.Header
}

// answer is what the fake server replies.
type answer struct {
	Status int
	Header map[string]string
	Body   string
}

// fake is an API server that records each request and replies with a fixed
// answer.
type fake struct {
	t   *testing.T
	srv *httptest.Server

	mu     sync.Mutex
	last   seen
	answer answer
	conns  int
}

func newFake(t *testing.T) *fake {
	t.Helper()
	f := &fake{t: t}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.mu.Lock()
			f.conns++
			f.mu.Unlock()
		}
	}
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Errorf("read request body: %v", err)
	}
	f.mu.Lock()
	f.last = seen{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: string(b), Trailer: r.Trailer.Clone()}
	a := f.answer
	f.mu.Unlock()
	for k, v := range a.Header {
		w.Header().Set(k, v)
	}
	if a.Status == 0 {
		a.Status = http.StatusOK
	}
	w.WriteHeader(a.Status)
	io.WriteString(w, a.Body)
}

func (f *fake) reply(a answer) {
	f.mu.Lock()
	f.answer = a
	f.mu.Unlock()
}

func (f *fake) request() seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

func (f *fake) connections() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.conns
}

func (f *fake) client(opts ...client.Option) *client.Client {
	return client.New(f.srv.URL, append([]client.Option{client.WithAPIKey("rk_key1.secret"), client.WithHTTPClient(f.srv.Client())}, opts...)...)
}

func jsonAnswer(status int, body string) answer {
	return answer{Status: status, Header: map[string]string{"Content-Type": "application/json"}, Body: body}
}

func problem(status int, code, detail string) answer {
	return answer{Status: status, Header: map[string]string{"Content-Type": "application/problem+json", "X-Request-Id": "req_1"}, Body: `{"type":"urn:rempart:problem:` + code + `","title":"` + http.StatusText(status) + `","status":` + itoa(status) + `,"detail":"` + detail + `","code":"` + code + `","request_id":"req_1"}`}
}

func itoa(n int) string { return strconv.Itoa(n) }

// jsonEqual reports whether two JSON texts hold the same value.
func jsonEqual(t *testing.T, got, want string) bool {
	t.Helper()
	if got == want {
		return true
	}
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		return false
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want JSON %q: %v", want, err)
	}
	return cmp.Equal(g, w)
}

var (
	t0     = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	t0JSON = `"2025-03-01T12:00:00Z"`
	tenant = rempart.Tenant{ID: "ten_1", Name: "Acme", Status: rempart.TenantActive, CreatedAt: t0, UpdatedAt: t0}
	tenJS  = `{"id":"ten_1","name":"Acme","status":"active","created_at":` + t0JSON + `,"updated_at":` + t0JSON + `}`
	record = rempart.Record{ID: "rec_1", Collection: "calls", Version: 3, CreatedAt: t0, UpdatedAt: t0, Data: json.RawMessage(`{"a":1}`)}
	recJS  = `{"id":"rec_1","collection":"calls","version":3,"created_at":` + t0JSON + `,"updated_at":` + t0JSON + `,"data":{"a":1}}`
	ctx    = context.Background()
)

func TestHeaders(t *testing.T) {
	f := newFake(t)
	f.reply(jsonAnswer(200, tenJS))
	if _, err := f.client(client.WithUserAgent("rempart-cli/test")).GetTenant(ctx, "ten_1"); err != nil {
		t.Fatal(err)
	}
	got := f.request()
	for k, want := range map[string]string{
		"Authorization": "Bearer rk_key1.secret",
		"User-Agent":    "rempart-cli/test",
		"Accept":        "application/json, application/problem+json",
		"Content-Type":  "",
		"If-Match":      "",
	} {
		if g := got.Header.Get(k); g != want {
			t.Errorf("%s: got %q, want %q", k, g, want)
		}
	}

	// No key, default user agent.
	c := client.New(f.srv.URL, client.WithHTTPClient(f.srv.Client()))
	if _, err := c.GetTenant(ctx, "ten_1"); err != nil {
		t.Fatal(err)
	}
	got = f.request()
	if g := got.Header.Get("Authorization"); g != "" {
		t.Errorf("Authorization without a key: got %q, want none", g)
	}
	if g := got.Header.Get("User-Agent"); g != client.DefaultUserAgent {
		t.Errorf("User-Agent: got %q, want %q", g, client.DefaultUserAgent)
	}

	// WithKey shares the connection and changes only the key.
	if _, err := f.client().WithKey("rk_key2.other").GetTenant(ctx, "ten_1"); err != nil {
		t.Fatal(err)
	}
	if g := f.request().Header.Get("Authorization"); g != "Bearer rk_key2.other" {
		t.Errorf("WithKey: got %q", g)
	}
}

func TestBootstrapSendsToken(t *testing.T) {
	f := newFake(t)
	f.reply(jsonAnswer(201, `{"principal":{"id":"sa_1","tenant_id":"","name":"admin","role":"system_admin","created_at":`+t0JSON+`},"key":{"id":"key_1","principal_id":"sa_1","created_at":`+t0JSON+`,"expires_at":`+t0JSON+`,"secret":"rk_key_1.s"}}`))
	got, err := f.client().Bootstrap(ctx, "rb_token")
	if err != nil {
		t.Fatal(err)
	}
	want := rempart.Bootstrapped{
		Principal: rempart.ServiceAccount{ID: "sa_1", Name: "admin", Role: rempart.RoleSystemAdmin, CreatedAt: t0},
		Key:       rempart.APIKeyCreated{APIKey: rempart.APIKey{ID: "key_1", PrincipalID: "sa_1", CreatedAt: t0, ExpiresAt: t0}, Secret: "rk_key_1.s"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Bootstrap (-want +got):\n%s", diff)
	}
	r := f.request()
	if r.Method != "POST" || r.Path != "/api/v1/bootstrap" || r.Body != "" {
		t.Errorf("got %s %s body %q, want POST /api/v1/bootstrap without a body", r.Method, r.Path, r.Body)
	}
	if g := r.Header.Get("Authorization"); g != "Bearer rb_token" {
		t.Errorf("Authorization: got %q, want the bootstrap token", g)
	}
	if _, err := f.client().Bootstrap(ctx, ""); rempart.ErrorCode(err) != rempart.EINVALID {
		t.Errorf("empty token: got %v, want invalid", err)
	}
}

func TestBaseURL(t *testing.T) {
	f := newFake(t)
	f.reply(jsonAnswer(200, `{"tenants":[]}`))
	for _, base := range []string{f.srv.URL, f.srv.URL + "/", f.srv.URL + "/api/v1", f.srv.URL + "/api/v1/"} {
		c := client.New(base, client.WithHTTPClient(f.srv.Client()))
		if _, err := c.ListTenants(ctx); err != nil {
			t.Fatalf("%s: %v", base, err)
		}
		if got := f.request().Path; got != "/api/v1/tenants" {
			t.Errorf("base %q: got path %q, want /api/v1/tenants", base, got)
		}
	}
	c := client.New(f.srv.URL+"/rempart", client.WithHTTPClient(f.srv.Client()))
	if _, err := c.ListTenants(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.request().Path; got != "/rempart/api/v1/tenants" {
		t.Errorf("prefixed base: got path %q", got)
	}
	for _, bad := range []string{"", "localhost:8443", "ftp://x", "https://x/?q=1", "https://[::1"} {
		if _, err := client.New(bad).ListTenants(ctx); err == nil {
			t.Errorf("base %q: got no error", bad)
		}
	}
}

func TestEscaping(t *testing.T) {
	f := newFake(t)
	f.reply(jsonAnswer(200, recJS))
	c := f.client()
	if _, err := c.GetRecord(ctx, "ten/1", "calls?x", "a b#c%d"); err != nil {
		t.Fatal(err)
	}
	if got, want := f.request().Path, "/api/v1/tenants/ten%2F1/collections/calls%3Fx/records/a%20b%23c%25d"; got != want {
		t.Errorf("path: got %q, want %q", got, want)
	}
	if got := f.request().Query; got != "" {
		t.Errorf("query: got %q, want none", got)
	}
	if _, err := c.GetRecord(ctx, "ten_1", "calls", ".."); err != nil {
		t.Fatal(err)
	}
	if got, want := f.request().Path, "/api/v1/tenants/ten_1/collections/calls/records/%2E%2E"; got != want {
		t.Errorf("dot segment: got %q, want %q", got, want)
	}
	// An empty segment is refused before anything is sent.
	f.reply(jsonAnswer(200, `{}`))
	before := f.request()
	if _, err := c.GetRecord(ctx, "ten_1", "", "rec_1"); client.ErrorCode(err) != rempart.EINVALID {
		t.Errorf("empty collection: got %v, want invalid", err)
	}
	if err := c.DeleteTenant(ctx, ""); client.ErrorCode(err) != rempart.EINVALID {
		t.Errorf("empty tenant: got %v, want invalid", err)
	}
	if diff := cmp.Diff(before, f.request()); diff != "" {
		t.Errorf("a request was sent for an empty segment:\n%s", diff)
	}
}

func TestResponseBound(t *testing.T) {
	big := strings.Repeat("x", client.MaxResponseBytes)
	f := newFake(t)
	f.reply(jsonAnswer(200, `{"collections":["`+big+`"]}`))
	_, err := f.client().Collections(ctx, "ten_1")
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized response: got %v, want a size error", err)
	}
	f.reply(jsonAnswer(200, `{"collections":["calls"`))
	if _, err := f.client().Collections(ctx, "ten_1"); err == nil {
		t.Error("truncated JSON: got no error")
	}
}

func TestConnectionReuse(t *testing.T) {
	f := newFake(t)
	c := f.client()
	for i := range 30 {
		switch i % 3 {
		case 0:
			f.reply(jsonAnswer(200, recJS))
			if _, err := c.GetRecord(ctx, "ten_1", "calls", "rec_1"); err != nil {
				t.Fatal(err)
			}
		case 1:
			f.reply(problem(404, rempart.ENOTFOUND, "Record not found."))
			if _, err := c.GetRecord(ctx, "ten_1", "calls", "rec_2"); err == nil {
				t.Fatal("got no error")
			}
		case 2:
			f.reply(answer{Status: 204})
			if err := c.DeleteRecord(ctx, "ten_1", "calls", "rec_1", 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := f.connections(); got != 1 {
		t.Errorf("connections for 30 sequential calls: got %d, want 1", got)
	}
}

func TestExport(t *testing.T) {
	f := newFake(t)
	lines := `{"leaf_hash":"AA==","entry":{"index":0}}` + "\n" + `{"checkpoint":"x"}` + "\n"
	f.reply(answer{Status: 200, Header: map[string]string{"Content-Type": "application/jsonl"}, Body: lines})
	var b strings.Builder
	if err := f.client().Export(ctx, &b); err != nil {
		t.Fatal(err)
	}
	if b.String() != lines {
		t.Errorf("export: got %q, want %q", b.String(), lines)
	}
	r := f.request()
	if r.Method != "GET" || r.Path != "/api/v1/audit/export" {
		t.Errorf("got %s %s", r.Method, r.Path)
	}
	if got := r.Header.Get("Accept"); !strings.Contains(got, "application/jsonl") {
		t.Errorf("Accept: got %q", got)
	}
	f.reply(problem(403, rempart.EFORBIDDEN, "Not allowed."))
	b.Reset()
	if err := f.client().Export(ctx, &b); client.ErrorCode(err) != rempart.EFORBIDDEN || b.Len() != 0 {
		t.Errorf("forbidden export: got %v and %q written", err, b.String())
	}
}

func TestAllRecords(t *testing.T) {
	pages := map[string]string{
		"":   `{"records":[` + recJS + `,` + recJS + `],"next_cursor":"c1"}`,
		"c1": `{"records":[` + recJS + `]}`,
	}
	var mu sync.Mutex
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries = append(queries, r.URL.RawQuery)
		mu.Unlock()
		io.WriteString(w, pages[r.URL.Query().Get("cursor")])
	}))
	defer srv.Close()
	c := client.New(srv.URL)
	n := 0
	for r, err := range c.AllRecords(ctx, "ten_1", "calls", client.ListOptions{Limit: 2, Sort: client.SortUpdatedDesc}) {
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(record, r); diff != "" {
			t.Fatalf("record (-want +got):\n%s", diff)
		}
		n++
	}
	if n != 3 {
		t.Errorf("records: got %d, want 3", n)
	}
	if diff := cmp.Diff([]string{"limit=2&sort=-updated_at", "cursor=c1&limit=2&sort=-updated_at"}, queries); diff != "" {
		t.Errorf("queries (-want +got):\n%s", diff)
	}
}
