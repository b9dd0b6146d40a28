package jobs

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rempart/rempart"
)

// Schedule enqueues a job of Kind once per period: periods are Every long,
// counted from the Unix epoch in UTC, and each period's job is due At after
// the period's start (for a daily backup at 02:00: Every 24h, At 2h).
type Schedule struct {
	Kind   string
	Every  time.Duration
	At     time.Duration
	Params func() any // the parameters of each enqueued job (nil: none)
}

// ParseEvery reads a schedule setting "DURATION" or "DURATION@HH:MM", such as
// "24h@02:00" (daily at 02:00 UTC) or "720h" (every 30 days at midnight UTC).
func ParseEvery(s string) (every, at time.Duration, err error) {
	d, hm, hasAt := strings.Cut(strings.TrimSpace(s), "@")
	every, err = time.ParseDuration(d)
	if err != nil || every < time.Minute {
		return 0, 0, fmt.Errorf("schedule %q: want a duration of at least 1m, optionally @HH:MM, like 24h@02:00", s)
	}
	if hasAt {
		h, m, ok := strings.Cut(hm, ":")
		hh, err1 := strconv.Atoi(h)
		mm, err2 := strconv.Atoi(m)
		if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
			return 0, 0, fmt.Errorf("schedule %q: the time after @ must be HH:MM", s)
		}
		at = time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute
		if at >= every {
			return 0, 0, fmt.Errorf("schedule %q: the time of day must fall within the period", s)
		}
	}
	return every, at, nil
}

// AddSchedule registers a schedule; Start runs it.
func (r *Runner) AddSchedule(s Schedule) { r.sched = append(r.sched, s) }

// period returns the start of the period of s holding t, and its key.
func (s Schedule) period(t time.Time) (time.Time, string) {
	n := t.UnixNano() / int64(s.Every)
	return time.Unix(0, n*int64(s.Every)).UTC(), s.Kind + ":" + strconv.FormatInt(n, 10)
}

// Tick enqueues, for each schedule, the job of the current period if it is
// not there yet. Every node calls it; the unique key keeps one job per
// period. Tests call it directly.
func (r *Runner) Tick(ctx context.Context) error {
	now := r.clock.Now()
	for _, s := range r.sched {
		start, key := s.period(now)
		r.mu.Lock()
		seen := r.enqueued[key]
		r.mu.Unlock()
		if seen {
			continue
		}
		var params any = struct{}{}
		if s.Params != nil {
			params = s.Params()
		}
		system := rempart.Caller{Principal: rempart.Principal{ID: "system:scheduler"}}
		if _, _, err := r.Enqueue(ctx, system, s.Kind, key, params, start.Add(s.At)); err != nil {
			return fmt.Errorf("schedule %s: %w", s.Kind, err)
		}
		r.mu.Lock()
		r.enqueued[key] = true
		r.mu.Unlock()
	}
	return nil
}

func (r *Runner) schedule(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		if err := r.Tick(ctx); err != nil && ctx.Err() == nil {
			r.logger.Error("jobs: schedule failed", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
