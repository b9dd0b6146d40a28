// Package loadtest drives a running rempart server over HTTPS and measures
// throughput and latency of the data plane (rempart loadtest).
//
// Run creates its own tenants, one writer service account and key per
// tenant and some seed records, with the system administrator's key; then
// for the configured duration a fixed pool of workers, each bound to one
// tenant's key, reads seeded records, writes new ones or mixes both (90%
// reads). Afterwards it deletes the tenants it created.
//
// Without a target rate the workers loop as fast as the server answers
// (closed loop: the peak throughput). With Config.RateLimit they issue
// requests on a fixed schedule and each latency is measured from the time
// the request was due, not from the time it was sent, so that a server
// stall shows in the percentiles instead of silently slowing the load
// (coordinated omission).
//
// The server's own rate limits (rempart serve --rate-ip, --rate-credential;
// 2000 requests per second by default) apply to the load test like to any
// client: raise them on the server under test to measure beyond them, or
// the excess shows as 429 errors.
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"time"
)

// Modes.
const (
	ModeRead  = "read"  // GET of random seeded records
	ModeWrite = "write" // POST of new records
	ModeMixed = "mixed" // 90% reads, 10% writes
)

// Collection is the collection the load test reads and writes.
const Collection = "loadtest"

// Config describes a run. Zero values take the defaults noted.
type Config struct {
	URL      string // the server, such as https://localhost:8443
	AdminKey string // a system administrator's API key

	Tenants     int           // tenants to create (default 4)
	Concurrency int           // workers, bound to tenants round-robin (default 16)
	Duration    time.Duration // measured phase (default 10s)
	Mode        string        // ModeRead, ModeWrite or ModeMixed (default mixed)
	RecordSize  int           // bytes of each record's JSON data (default 1024)
	// Seed is the number of records created per tenant before the measured
	// phase, for reads (default 100 for read and mixed, none for write).
	Seed int
	// RateLimit is a target rate in requests per second over all workers
	// (open loop); 0 runs as fast as possible. Concurrency must be high
	// enough to sustain it: at least rate × latency.
	RateLimit float64

	InsecureSkipVerify bool   // accept any server certificate
	CACertFile         string // PEM certificates to trust besides the system's
	// HTTP2 negotiates HTTP/2 (one multiplexed connection) instead of
	// HTTP/1.1 with one keep-alive connection per worker.
	HTTP2 bool
	// KeepTenants leaves the created tenants and records in place.
	KeepTenants bool
}

// minRecordSize is the size of a record body with no padding.
var minRecordSize = len(recordTemplate(0))

func (cfg Config) withDefaults() (Config, error) {
	if cfg.Tenants == 0 {
		cfg.Tenants = 4
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 16
	}
	if cfg.Duration == 0 {
		cfg.Duration = 10 * time.Second
	}
	if cfg.Mode == "" {
		cfg.Mode = ModeMixed
	}
	if cfg.RecordSize == 0 {
		cfg.RecordSize = 1024
	}
	if cfg.Seed == 0 && cfg.Mode != ModeWrite {
		cfg.Seed = 100
	}
	var errs []error
	if u, err := url.Parse(cfg.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("url %q: want https://host:port", cfg.URL))
	}
	if cfg.AdminKey == "" {
		errs = append(errs, errors.New("an admin key is required"))
	}
	if cfg.Mode != ModeRead && cfg.Mode != ModeWrite && cfg.Mode != ModeMixed {
		errs = append(errs, fmt.Errorf("mode %q: want read, write or mixed", cfg.Mode))
	}
	if cfg.Tenants < 1 || cfg.Concurrency < 1 || cfg.Duration < 0 || cfg.Seed < 0 || cfg.RateLimit < 0 {
		errs = append(errs, errors.New("tenants and concurrency must be positive; duration, seed and rate not negative"))
	}
	if cfg.RecordSize < minRecordSize || cfg.RecordSize > 1<<20 {
		errs = append(errs, fmt.Errorf("record size %d: want %d to %d bytes", cfg.RecordSize, minRecordSize, 1<<20))
	}
	return cfg, errors.Join(errs...)
}

// Run sets up tenants, measures for cfg.Duration and cleans up. It writes
// a line of progress every second to progress (which may be nil).
//
// Cancelling ctx during the measured phase ends it early: Run returns what
// was measured, marked Interrupted. Cancelling it during setup fails the
// run. Either way the tenants created are deleted.
func Run(ctx context.Context, cfg Config, progress io.Writer) (Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Result{}, fmt.Errorf("loadtest config: %w", err)
	}
	if progress == nil {
		progress = io.Discard
	}
	hc, proto, err := newHTTPClient(cfg)
	if err != nil {
		return Result{}, err
	}
	defer hc.CloseIdleConnections()

	f := newFixture(cfg, hc, progress)
	defer f.cleanup(ctx)
	if err := f.setup(ctx); err != nil {
		return Result{}, err
	}
	res := measure(ctx, cfg, f.tenants, progress)
	res.Protocol = proto.get()
	return res, nil
}
