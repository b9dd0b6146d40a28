package db_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/internal/testclock"
	"github.com/rempart/rempart/jobs"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type stepState struct{ Next int }

// steps is a resumable handler: it does steps 0..n-1, saving after each;
// stopAt, if ≥ 0, makes its node stop (cancel) before that step, as a node
// that dies would leave it.
func steps(n int, stopAt *int, stop *context.CancelFunc, seen *[]int) jobs.Handler {
	return func(ctx context.Context, run *jobs.Run) error {
		var st stepState
		if _, err := run.DecodeState(&st); err != nil {
			return err
		}
		for i := st.Next; i < n; i++ {
			if i == *stopAt {
				(*stop)()
				return ctx.Err()
			}
			*seen = append(*seen, i)
			if err := run.Save(ctx, stepState{Next: i + 1}, int64(i+1), int64(n)); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestJobs(t *testing.T) {
	dialects(t, func(t *testing.T, open func(t *testing.T) *db.DB) {
		ctx := context.Background()
		admin := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", Role: rempart.RoleSystemAdmin}}

		t.Run("a job whose node dies resumes on another from its saved state", func(t *testing.T) {
			d := open(t)
			clock := testclock.New(time.Now())
			var seen []int
			stopAt := 3
			actx, stop := context.WithCancel(ctx)
			a := jobs.NewRunner(d, clock, quiet, jobs.Config{Owner: "node-a", Lease: time.Minute})
			b := jobs.NewRunner(d, clock, quiet, jobs.Config{Owner: "node-b", Lease: time.Minute})
			a.Handle("steps", steps(6, &stopAt, &stop, &seen))
			b.Handle("steps", steps(6, &stopAt, &stop, &seen))
			j, created, err := a.Enqueue(ctx, admin, "steps", "", struct{}{}, time.Time{})
			if err != nil || !created {
				t.Fatalf("enqueue: %v, created=%v", err, created)
			}
			// Node a stops during step 3: the job stays leased to it.
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			if ran, err := a.RunOne(cctx); err == nil && ran {
				t.Fatal("a cancelled context claimed a job")
			}
			if ran, err := a.RunOne(actx); !ran || err != nil {
				t.Fatalf("node a: ran=%v err=%v", ran, err)
			}
			got, _ := d.Job(ctx, j.ID)
			if got.Status != jobs.Running || got.Done != 3 || got.Total != 6 {
				t.Fatalf("after node a stopped: got %s %d/%d, want running 3/6", got.Status, got.Done, got.Total)
			}
			if ran, _ := b.RunOne(ctx); ran {
				t.Fatal("node b took a job whose lease has not run out")
			}
			clock.Advance(2 * time.Minute)
			stopAt = -1
			if ran, err := b.RunOne(ctx); !ran || err != nil {
				t.Fatalf("node b: ran=%v err=%v", ran, err)
			}
			if want := []int{0, 1, 2, 3, 4, 5}; !equalInts(seen, want) {
				t.Fatalf("steps done: got %v, want %v (each once)", seen, want)
			}
			got, _ = d.Job(ctx, j.ID)
			if got.Status != jobs.Done || got.Done != 6 || got.Attempts != 2 || got.Finished == nil {
				t.Fatalf("job: got %+v, want done 6/6 after 2 attempts", got)
			}
			// Node a, back, cannot save over node b's work.
			if err := d.Save(ctx, j.ID, "node-a", []byte(`{}`), 1, 6, clock.Now().Add(time.Minute)); !errors.Is(err, jobs.ErrLeaseLost) {
				t.Fatalf("save by the old owner: got %v, want ErrLeaseLost", err)
			}
			es, _ := d.AuditLog(ctx, audit.Query{Limit: 100})
			if !hasAction(es, "job.enqueue", rempart.OutcomeSuccess) || !hasAction(es, "job.finish", rempart.OutcomeSuccess) {
				t.Fatalf("audit: want job.enqueue and job.finish, got %v", actions(es))
			}
		})

		t.Run("a step longer than the lease keeps the job, and a lost lease stops the handler", func(t *testing.T) {
			d := open(t)
			const lease = 300 * time.Millisecond
			a := jobs.NewRunner(d, rempart.SystemClock{}, quiet, jobs.Config{Owner: "node-a", Lease: lease})
			b := jobs.NewRunner(d, rempart.SystemClock{}, quiet, jobs.Config{Owner: "node-b", Lease: lease})
			var calls atomic.Int32
			slow := func(ctx context.Context, run *jobs.Run) error {
				calls.Add(1)
				select { // a long step that never saves
				case <-time.After(4 * lease):
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			a.Handle("slow", slow)
			b.Handle("slow", slow)
			j, _, err := a.Enqueue(ctx, admin, "slow", "", nil, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { _, err := a.RunOne(ctx); done <- err }()
			deadline := time.After(10 * time.Second)
		poll:
			for {
				select {
				case err := <-done:
					if err != nil {
						t.Fatal(err)
					}
					break poll
				case <-deadline:
					t.Fatal("the job did not end")
				case <-time.After(lease / 4):
					if ran, err := b.RunOne(ctx); err != nil || ran {
						t.Fatalf("another node took the job while its step ran: ran %v, %v", ran, err)
					}
				}
			}
			if got, _ := d.Job(ctx, j.ID); got.Status != jobs.Done || calls.Load() != 1 || got.Attempts != 1 {
				t.Fatalf("after a step longer than the lease: %s after %d calls, %d attempts; want done once", got.Status, calls.Load(), got.Attempts)
			}

			// The lease lost (another node finished the job meanwhile):
			// the handler's context ends and nothing is recorded twice.
			stopped := make(chan error, 1)
			a.Handle("blocked", func(ctx context.Context, run *jobs.Run) error {
				if err := d.Finish(ctx, entry("job.finish"), run.ID, "node-a", jobs.Done, "", time.Time{}); err != nil {
					return err
				}
				<-ctx.Done()
				stopped <- context.Cause(ctx)
				return ctx.Err()
			})
			k, _, _ := a.Enqueue(ctx, admin, "blocked", "", nil, time.Time{})
			if ran, err := a.RunOne(ctx); !ran || err != nil {
				t.Fatalf("run: %v, %v", ran, err)
			}
			if cause := <-stopped; !errors.Is(cause, jobs.ErrLeaseLost) {
				t.Fatalf("handler's context ended by %v, want the lost lease", cause)
			}
			if got, _ := d.Job(ctx, k.ID); got.Status != jobs.Done || got.Error != "" {
				t.Fatalf("after the lost lease: %+v, want as the other node left it", got)
			}
			es, _ := d.AuditLog(ctx, audit.Query{Limit: 100, Action: "job.finish"})
			finished := false
			for _, e := range es {
				if e.Resource == "jobs/"+j.ID {
					finished = true
					if e.PrincipalID != jobs.SystemPrincipal {
						t.Fatalf("job.finish by %q, want %q", e.PrincipalID, jobs.SystemPrincipal)
					}
				}
			}
			if !finished {
				t.Fatal("the job's end is not in the audit log")
			}
		})

		t.Run("of nodes enqueueing one unique key at once, one creates it and only its entry is a success", func(t *testing.T) {
			d := open(t)
			const nodes = 16
			type result struct {
				j       jobs.Job
				created bool
				err     error
			}
			results := make(chan result, nodes)
			start := make(chan struct{})
			for i := range nodes {
				go func() {
					<-start
					j := jobs.Job{ID: rempart.NewID("job"), Kind: "steps", UniqueKey: "daily:2024-01-01", Params: []byte("{}"), Status: jobs.Queued, RunAfter: time.Now(), CreatedAt: time.Now()}
					e := rempart.AuditEntry{PrincipalID: "system:scheduler", Action: "job.enqueue", Resource: "jobs/" + j.ID, Outcome: rempart.OutcomeSuccess, Reason: fmt.Sprint(i)}
					got, created, err := d.Enqueue(ctx, e, j)
					results <- result{got, created, err}
				}()
			}
			close(start)
			created, ids := 0, map[string]bool{}
			for range nodes {
				r := <-results
				if r.err != nil {
					t.Fatal(r.err)
				}
				if r.created {
					created++
				}
				ids[r.j.ID] = true
			}
			if created != 1 || len(ids) != 1 {
				t.Fatalf("got %d created and %d distinct jobs, want 1 and 1", created, len(ids))
			}
			es, _ := d.AuditLog(ctx, audit.Query{Limit: 100, Action: "job.enqueue"})
			var ok []string
			for _, e := range es {
				if e.Outcome == rempart.OutcomeSuccess {
					ok = append(ok, e.Resource)
				}
			}
			if len(ok) != 1 || !ids[strings.TrimPrefix(ok[0], "jobs/")] {
				t.Fatalf("successful job.enqueue entries: got %v, want only the created job's", ok)
			}
		})

		t.Run("failures are retried with a delay, then fail for good", func(t *testing.T) {
			d := open(t)
			clock := testclock.New(time.Now())
			r := jobs.NewRunner(d, clock, quiet, jobs.Config{MaxAttempts: 2})
			calls := 0
			r.Handle("flaky", func(ctx context.Context, run *jobs.Run) error {
				calls++
				return errors.New("target unreachable")
			})
			r.Handle("bad", func(ctx context.Context, run *jobs.Run) error { return jobs.Permanent(errors.New("bad parameters")) })
			r.Handle("panics", func(ctx context.Context, run *jobs.Run) error { panic("boom") })
			j, _, _ := r.Enqueue(ctx, admin, "flaky", "", nil, time.Time{})
			r.RunOne(ctx)
			got, _ := d.Job(ctx, j.ID)
			if got.Status != jobs.Queued || got.Error != "target unreachable" || !got.RunAfter.After(clock.Now()) {
				t.Fatalf("after a failed attempt: got %+v, want queued for later", got)
			}
			if ran, _ := r.RunOne(ctx); ran {
				t.Fatal("the retry ran before its delay")
			}
			clock.Advance(11 * time.Second)
			r.RunOne(ctx)
			if got, _ = d.Job(ctx, j.ID); got.Status != jobs.Failed || calls != 2 {
				t.Fatalf("after max attempts: got %s after %d calls, want failed after 2", got.Status, calls)
			}
			b, _, _ := r.Enqueue(ctx, admin, "bad", "", nil, time.Time{})
			p, _, _ := r.Enqueue(ctx, admin, "panics", "", nil, time.Time{})
			r.RunOne(ctx)
			r.RunOne(ctx)
			if got, _ = d.Job(ctx, b.ID); got.Status != jobs.Failed || got.Attempts != 1 {
				t.Fatalf("permanent error: got %s after %d attempts, want failed after 1", got.Status, got.Attempts)
			}
			if got, _ = d.Job(ctx, p.ID); got.Status != jobs.Queued || got.Error == "" {
				t.Fatalf("panic: got %+v, want a failed attempt, queued again", got)
			}
			es, _ := d.AuditLog(ctx, audit.Query{Limit: 100})
			if !hasAction(es, "job.fail", rempart.OutcomeFailure) || !hasAction(es, "job.retry", rempart.OutcomeFailure) {
				t.Fatalf("audit: want job.retry and job.fail, got %v", actions(es))
			}
		})

		t.Run("a schedule enqueues one job per period across nodes", func(t *testing.T) {
			d := open(t)
			day := time.Date(2026, 11, 24, 1, 0, 0, 0, time.UTC)
			clock := testclock.New(day)
			var nodes []*jobs.Runner
			for _, owner := range []string{"a", "b", "c"} {
				r := jobs.NewRunner(d, clock, quiet, jobs.Config{Owner: owner})
				r.Handle("backup", func(context.Context, *jobs.Run) error { return nil })
				r.AddSchedule(jobs.Schedule{Kind: "backup", Every: 24 * time.Hour, At: 2 * time.Hour})
				nodes = append(nodes, r)
			}
			for _, r := range nodes {
				if err := r.Tick(ctx); err != nil {
					t.Fatal(err)
				}
			}
			js, _ := d.Jobs(ctx, jobs.Query{Kind: "backup"})
			if len(js) != 1 || !js[0].RunAfter.Equal(day.Add(time.Hour)) {
				t.Fatalf("jobs after three nodes ticked: got %+v, want one due at 02:00", js)
			}
			if ran, _ := nodes[1].RunOne(ctx); ran {
				t.Fatal("the 02:00 backup ran at 01:00")
			}
			clock.Advance(time.Hour)
			if ran, _ := nodes[1].RunOne(ctx); !ran {
				t.Fatal("the 02:00 backup did not run at 02:00")
			}
			clock.Advance(24 * time.Hour)
			for _, r := range nodes {
				r.Tick(ctx)
			}
			if js, _ = d.Jobs(ctx, jobs.Query{Kind: "backup"}); len(js) != 2 {
				t.Fatalf("jobs on the next day: got %d, want 2", len(js))
			}
		})
	})
}

func TestParseEvery(t *testing.T) {
	for _, c := range []struct {
		in        string
		every, at time.Duration
		ok        bool
	}{
		{"24h@02:00", 24 * time.Hour, 2 * time.Hour, true},
		{"720h", 720 * time.Hour, 0, true},
		{"1h@00:30", time.Hour, 30 * time.Minute, true},
		{"1h@02:00", 0, 0, false},
		{"24h@25:00", 0, 0, false},
		{"10s", 0, 0, false},
		{"daily", 0, 0, false},
	} {
		every, at, err := jobs.ParseEvery(c.in)
		if (err == nil) != c.ok || every != c.every || at != c.at {
			t.Errorf("ParseEvery(%q): got %v %v %v, want %v %v ok=%v", c.in, every, at, err, c.every, c.at, c.ok)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func hasAction(es []rempart.AuditEntry, action, outcome string) bool {
	for _, e := range es {
		if e.Action == action && e.Outcome == outcome {
			return true
		}
	}
	return false
}

func actions(es []rempart.AuditEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Action+"/"+e.Outcome)
	}
	return out
}
