package loadtest

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Result is what a run measured.
type Result struct {
	Mode        string
	Protocol    string // as negotiated: HTTP/1.1 or HTTP/2.0
	Tenants     int
	Concurrency int
	RateLimit   float64 // the open-loop target, 0 for a closed loop

	// Requests counts the answered requests, errors included; Errors those
	// that failed (any unexpected status, or no answer).
	Requests, Errors int64
	// Missed counts open-loop requests never sent because the run fell too
	// far behind its schedule.
	Missed int64
	// Duration is the measured phase, until the last answer.
	Duration time.Duration
	// Throughput is successful requests per second.
	Throughput float64
	// Latencies of successful requests (from the scheduled time in an open
	// loop), within 0.8%.
	P50, P90, P99, Max time.Duration
	// ErrorsByStatus counts errors by HTTP status; 0 is a network error or
	// a timeout. ErrorSamples holds one error message of each status.
	ErrorsByStatus map[int]int64
	ErrorSamples   map[int]string
	// Interrupted tells that the run was cancelled before its end.
	Interrupted bool
}

// String renders the result as a short table.
func (r Result) String() string {
	var b strings.Builder
	row := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "%-12s"+format+"\n", append([]any{label}, args...)...)
	}
	loop := "closed loop"
	if r.RateLimit > 0 {
		loop = fmt.Sprintf("open loop at %.0f req/s", r.RateLimit)
	}
	row("mode", "%s (%s, %s, %d workers, %d tenants)", r.Mode, orDash(r.Protocol), loop, r.Concurrency, r.Tenants)
	dur := fmtDuration(r.Duration)
	if r.Interrupted {
		dur += " (interrupted)"
	}
	row("duration", "%s", dur)
	reqs := fmt.Sprintf("%d (%d errors", r.Requests, r.Errors)
	if r.Missed > 0 {
		reqs += fmt.Sprintf(", %d missed", r.Missed)
	}
	row("requests", "%s)", reqs)
	row("throughput", "%.1f req/s", r.Throughput)
	row("latency", "p50 %s  p90 %s  p99 %s  max %s", fmtDuration(r.P50), fmtDuration(r.P90), fmtDuration(r.P99), fmtDuration(r.Max))
	statuses := make([]int, 0, len(r.ErrorsByStatus))
	for st := range r.ErrorsByStatus {
		statuses = append(statuses, st)
	}
	slices.Sort(statuses)
	for i, st := range statuses {
		label := ""
		if i == 0 {
			label = "errors"
		}
		name := fmt.Sprint(st)
		if st == 0 {
			name = "network"
		}
		sample := r.ErrorSamples[st]
		if len(sample) > 120 {
			sample = strings.ToValidUTF8(sample[:120], "") + "…"
		}
		row(label, "%s: %d  %s", name, r.ErrorsByStatus[st], sample)
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// fmtDuration prints a latency with three significant digits or so.
func fmtDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond))
	}
}
