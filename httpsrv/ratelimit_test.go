package httpsrv_test

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/httpsrv"
)

func TestRateLimiterBurstAndRefill(t *testing.T) {
	clock := newFakeClock()
	l := httpsrv.NewRateLimiter(2, 3, clock)
	for i := range 3 {
		if ok, after := l.Allow("ip:192.0.2.1"); !ok || after != 0 {
			t.Fatalf("request %d within the burst: got ok=%v retryAfter=%v, want true 0", i+1, ok, after)
		}
	}
	check := func(step string, wantOK bool, wantAfter time.Duration) {
		t.Helper()
		if ok, after := l.Allow("ip:192.0.2.1"); ok != wantOK || after != wantAfter {
			t.Errorf("%s: got ok=%v retryAfter=%v, want %v %v", step, ok, after, wantOK, wantAfter)
		}
	}
	check("over the burst", false, 500*time.Millisecond)
	if ok, _ := l.Allow("ip:192.0.2.2"); !ok {
		t.Error("another key: got refused, want allowed")
	}
	clock.Advance(250 * time.Millisecond)
	check("half a token refilled", false, 250*time.Millisecond)
	clock.Advance(250 * time.Millisecond)
	check("one token refilled", true, 0)
	check("spent again", false, 500*time.Millisecond)

	clock.Advance(time.Hour)
	for i := range 3 {
		check(fmt.Sprintf("after an hour, request %d", i+1), true, 0)
	}
	check("after an hour, beyond the burst", false, 500*time.Millisecond)

	// A clock that steps back neither refills nor takes tokens away.
	clock.Advance(-time.Hour)
	check("clock stepped back", false, 500*time.Millisecond)
	clock.Advance(500 * time.Millisecond)
	check("clock stepped back, then 500ms", true, 0)
}

func TestRateLimiterBoundedMemory(t *testing.T) {
	clock := newFakeClock()
	l := httpsrv.NewRateLimiter(1, 1, clock)
	l.Allow("cold")
	l.Allow("hot")
	for i := range 200_000 {
		l.Allow(fmt.Sprintf("ip:%d", i))
		if i%50 == 0 {
			if ok, _ := l.Allow("hot"); ok {
				t.Fatalf("hot key after %d other keys: got allowed, want still limited", i)
			}
		}
	}
	if n := l.Len(); n > 100_000 || n < 90_000 {
		t.Errorf("tracked keys after 200,000: got %d, want at most 100,000 and close to it", n)
	}
	if ok, _ := l.Allow("cold"); !ok {
		t.Error("least recently used key: got still limited, want evicted and allowed")
	}
}

func TestRateLimiterDropsIdleKeys(t *testing.T) {
	clock := newFakeClock()
	l := httpsrv.NewRateLimiter(1, 1, clock)
	for i := range 1000 {
		l.Allow(fmt.Sprintf("old:%d", i))
	}
	clock.Advance(2 * time.Second) // every old bucket is full again
	for i := range 2000 {
		l.Allow(fmt.Sprintf("new:%d", i))
	}
	if n := l.Len(); n != 2000 {
		t.Errorf("tracked keys: got %d, want 2000 (idle keys dropped)", n)
	}
}

func TestRateLimiterConcurrent(t *testing.T) {
	l := httpsrv.NewRateLimiter(1, 50, newFakeClock())
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if ok, _ := l.Allow("cred:key_a"); ok {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if got := allowed.Load(); got != 50 {
		t.Errorf("allowed under contention: got %d, want the burst, 50", got)
	}
}

func TestRateLimiterNoAllocation(t *testing.T) {
	l := httpsrv.NewRateLimiter(1, 1, rempart.SystemClock{})
	key := "ip:192.0.2.1"
	l.Allow(key)
	if n := testing.AllocsPerRun(1000, func() { l.Allow(key) }); n != 0 {
		t.Errorf("allocations per Allow of a known key: got %v, want 0", n)
	}
}

func TestRateLimiterExtremes(t *testing.T) {
	l := httpsrv.NewRateLimiter(1e-300, 0, newFakeClock())
	l.Allow("k")
	if ok, after := l.Allow("k"); ok || after != math.MaxInt64 {
		t.Errorf("tiny rate: got ok=%v retryAfter=%v, want false and the largest duration", ok, after)
	}
	for _, rate := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewRateLimiter(%v): got no panic, want one", rate)
				}
			}()
			httpsrv.NewRateLimiter(rate, 1, nil)
		}()
	}
}

// BenchmarkRateLimiterParallel measures Allow on the system clock from all
// CPUs: "hot" hammers 4 keys (worst-case lock contention), "spread" cycles
// over 10,000 tracked keys (a realistic mix of clients, no allocation), and
// "flood" over 200,000 distinct keys, twice the cap, so that every call
// creates a bucket and evicts the least recently used one.
func BenchmarkRateLimiterParallel(b *testing.B) {
	for _, c := range []struct {
		name string
		keys int
	}{{"hot", 4}, {"spread", 10_000}, {"flood", 200_000}} {
		b.Run(c.name, func(b *testing.B) {
			keys := make([]string, c.keys)
			for i := range keys {
				keys[i] = fmt.Sprintf("ip:10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
			}
			// Buckets take 1,000 s to refill: none is dropped as idle.
			l := httpsrv.NewRateLimiter(1000, 1_000_000, rempart.SystemClock{})
			var seq atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := int(seq.Add(1)) * 7919
				for pb.Next() {
					l.Allow(keys[i%len(keys)])
					i++
				}
			})
		})
	}
}
