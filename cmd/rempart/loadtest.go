package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rempart/rempart/loadtest"
)

// runLoadtest drives a running server over HTTPS with API keys and prints
// throughput and latency percentiles (see docs/PERFORMANCE.md).
func runLoadtest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rempart loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg loadtest.Config
	fs.StringVar(&cfg.URL, "url", "https://localhost:8443", "server base URL")
	fs.StringVar(&cfg.AdminKey, "admin-key", os.Getenv("REMPART_ADMIN_KEY"), "a system administrator's API key, to create the test tenants (env REMPART_ADMIN_KEY)")
	fs.IntVar(&cfg.Tenants, "tenants", 8, "tenants to create, each with its own writer key")
	fs.IntVar(&cfg.Concurrency, "concurrency", 32, "concurrent workers")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long to run")
	fs.StringVar(&cfg.Mode, "mode", "read", "read, write or mixed (90% reads)")
	fs.IntVar(&cfg.RecordSize, "record-size", 1024, "bytes of JSON per record")
	fs.IntVar(&cfg.Seed, "seed", 200, "records per tenant created before a read run")
	fs.Float64Var(&cfg.RateLimit, "rate", 0, "open-loop target rate in requests per second (0: as fast as possible)")
	fs.BoolVar(&cfg.InsecureSkipVerify, "insecure", false, "skip TLS certificate verification (self-signed test servers)")
	fs.StringVar(&cfg.CACertFile, "cacert", "", "CA certificate (PEM) to trust, e.g. rempart-data/tls.crt")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.AdminKey == "" {
		return &exitError{code: 2, err: errors.New("--admin-key is required")}
	}
	res, err := loadtest.Run(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, res.String())
	return nil
}
