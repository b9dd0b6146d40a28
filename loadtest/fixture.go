package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/client"
)

const userAgent = "rempart-loadtest"

// tenantState is one tenant of the run: its writer's client and the IDs of
// its seed records.
type tenantState struct {
	id  string
	c   *client.Client
	ids []string
}

// fixture creates the run's tenants, keys and seed records, and deletes the
// tenants afterwards.
type fixture struct {
	cfg      Config
	admin    *client.Client
	progress io.Writer
	run      string // distinguishes this run's tenant names

	mu      sync.Mutex
	created []string
	tenants []*tenantState
}

func newFixture(cfg Config, hc *http.Client, progress io.Writer) *fixture {
	return &fixture{
		cfg:      cfg,
		admin:    client.New(cfg.URL, client.WithAPIKey(cfg.AdminKey), client.WithHTTPClient(hc), client.WithUserAgent(userAgent)),
		progress: progress,
		run:      rempart.RandomSecret(5),
	}
}

func (f *fixture) setup(ctx context.Context) error {
	start := time.Now()
	f.tenants = make([]*tenantState, f.cfg.Tenants)
	err := parallel(ctx, f.cfg.Tenants, 8, func(ctx context.Context, i int) error {
		t, err := f.admin.CreateTenant(ctx, rempart.TenantCreate{Name: fmt.Sprintf("loadtest-%s-%d", f.run, i)})
		if err != nil {
			return fmt.Errorf("create tenant: %w", err)
		}
		f.mu.Lock()
		f.created = append(f.created, t.ID)
		f.mu.Unlock()
		sa, err := f.admin.CreateServiceAccount(ctx, t.ID, rempart.ServiceAccountCreate{Name: "loadtest-writer", Role: rempart.RoleWriter})
		if err != nil {
			return fmt.Errorf("create service account: %w", err)
		}
		key, err := f.admin.CreateAPIKey(ctx, t.ID, sa.ID, rempart.APIKeyCreate{ExpiresInDays: 1})
		if err != nil {
			return fmt.Errorf("create api key: %w", err)
		}
		f.tenants[i] = &tenantState{id: t.ID, c: f.admin.WithKey(key.Secret), ids: make([]string, f.cfg.Seed)}
		return nil
	})
	if err != nil {
		return fmt.Errorf("loadtest setup: %w", err)
	}
	fmt.Fprintf(f.progress, "created %d tenants, each with a writer key, in %s\n", f.cfg.Tenants, time.Since(start).Round(time.Millisecond))
	if f.cfg.Seed == 0 {
		return nil
	}
	if err := f.seed(ctx); err != nil {
		return fmt.Errorf("loadtest seed: %w", err)
	}
	return nil
}

// seed creates cfg.Seed records in every tenant, with cfg.Concurrency
// requests in flight.
func (f *fixture) seed(ctx context.Context) error {
	start := time.Now()
	nt := len(f.tenants)
	total := nt * f.cfg.Seed
	tmpl := recordTemplate(f.cfg.RecordSize)
	var done atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				fmt.Fprintf(f.progress, "seeding: %d/%d records\n", done.Load(), total)
			}
		}
	})
	err := parallel(ctx, total, f.cfg.Concurrency, func(ctx context.Context, k int) error {
		t := f.tenants[k%nt]
		body := json.RawMessage(recordBody(tmpl, 1<<63|uint64(k)))
		// An idempotency key makes the retry after a 429 or 503 safe.
		idem := fmt.Sprintf("loadtest-seed-%s-%d", f.run, k)
		for attempt := 0; ; attempt++ {
			rec, err := t.c.CreateRecord(ctx, t.id, Collection, body, idem)
			if err == nil {
				t.ids[k/nt] = rec.ID
				done.Add(1)
				return nil
			}
			var ae *client.Error
			if attempt == 5 || !errors.As(err, &ae) || (ae.Status != http.StatusTooManyRequests && ae.Status != http.StatusServiceUnavailable) {
				return err
			}
			if err := sleep(ctx, max(ae.RetryAfter, 100*time.Millisecond)); err != nil {
				return err
			}
		}
	})
	close(stop)
	wg.Wait()
	if err != nil {
		return err
	}
	fmt.Fprintf(f.progress, "seeded %d records of %d bytes in %s\n", total, f.cfg.RecordSize, time.Since(start).Round(time.Millisecond))
	return nil
}

// cleanup deletes the tenants created, even when ctx is cancelled.
func (f *fixture) cleanup(ctx context.Context) {
	f.mu.Lock()
	ids := f.created
	f.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	if f.cfg.KeepTenants {
		fmt.Fprintf(f.progress, "kept %d tenants: %v\n", len(ids), ids)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	deleted := 0
	for _, id := range ids {
		if err := f.admin.DeleteTenant(ctx, id); err != nil {
			fmt.Fprintf(f.progress, "cleanup: delete tenant %s: %v\n", id, err)
			continue
		}
		deleted++
	}
	fmt.Fprintf(f.progress, "deleted %d tenants\n", deleted)
}

// parallel calls fn(ctx, i) for i in [0, n) from at most workers
// goroutines. After the first error it starts no more calls but lets those
// under way finish, so that whatever they created is known and can be
// cleaned up; it returns that first error.
func parallel(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	var (
		next    atomic.Int64
		done    atomic.Int64
		failed  atomic.Bool
		errOnce sync.Once
		first   error
		wg      sync.WaitGroup
	)
	for range min(workers, n) {
		wg.Go(func() {
			for ctx.Err() == nil && !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(ctx, i); err != nil {
					errOnce.Do(func() { first = err })
					failed.Store(true)
					return
				}
				done.Add(1)
			}
		})
	}
	wg.Wait()
	if first != nil {
		return first
	}
	if done.Load() < int64(n) {
		return ctx.Err()
	}
	return nil
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
