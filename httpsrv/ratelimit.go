package httpsrv

import (
	"hash/maphash"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/rempart/rempart"
)

const (
	// maxKeys bounds the memory of a RateLimiter (NET-2): about 100,000 keys,
	// a few megabytes, whatever the number of distinct clients.
	maxKeys   = 100_000
	numShards = 64 // a power of two
	perShard  = maxKeys / numShards
)

// RateLimiter keeps a token bucket per key, such as "ip:192.0.2.1" or
// "cred:key_id" (NET-2). Each key may take burst requests at once and then
// perSecond on average. It is safe for concurrent use: keys are spread over
// independently locked shards, and Allow does not allocate for a key it
// already tracks.
//
// Memory is bounded. A bucket that has been idle long enough to be full
// again is indistinguishable from no bucket, so it is dropped. Past maxKeys
// (e.g. a flood of spoofed or IPv6 addresses), the least recently used key of
// the shard is dropped: a key that keeps sending stays tracked and limited,
// and only the quietest ones start over with a full burst.
type RateLimiter struct {
	rate   float64 // tokens per second
	burst  float64
	fill   int64 // nanoseconds for an empty bucket to become full
	clock  rempart.Clock
	seed   maphash.Seed
	shards [numShards]shard
}

type shard struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	root    bucket   // sentinel of the LRU list: root.next is the most recent
	_       [64]byte // keeps two shards' locks off the same cache line
}

type bucket struct {
	key        string
	tokens     float64
	last       int64 // clock time of the last update, Unix nanoseconds
	prev, next *bucket
}

// NewRateLimiter returns a limiter allowing perSecond requests per key on
// average with bursts of up to burst (at least 1). perSecond must be positive
// and finite. A nil clock is the system clock.
func NewRateLimiter(perSecond float64, burst int, clock rempart.Clock) *RateLimiter {
	if !(perSecond > 0) || math.IsInf(perSecond, 1) {
		panic("httpsrv: rate limit must be a positive number per second")
	}
	if clock == nil {
		clock = rempart.SystemClock{}
	}
	l := &RateLimiter{rate: perSecond, burst: float64(max(burst, 1)), clock: clock, seed: maphash.MakeSeed()}
	l.fill = int64(durationFor(l.burst / l.rate))
	for i := range l.shards {
		sh := &l.shards[i]
		sh.buckets = make(map[string]*bucket)
		sh.root.prev, sh.root.next = &sh.root, &sh.root
	}
	return l
}

// Allow takes one token from key's bucket. When there is none it returns
// false and how long until one is available; the caller rounds that up to
// whole seconds for Retry-After.
func (l *RateLimiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	now := l.clock.Now().UnixNano()
	sh := &l.shards[maphash.String(l.seed, key)&(numShards-1)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	sh.dropIdle(now, l.fill)
	b := sh.buckets[key]
	if b == nil {
		if len(sh.buckets) >= perShard {
			sh.remove(sh.root.prev)
		}
		b = &bucket{key: strings.Clone(key), tokens: l.burst}
		sh.buckets[b.key] = b
	} else {
		sh.unlink(b)
		// A clock that stepped back refills nothing, and never takes
		// tokens away.
		if elapsed := now - b.last; elapsed > 0 {
			b.tokens = min(l.burst, b.tokens+float64(elapsed)*l.rate/1e9)
		}
	}
	b.last = now
	sh.pushFront(b)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, durationFor((1 - b.tokens) / l.rate)
}

// Len reports how many keys are tracked.
func (l *RateLimiter) Len() int {
	n := 0
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		n += len(sh.buckets)
		sh.mu.Unlock()
	}
	return n
}

// dropIdle removes, from the least recently used end, the buckets that have
// refilled completely. Each bucket is removed at most once, so the cost is
// constant per Allow on average.
func (sh *shard) dropIdle(now, fill int64) {
	for b := sh.root.prev; b != &sh.root && now-b.last >= fill; b = sh.root.prev {
		sh.remove(b)
	}
}

func (sh *shard) remove(b *bucket) {
	sh.unlink(b)
	delete(sh.buckets, b.key)
}

func (sh *shard) unlink(b *bucket) {
	b.prev.next, b.next.prev = b.next, b.prev
	b.prev, b.next = nil, nil
}

func (sh *shard) pushFront(b *bucket) {
	b.prev, b.next = &sh.root, sh.root.next
	sh.root.next.prev = b
	sh.root.next = b
}

// durationFor converts seconds to a Duration, rounding up to the nanosecond
// so that a caller never retries too early, and saturating instead of
// overflowing.
func durationFor(seconds float64) time.Duration {
	ns := math.Ceil(seconds * 1e9)
	if ns >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(ns)
}
