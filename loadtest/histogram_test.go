package loadtest

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistogramBuckets(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(v uint64) {
		i := bucket(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("bucket(%d) = %d, out of range", v, i)
		}
		u := upper(i)
		if u < v || float64(u-v) > float64(v)/128 {
			t.Fatalf("value %d in bucket %d with upper bound %d: error over 1/128", v, i, u)
		}
		if i > 0 && upper(i-1) >= v {
			t.Fatalf("value %d also fits bucket %d", v, i-1)
		}
	}
	for v := range uint64(100000) {
		check(v)
	}
	for range 100000 {
		check(rng.Uint64() >> rng.IntN(64))
	}
	check(math.MaxInt64)
}

func TestHistogramQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var a, b histogram
	var all []time.Duration
	for i := range 200000 {
		d := time.Duration(math.Exp(rng.NormFloat64()*1.5) * float64(time.Millisecond))
		all = append(all, d)
		if i%2 == 0 {
			a.record(d)
		} else {
			b.record(d)
		}
	}
	a.merge(&b)
	slices.Sort(all)
	for _, q := range []float64{0, 0.001, 0.5, 0.9, 0.99, 0.999, 1} {
		rank := max(int(math.Ceil(q*float64(len(all)))), 1)
		want := all[rank-1]
		got := a.quantile(q)
		if got < want || float64(got-want) > float64(want)/128 {
			t.Errorf("q %v: got %v, want %v within 1/128", q, got, want)
		}
	}
	if a.max != all[len(all)-1] || a.total != int64(len(all)) {
		t.Errorf("max %v total %d, want %v and %d", a.max, a.total, all[len(all)-1], len(all))
	}
	var empty histogram
	if got := empty.quantile(0.5); got != 0 {
		t.Errorf("empty histogram: got %v", got)
	}
	var one histogram
	one.record(-5)
	one.record(1234567)
	if got := one.quantile(1); got != 1234567 {
		t.Errorf("p100: got %v, want the max", got)
	}
}
