package db

import (
	"context"
	"database/sql"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// walCheckpointer copies committed pages from SQLite's write-ahead log into
// the database file on a connection of its own, every interval. Left to
// itself SQLite does this inside the commit that crosses the WAL's size
// threshold, and that commit's writers (and every read waiting on its audit
// entries) wait for thousands of page copies and an extra fsync: the tail of
// the latency. A passive checkpoint does not block the committer. The
// writer's own automatic checkpoint stays, at a higher threshold, as a
// backstop should this one fall behind.
type walCheckpointer struct {
	conn   *sql.DB
	cancel context.CancelFunc
	done   chan struct{}
}

const (
	checkpointEvery    = 200 * time.Millisecond
	backstopCheckpoint = 16384 // pages (64 MiB of WAL at 4 KiB pages)
)

func startCheckpointer(conn *sql.DB, took prometheus.Histogram) *walCheckpointer {
	ctx, cancel := context.WithCancel(context.Background())
	c := &walCheckpointer{conn: conn, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		t := time.NewTicker(checkpointEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				// A failure (a busy database) is retried at the next tick;
				// the backstop bounds the WAL meanwhile. The answer row is
				// read to the end, so that the statement holds no read
				// lock that would keep the WAL from restarting.
				var busy, frames, copied int
				start := time.Now()
				if c.conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied) == nil {
					took.Observe(since(start))
				}
			}
		}
	}()
	return c
}

func (c *walCheckpointer) close() error {
	c.cancel()
	<-c.done
	return c.conn.Close()
}
