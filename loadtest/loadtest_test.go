package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rempart/rempart/client"
)

func testConfig(f *fakeServer) Config {
	return Config{
		URL: f.srv.URL, AdminKey: adminKey, InsecureSkipVerify: true,
		Tenants: 3, Concurrency: 6, Duration: 400 * time.Millisecond, Seed: 5,
	}
}

func run(t *testing.T, ctx context.Context, cfg Config) (Result, string) {
	t.Helper()
	var progress bytes.Buffer
	res, err := Run(ctx, cfg, &progress)
	if err != nil {
		t.Fatalf("Run: %v\nprogress:\n%s", err, progress.String())
	}
	t.Logf("progress:\n%s\n%s", progress.String(), res)
	return res, progress.String()
}

func checkLatencies(t *testing.T, r Result) {
	t.Helper()
	if !(0 < r.P50 && r.P50 <= r.P90 && r.P90 <= r.P99 && r.P99 <= r.Max) {
		t.Errorf("latencies not ordered: p50 %v p90 %v p99 %v max %v", r.P50, r.P90, r.P99, r.Max)
	}
}

func TestRunMixed(t *testing.T) {
	f := newFakeServer(t, false)
	cfg := testConfig(f)
	cfg.Duration = 1200 * time.Millisecond
	res, progress := run(t, t.Context(), cfg)

	if res.Mode != ModeMixed || res.Protocol != "HTTP/1.1" || res.Tenants != 3 || res.Concurrency != 6 {
		t.Errorf("result header: got %+v", res)
	}
	if res.Requests == 0 || res.Errors != 0 || res.Interrupted || res.Missed != 0 {
		t.Errorf("got %d requests, %d errors, interrupted %v, missed %d; want some requests and no errors", res.Requests, res.Errors, res.Interrupted, res.Missed)
	}
	if got := f.measured(); got != res.Requests {
		t.Errorf("requests: server saw %d, result says %d", got, res.Requests)
	}
	writes := f.writes.Load() - f.seeds.Load()
	if share := float64(writes) / float64(res.Requests); share < 0.03 || share > 0.2 {
		t.Errorf("write share: got %.3f (%d of %d), want about 0.1", share, writes, res.Requests)
	}
	if got, want := res.Throughput, float64(res.Requests)/res.Duration.Seconds(); got < want*0.99 || got > want*1.01 {
		t.Errorf("throughput: got %.1f, want %.1f", got, want)
	}
	if res.Duration < cfg.Duration || res.Duration > cfg.Duration+time.Second {
		t.Errorf("duration: got %v, want about %v", res.Duration, cfg.Duration)
	}
	checkLatencies(t, res)

	f.mu.Lock()
	defer f.mu.Unlock()
	if got := f.seeds.Load(); got != 15 || len(f.idemSeen) != 15 {
		t.Errorf("seed records: got %d (%d idempotency keys), want 15", got, len(f.idemSeen))
	}
	if len(f.sizes) != 1 || f.sizes[1024] == 0 {
		t.Errorf("record sizes: got %v, want all 1024", f.sizes)
	}
	if len(f.deleted) != 3 {
		t.Errorf("deleted tenants: got %v, want 3", f.deleted)
	}
	if f.http2.Load() != 0 {
		t.Errorf("HTTP/2 requests: got %d, want none", f.http2.Load())
	}
	if n := f.conns.Load(); n > 2*int64(cfg.Concurrency)+8 {
		t.Errorf("connections: got %d for %d requests, want them reused", n, f.reads.Load()+f.writes.Load())
	}
	if !f.userAgent[userAgent] || len(f.userAgent) != 1 {
		t.Errorf("user agents: got %v", f.userAgent)
	}
	for _, want := range []string{"created 3 tenants", "seeded 15 records of 1024 bytes", "measuring mixed", "req/s (last second", "deleted 3 tenants"} {
		if !strings.Contains(progress, want) {
			t.Errorf("progress lacks %q", want)
		}
	}
}

func TestRunHTTP2WithCACert(t *testing.T) {
	f := newFakeServer(t, true)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, h2 := range []bool{true, false} {
		cfg := testConfig(f)
		cfg.InsecureSkipVerify, cfg.CACertFile, cfg.HTTP2, cfg.Mode = false, ca, h2, ModeRead
		before := f.http2.Load()
		res, _ := run(t, t.Context(), cfg)
		want := map[bool]string{true: "HTTP/2.0", false: "HTTP/1.1"}[h2]
		if res.Protocol != want {
			t.Errorf("HTTP2 %v: got protocol %q, want %q", h2, res.Protocol, want)
		}
		if got := f.http2.Load() - before; (got > 0) != h2 {
			t.Errorf("HTTP2 %v: server saw %d HTTP/2 requests", h2, got)
		}
		if res.Requests == 0 || res.Errors != 0 {
			t.Errorf("HTTP2 %v: got %d requests, %d errors", h2, res.Requests, res.Errors)
		}
	}
	if got := f.writes.Load(); got != f.seeds.Load() {
		t.Errorf("read mode wrote %d records beyond the seeds", got-f.seeds.Load())
	}

	// Without the CA the server is not trusted.
	cfg := testConfig(f)
	cfg.InsecureSkipVerify = false
	if _, err := Run(t.Context(), cfg, nil); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted server: got %v, want a certificate error", err)
	}
	cfg.CACertFile = filepath.Join(t.TempDir(), "missing.pem")
	if _, err := Run(t.Context(), cfg, nil); err == nil {
		t.Error("missing CA file: got no error")
	}
}

func TestRunWrite(t *testing.T) {
	f := newFakeServer(t, false)
	cfg := testConfig(f)
	cfg.Mode, cfg.Seed, cfg.RecordSize = ModeWrite, 0, 100
	res, progress := run(t, t.Context(), cfg)
	if f.seeds.Load() != 0 || strings.Contains(progress, "seeded") {
		t.Errorf("write mode seeded %d records", f.seeds.Load())
	}
	if f.reads.Load() != 0 || res.Requests != f.writes.Load() || res.Requests == 0 {
		t.Errorf("got %d reads, %d writes, result %d requests", f.reads.Load(), f.writes.Load(), res.Requests)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.sizes) != 1 || f.sizes[100] == 0 {
		t.Errorf("record sizes: got %v, want all 100", f.sizes)
	}
	seqs := map[string]bool{}
	for _, b := range f.records {
		var v struct{ Seq, Pad string }
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("record %q: %v", b, err)
		}
		seqs[v.Seq] = true
	}
	if len(seqs) != len(f.records) {
		t.Errorf("sequence numbers: %d distinct for %d records", len(seqs), len(f.records))
	}
}

func TestRunCountsErrorsByStatus(t *testing.T) {
	f := newFakeServer(t, false)
	f.onRecord = func(w http.ResponseWriter, n int64) bool {
		if n%5 != 0 {
			return false
		}
		w.Header().Set("Retry-After", "1")
		f.problem(w, http.StatusTooManyRequests, "rate_limited")
		return true
	}
	cfg := testConfig(f)
	cfg.Mode = ModeRead
	res, _ := run(t, t.Context(), cfg)
	n429 := res.ErrorsByStatus[http.StatusTooManyRequests]
	if n429 == 0 || n429 != res.Errors || len(res.ErrorsByStatus) != 1 {
		t.Errorf("errors: got %d, by status %v", res.Errors, res.ErrorsByStatus)
	}
	if share := float64(n429) / float64(res.Requests); share < 0.15 || share > 0.25 {
		t.Errorf("429 share: got %.2f, want 0.2", share)
	}
	if got, want := res.Throughput, float64(res.Requests-res.Errors)/res.Duration.Seconds(); got < want*0.99 || got > want*1.01 {
		t.Errorf("throughput counts successes only: got %.1f, want %.1f", got, want)
	}
	if s := res.String(); !strings.Contains(s, "429: ") || !strings.Contains(s, "rate_limited") {
		t.Errorf("String lacks the 429 row:\n%s", s)
	}
}

func TestRunSetupFailureCleansUp(t *testing.T) {
	f := newFakeServer(t, false)
	f.failKeyFor = 2
	cfg := testConfig(f)
	_, err := Run(t.Context(), cfg, nil)
	var ae *client.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable || !strings.Contains(err.Error(), "create api key") {
		t.Fatalf("got %v, want the 503 of the key creation", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.deleted) != f.nTenants || f.nTenants == 0 {
		t.Errorf("deleted %v of %d created tenants", f.deleted, f.nTenants)
	}
	if f.reads.Load()+f.writes.Load() != 0 {
		t.Errorf("records touched after a failed setup")
	}
}

func TestRunKeepTenants(t *testing.T) {
	f := newFakeServer(t, false)
	cfg := testConfig(f)
	cfg.KeepTenants, cfg.Duration = true, 100*time.Millisecond
	_, progress := run(t, t.Context(), cfg)
	if len(f.deleted) != 0 || !strings.Contains(progress, "kept 3 tenants") {
		t.Errorf("deleted %v; progress:\n%s", f.deleted, progress)
	}
}

func TestRunRateLimit(t *testing.T) {
	f := newFakeServer(t, false)
	cfg := testConfig(f)
	cfg.Mode, cfg.RateLimit, cfg.Duration, cfg.Concurrency = ModeRead, 200, time.Second, 4
	res, _ := run(t, t.Context(), cfg)
	if res.Requests+res.Missed != 200 || res.Requests < 150 || res.Errors != 0 {
		t.Errorf("got %d requests, %d missed, %d errors; want 200 scheduled", res.Requests, res.Missed, res.Errors)
	}
	if got := f.measured(); got != res.Requests {
		t.Errorf("server saw %d requests, result says %d", got, res.Requests)
	}
	if res.Duration < 990*time.Millisecond || res.Duration > 2*time.Second {
		t.Errorf("duration: got %v, want about 1s", res.Duration)
	}
	if !strings.Contains(res.String(), "open loop at 200 req/s") {
		t.Errorf("String:\n%s", res)
	}
}

// A server that stalls for 300ms delays the requests due meanwhile: an open
// loop must count that wait in their latencies instead of sending fewer
// requests (coordinated omission).
func TestRunOpenLoopCountsStalls(t *testing.T) {
	f := newFakeServer(t, false)
	var first atomic.Int64
	f.onRecord = func(w http.ResponseWriter, n int64) bool {
		now := time.Now().UnixNano()
		first.CompareAndSwap(0, now)
		el := time.Duration(now - first.Load())
		if el >= 200*time.Millisecond && el < 500*time.Millisecond {
			time.Sleep(500*time.Millisecond - el)
		}
		return false
	}
	cfg := testConfig(f)
	cfg.Mode, cfg.RateLimit, cfg.Duration, cfg.Concurrency = ModeRead, 100, time.Second, 2
	res, _ := run(t, t.Context(), cfg)
	if res.Requests+res.Missed != 100 || res.Errors != 0 {
		t.Errorf("got %d requests, %d missed, %d errors; want 100 scheduled", res.Requests, res.Missed, res.Errors)
	}
	if res.P90 < 100*time.Millisecond || res.Max < 250*time.Millisecond {
		t.Errorf("latencies hide the stall: p90 %v max %v, want p90 ≥ 100ms, max ≥ 250ms", res.P90, res.Max)
	}
	if res.P50 > 100*time.Millisecond {
		t.Errorf("p50: got %v, want the unstalled majority fast", res.P50)
	}
}

func TestRunCancel(t *testing.T) {
	f := newFakeServer(t, false)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	f.onRecord = func(w http.ResponseWriter, n int64) bool {
		if n == 200 {
			cancel()
		}
		return false
	}
	cfg := testConfig(f)
	cfg.Duration, cfg.Mode = time.Minute, ModeRead
	start := time.Now()
	res, _ := run(t, ctx, cfg)
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("cancelled run took %v", el)
	}
	if !res.Interrupted || res.Requests == 0 || res.Errors != 0 {
		t.Errorf("got interrupted %v, %d requests, %d errors; want an interrupted run without errors", res.Interrupted, res.Requests, res.Errors)
	}
	if !strings.Contains(res.String(), "(interrupted)") {
		t.Errorf("String:\n%s", res)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.deleted) != 3 {
		t.Errorf("deleted tenants after cancel: got %v, want 3", f.deleted)
	}
}

func TestConfig(t *testing.T) {
	got, err := Config{URL: "https://localhost:8443", AdminKey: "k"}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	want := Config{URL: "https://localhost:8443", AdminKey: "k", Tenants: 4, Concurrency: 16, Duration: 10 * time.Second, Mode: ModeMixed, RecordSize: 1024, Seed: 100}
	if got != want {
		t.Errorf("defaults: got %+v, want %+v", got, want)
	}
	if got, _ := (Config{URL: "https://x", AdminKey: "k", Mode: ModeWrite}).withDefaults(); got.Seed != 0 {
		t.Errorf("write mode seed: got %d, want 0", got.Seed)
	}
	ok := Config{URL: "https://x:1", AdminKey: "k"}
	for name, mod := range map[string]func(*Config){
		"no url":         func(c *Config) { c.URL = "" },
		"no scheme":      func(c *Config) { c.URL = "localhost:8443" },
		"no key":         func(c *Config) { c.AdminKey = "" },
		"mode":           func(c *Config) { c.Mode = "readwrite" },
		"tenants":        func(c *Config) { c.Tenants = -1 },
		"concurrency":    func(c *Config) { c.Concurrency = -2 },
		"duration":       func(c *Config) { c.Duration = -time.Second },
		"seed":           func(c *Config) { c.Seed = -1 },
		"rate":           func(c *Config) { c.RateLimit = -1 },
		"tiny records":   func(c *Config) { c.RecordSize = 10 },
		"huge records":   func(c *Config) { c.RecordSize = 2 << 20 },
		"missing server": func(c *Config) { c.URL = "https://127.0.0.1:1"; c.Duration = time.Millisecond },
	} {
		c := ok
		mod(&c)
		if _, err := Run(t.Context(), c, nil); err == nil {
			t.Errorf("%s: got no error", name)
		}
	}
}

func TestRecordBody(t *testing.T) {
	if minRecordSize != 35 {
		t.Errorf("minimum record size: got %d, want 35", minRecordSize)
	}
	for _, size := range []int{35, 36, 100, 1024, 1 << 20} {
		tmpl := recordTemplate(size)
		b := recordBody(tmpl, 0xfedcba9876543210)
		if len(b) != size {
			t.Errorf("size %d: got %d bytes", size, len(b))
		}
		var v struct{ Seq, Pad string }
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if v.Seq != "fedcba9876543210" {
			t.Errorf("seq: got %q", v.Seq)
		}
		if !bytes.Equal(tmpl, recordTemplate(size)) {
			t.Errorf("recordBody changed its template")
		}
	}
}

func TestResultString(t *testing.T) {
	r := Result{
		Mode: ModeRead, Protocol: "HTTP/1.1", Tenants: 2, Concurrency: 8,
		Requests: 1000, Errors: 3, Duration: 2 * time.Second, Throughput: 498.5,
		P50: 1500 * time.Microsecond, P90: 3 * time.Millisecond, P99: 12 * time.Millisecond, Max: 1200 * time.Millisecond,
		ErrorsByStatus: map[int]int64{0: 1, 503: 2},
		ErrorSamples:   map[int]string{0: "connection reset", 503: "rempart api: 503 unavailable: " + strings.Repeat("é", 100)},
	}
	s := r.String()
	for _, want := range []string{
		"mode        read (HTTP/1.1, closed loop, 8 workers, 2 tenants)",
		"duration    2.00s",
		"requests    1000 (3 errors)",
		"throughput  498.5 req/s",
		"latency     p50 1.50ms  p90 3.00ms  p99 12.00ms  max 1.20s",
		"errors      network: 1  connection reset",
		"503: 2  rempart api: 503 unavailable",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("String lacks %q:\n%s", want, s)
		}
	}
	if !strings.Contains(s, "…") || strings.Contains(s, "\uFFFD") {
		t.Errorf("long sample not cut cleanly:\n%s", s)
	}
	if strings.Index(s, "network") > strings.Index(s, "503") {
		t.Errorf("statuses not sorted:\n%s", s)
	}
}

func TestParallel(t *testing.T) {
	var calls atomic.Int64
	if err := parallel(t.Context(), 100, 7, func(context.Context, int) error { calls.Add(1); return nil }); err != nil || calls.Load() != 100 {
		t.Errorf("got %v after %d calls, want nil after 100", err, calls.Load())
	}

	// After an error no call starts, but those under way finish.
	boom := errors.New("boom")
	var finished atomic.Int64
	calls.Store(0)
	err := parallel(t.Context(), 100, 4, func(_ context.Context, i int) error {
		calls.Add(1)
		if i == 0 {
			return boom
		}
		time.Sleep(20 * time.Millisecond)
		finished.Add(1)
		return nil
	})
	if !errors.Is(err, boom) {
		t.Errorf("got %v, want boom", err)
	}
	if calls.Load() > 8 || finished.Load() != calls.Load()-1 {
		t.Errorf("%d calls, %d finished: want few calls, all but the failed one finished", calls.Load(), finished.Load())
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := parallel(ctx, 3, 2, func(context.Context, int) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v", err)
	}
}
