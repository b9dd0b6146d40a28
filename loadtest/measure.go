package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rempart/rempart/client"
)

// worker issues requests for one tenant and keeps its own statistics, so
// that workers share nothing but the connection pool.
type worker struct {
	id   int
	t    *tenantState
	mode string
	rng  *rand.Rand
	tmpl []byte
	n    uint64

	// requests and errors are read by the progress reporter.
	requests, errors atomic.Int64
	hist             histogram
	byStatus         map[int]int64
	samples          map[int]string
}

// once makes one request.
func (w *worker) once(ctx context.Context) error {
	if w.mode == ModeWrite || w.mode == ModeMixed && w.rng.IntN(10) == 0 {
		w.n++
		body := recordBody(w.tmpl, uint64(w.id)<<40|w.n)
		_, err := w.t.c.CreateRecord(ctx, w.t.id, Collection, json.RawMessage(body), "")
		return err
	}
	id := w.t.ids[w.rng.IntN(len(w.t.ids))]
	_, err := w.t.c.GetRecord(ctx, w.t.id, Collection, id)
	return err
}

// observe counts one request. A request cut short by the run's
// cancellation is not the server's failure and is not counted.
func (w *worker) observe(ctx context.Context, latency time.Duration, err error) {
	if err != nil && ctx.Err() != nil {
		return
	}
	if err == nil {
		w.hist.record(latency)
		w.requests.Add(1)
		return
	}
	status := 0 // no HTTP answer: a network error or timeout
	var ae *client.Error
	if errors.As(err, &ae) {
		status = ae.Status
	}
	w.byStatus[status]++
	if _, ok := w.samples[status]; !ok {
		w.samples[status] = err.Error()
	}
	w.errors.Add(1)
	w.requests.Add(1)
}

// closedLoop issues requests back to back until end.
func (w *worker) closedLoop(ctx context.Context, end time.Time) {
	for ctx.Err() == nil && time.Now().Before(end) {
		start := time.Now()
		err := w.once(ctx)
		w.observe(ctx, time.Since(start), err)
	}
}

// schedule hands out the due times of an open-loop run: slot k is due at
// start + k/rate, whichever worker is free takes it.
type schedule struct {
	start    time.Time
	rate     float64
	slots    int64
	hardStop time.Time // past this, late slots are dropped as missed
	next     atomic.Int64
	issued   atomic.Int64
}

func (s *schedule) due(k int64) time.Time {
	return s.start.Add(time.Duration(float64(k) * float64(time.Second) / s.rate))
}

// openLoop takes slots until the schedule is exhausted. Latency runs from
// the slot's due time, so time spent waiting for a free worker counts.
func (w *worker) openLoop(ctx context.Context, s *schedule) {
	for ctx.Err() == nil {
		k := s.next.Add(1) - 1
		if k >= s.slots {
			return
		}
		due := s.due(k)
		if d := time.Until(due); d > 0 {
			if sleep(ctx, d) != nil {
				return
			}
		} else if time.Now().After(s.hardStop) {
			return
		}
		s.issued.Add(1)
		err := w.once(ctx)
		w.observe(ctx, time.Since(due), err)
	}
}

// measure runs the workers for cfg.Duration and gathers their results.
func measure(ctx context.Context, cfg Config, tenants []*tenantState, progress io.Writer) Result {
	tmpl := recordTemplate(cfg.RecordSize)
	seed := uint64(time.Now().UnixNano())
	ws := make([]*worker, cfg.Concurrency)
	for i := range ws {
		ws[i] = &worker{
			id: i, t: tenants[i%len(tenants)], mode: cfg.Mode, tmpl: tmpl,
			rng:      rand.New(rand.NewPCG(seed, uint64(i))),
			byStatus: map[int]int64{}, samples: map[int]string{},
		}
	}
	how := "as fast as possible"
	if cfg.RateLimit > 0 {
		how = fmt.Sprintf("at %.0f req/s", cfg.RateLimit)
	}
	fmt.Fprintf(progress, "measuring %s for %s: %d workers over %d tenants, %s\n", cfg.Mode, cfg.Duration, cfg.Concurrency, len(tenants), how)

	start := time.Now()
	end := start.Add(cfg.Duration)
	var sched *schedule
	if cfg.RateLimit > 0 {
		sched = &schedule{
			start:    start,
			rate:     cfg.RateLimit,
			slots:    max(1, int64(cfg.Duration.Seconds()*cfg.RateLimit)),
			hardStop: end.Add(cfg.Duration/2 + 2*time.Second),
		}
	}
	done := make(chan struct{})
	var reporter sync.WaitGroup
	reporter.Go(func() { reportProgress(progress, ws, start, done) })
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Go(func() {
			if sched != nil {
				w.openLoop(ctx, sched)
			} else {
				w.closedLoop(ctx, end)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(done)
	reporter.Wait()

	res := Result{
		Mode:           cfg.Mode,
		Tenants:        len(tenants),
		Concurrency:    cfg.Concurrency,
		RateLimit:      cfg.RateLimit,
		Duration:       elapsed,
		Interrupted:    ctx.Err() != nil,
		ErrorsByStatus: map[int]int64{},
		ErrorSamples:   map[int]string{},
	}
	var h histogram
	for _, w := range ws {
		res.Requests += w.requests.Load()
		res.Errors += w.errors.Load()
		h.merge(&w.hist)
		for st, n := range w.byStatus {
			res.ErrorsByStatus[st] += n
			if _, ok := res.ErrorSamples[st]; !ok {
				res.ErrorSamples[st] = w.samples[st]
			}
		}
	}
	if sched != nil && !res.Interrupted {
		res.Missed = sched.slots - sched.issued.Load()
	}
	if secs := elapsed.Seconds(); secs > 0 {
		res.Throughput = float64(res.Requests-res.Errors) / secs
	}
	res.P50, res.P90, res.P99 = h.quantile(0.50), h.quantile(0.90), h.quantile(0.99)
	res.Max = h.max
	return res
}

// reportProgress writes one line a second until done.
func reportProgress(progress io.Writer, ws []*worker, start time.Time, done <-chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last int64
	lastT := start
	for {
		select {
		case <-done:
			return
		case now := <-tick.C:
			var n, e int64
			for _, w := range ws {
				n += w.requests.Load()
				e += w.errors.Load()
			}
			el := now.Sub(start).Seconds()
			fmt.Fprintf(progress, "%5.0fs %10d requests %9.0f req/s (last second %.0f) %d errors\n",
				el, n, float64(n)/el, float64(n-last)/now.Sub(lastT).Seconds(), e)
			last, lastT = n, now
		}
	}
}

// The body of a load-test record: a 16-digit hexadecimal sequence number,
// unique in the run, and padding up to the configured size.
const (
	recordHead = `{"seq":"`
	recordMid  = `","pad":"`
	recordTail = `"}`
	seqDigits  = 16
)

// recordTemplate returns a record body of size bytes (or the smallest
// possible) with the sequence number at offset len(recordHead).
func recordTemplate(size int) []byte {
	b := make([]byte, 0, max(size, 64))
	b = append(b, recordHead...)
	for range seqDigits {
		b = append(b, '0')
	}
	b = append(b, recordMid...)
	for i := 0; len(b)+len(recordTail) < size; i++ {
		b = append(b, byte('a'+i%26))
	}
	return append(b, recordTail...)
}

// recordBody returns a copy of tmpl numbered seq.
func recordBody(tmpl []byte, seq uint64) []byte {
	const hex = "0123456789abcdef"
	b := make([]byte, len(tmpl))
	copy(b, tmpl)
	for i := seqDigits - 1; i >= 0; i-- {
		b[len(recordHead)+i] = hex[seq&15]
		seq >>= 4
	}
	return b
}
