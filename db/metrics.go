package db

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics describe the committer and the checkpointer, for operators
// (served on the internal listener with the API's metrics).
type metrics struct {
	commit      prometheus.Histogram
	batch       prometheus.Histogram
	isolated    prometheus.Counter
	checkpoint  prometheus.Histogram
	unavailable prometheus.Counter
}

func newMetrics() *metrics {
	return &metrics{
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "rempart_db_commit_seconds", Help: "Duration of one group commit, from BEGIN to durable COMMIT.",
			Buckets: []float64{.0002, .0005, .001, .002, .005, .01, .02, .05, .1, .25, 1},
		}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "rempart_db_commit_batch_size", Help: "Writes and audit entries that shared one commit.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
		}),
		isolated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rempart_db_commit_isolated_total", Help: "Batches run again with a savepoint per write because one write failed.",
		}),
		checkpoint: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "rempart_db_wal_checkpoint_seconds", Help: "Duration of the background WAL checkpoint (SQLite).",
			Buckets: []float64{.001, .005, .01, .05, .1, .25, .5, 1, 5},
		}),
		unavailable: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rempart_db_commit_failures_total", Help: "Commits that failed: their writes and audit entries did not happen (AUD-1).",
		}),
	}
}

// Collectors returns the database's metrics, for registration.
func (d *DB) Collectors() []prometheus.Collector {
	m := d.metrics
	return []prometheus.Collector{m.commit, m.batch, m.isolated, m.checkpoint, m.unavailable}
}

func since(t time.Time) float64 { return time.Since(t).Seconds() }
