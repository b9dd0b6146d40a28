package blobs_test

import (
	"context"
	"crypto/sha256"
	"io"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/rempart/rempart/blobs"
)

// TestMemoryFlat streams a 256 MiB object in and out of each store and checks
// that the heap never grows by more than a fraction of it: objects are never
// held whole in memory. On S3 a Put holds a few 8 MiB parts (see put.go);
// the bound leaves room for those and for garbage not yet collected.
func TestMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 256 MiB through each store")
	}
	const (
		size  = 256 * MiB
		bound = 128 * MiB
	)
	eachStore(t, func(t *testing.T, s *blobs.Store) {
		ctx := context.Background()
		// Collect often, so that the peak measures live memory rather than
		// garbage (the default lets the heap double before collecting).
		defer debug.SetGCPercent(debug.SetGCPercent(20))

		peak := peakHeap(t, func() {
			if _, err := s.Put(ctx, "big", newPattern(size)); err != nil {
				t.Fatal(err)
			}
		})
		t.Logf("put %d MiB: heap grew by at most %.1f MiB", size/MiB, float64(peak)/MiB)
		if peak > bound {
			t.Errorf("put: heap grew by %d MiB, want at most %d MiB", peak/MiB, bound/MiB)
		}

		var sum [32]byte
		var n int64
		peak = peakHeap(t, func() {
			r, err := s.Get(ctx, "big")
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			h := sha256.New()
			if n, err = io.Copy(h, r); err != nil {
				t.Fatal(err)
			}
			sum = [32]byte(h.Sum(nil))
		})
		t.Logf("get %d MiB: heap grew by at most %.1f MiB", size/MiB, float64(peak)/MiB)
		if peak > bound {
			t.Errorf("get: heap grew by %d MiB, want at most %d MiB", peak/MiB, bound/MiB)
		}
		if n != size || sum != patternSum(size) {
			t.Errorf("get: got %d bytes with a different hash, want %d bytes of the pattern", n, size)
		}
	})
}

// peakHeap runs fn and returns by how much the heap in use grew above what it
// was before, at most, sampling every few milliseconds.
func peakHeap(t *testing.T, fn func()) uint64 {
	t.Helper()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc

	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	fn()
	close(done)
	wg.Wait()
	if peak < base {
		return 0
	}
	return peak - base
}
