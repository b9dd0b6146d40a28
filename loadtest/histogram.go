package loadtest

import (
	"math"
	"math/bits"
	"time"
)

// histogram counts latencies in log-linear buckets, in the manner of an HDR
// histogram: values below 256ns exactly, above that with 8 significant bits
// (a relative error under 0.8%), in fixed memory whatever the run's length.
type histogram struct {
	counts [histBuckets]int64
	total  int64
	max    time.Duration
}

const (
	subBits     = 7 // a bucket is 1/128 of its power of two
	subBuckets  = 1 << subBits
	histBuckets = 2*subBuckets + (63-subBits)*subBuckets
)

// bucket returns the bucket of v ≥ 0.
func bucket(v uint64) int {
	if v < 2*subBuckets {
		return int(v)
	}
	shift := bits.Len64(v) - subBits - 1 // ≥ 1
	return 2*subBuckets + (shift-1)*subBuckets + int(v>>shift) - subBuckets
}

// upper returns the largest value of bucket i.
func upper(i int) uint64 {
	if i < 2*subBuckets {
		return uint64(i)
	}
	i -= 2 * subBuckets
	shift := i/subBuckets + 1
	top := uint64(i%subBuckets + subBuckets)
	return (top+1)<<shift - 1
}

func (h *histogram) record(d time.Duration) {
	d = max(d, 0)
	h.counts[bucket(uint64(d))]++
	h.total++
	h.max = max(h.max, d)
}

func (h *histogram) merge(o *histogram) {
	for i, n := range o.counts {
		h.counts[i] += n
	}
	h.total += o.total
	h.max = max(h.max, o.max)
}

// quantile returns the latency under which a fraction q of the samples
// fall (at most 0.8% over), never more than the maximum seen.
func (h *histogram) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.total))) // nearest rank
	rank = min(max(rank, 1), h.total)
	var seen int64
	for i, n := range h.counts {
		seen += n
		if seen >= rank {
			return min(time.Duration(upper(i)), h.max)
		}
	}
	return h.max
}
