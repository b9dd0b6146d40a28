package db_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestWALCheckpointedInBackground checks that committed pages reach the
// database file without any commit crossing SQLite's own checkpoint
// threshold: the background checkpointer copied them.
func TestWALCheckpointedInBackground(t *testing.T) {
	dir := t.TempDir()
	d := OpenSQLite(t, dir)
	path := filepath.Join(dir, "test.db")
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	for range 500 { // a few hundred pages of WAL, far below the backstop
		if _, err := d.Audit(ctx, benchEntry("ten_ckpt")); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for size() <= before {
		if time.Now().After(deadline) {
			t.Fatalf("database file still %d bytes 10 s after 500 commits: nothing was checkpointed", before)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
