package db_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/guard"
)

// The store's hot paths on SQLite (synchronous=full, as rempart serve runs),
// and beside them the raw SQLite baseline: the same rows inserted and read
// with plain statements on the same driver, no audit, no encryption. The
// ratio of the two is the price of the controls (docs/PERFORMANCE.md).
//
//	go test -run XXX -bench . -benchtime 3s ./db

// benchEntry is a typical audit entry of a read.
func benchEntry(tenant string) rempart.AuditEntry {
	return rempart.AuditEntry{TenantID: tenant, PrincipalID: "sa_5x3k0w6c9p2m8d7f4q1r0s2t3v", CredentialID: "key_5x3k0w6c9p2m8d7f4q1r0s2t3v",
		Action: "record.read", Resource: "tenants/" + tenant + "/collections/calls/records/rec_5x3k0w6c9p2m8d7f4q1r0s2t3v",
		Outcome: rempart.OutcomeSuccess, IP: "203.0.113.7", UserAgent: "rempart-client/1", RequestID: "req_5x3k0w6c9p2m8d7f4q1r0s2t3v"}
}

// BenchmarkAuditAppend is a durable audit append through the group
// committer, from many goroutines at once as requests arrive (target ≥
// 50,000/s).
func BenchmarkAuditAppend(b *testing.B) {
	d := OpenSQLite(b, b.TempDir())
	b.SetParallelism(64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		e := benchEntry("ten_bench")
		for pb.Next() {
			if _, err := d.Audit(context.Background(), e); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// seeded is a database holding n records of 1 KiB in one tenant.
func seeded(b *testing.B, n int) (*db.DB, guard.Scope, []string) {
	d := OpenSQLite(b, b.TempDir())
	s := newTenant(b, d, "Bench")
	ids := make([]string, n)
	ct := bytes.Repeat([]byte{0xa5}, 1024+28)
	for i := range ids {
		ids[i] = fmt.Sprintf("rec_%06d", i)
		r := row("calls", ids[i], time.Now())
		r.Ciphertext = ct
		if _, _, err := d.CreateRecord(context.Background(), s, entry("record.create"), r, nil); err != nil {
			b.Fatal(err)
		}
	}
	return d, s, ids
}

// BenchmarkGetRecord is a point read of a record row (no audit: the vault
// adds it).
func BenchmarkGetRecord(b *testing.B) {
	d, s, ids := seeded(b, 1000)
	var i atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := d.GetRecord(context.Background(), s, "calls", ids[int(i.Add(1))%len(ids)]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkCreateRecord is a durable insert of a 1 KiB record with its audit
// entry, from many goroutines.
func BenchmarkCreateRecord(b *testing.B) {
	d := OpenSQLite(b, b.TempDir())
	s := newTenant(b, d, "Bench")
	ct := bytes.Repeat([]byte{0xa5}, 1024+28)
	var n atomic.Int64
	b.SetParallelism(64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := row("calls", fmt.Sprintf("rec_%09d", n.Add(1)), time.Now())
			r.Ciphertext = ct
			if _, _, err := d.CreateRecord(context.Background(), s, entry("record.create"), r, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// rawSQLite opens the same file layout with the same pragmas rempart uses,
// for the baseline.
func rawSQLite(b *testing.B) *sql.DB {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(full)")
	r, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "raw.db")+"?"+q.Encode())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	if _, err := r.Exec(`CREATE TABLE records (tenant_id TEXT NOT NULL, collection TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
		created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, deleted_at INTEGER, data_key_id TEXT NOT NULL, ciphertext BLOB NOT NULL,
		PRIMARY KEY (tenant_id, collection, id))`); err != nil {
		b.Fatal(err)
	}
	return r
}

// BenchmarkRawSQLiteInsert is the baseline of BenchmarkCreateRecord: one
// durable (synchronous=full) autocommit insert of the same row, serialised
// on one connection as SQLite serialises writers.
func BenchmarkRawSQLiteInsert(b *testing.B) {
	r := rawSQLite(b)
	r.SetMaxOpenConns(1)
	ins, err := r.Prepare(`INSERT INTO records VALUES (?, ?, ?, 1, ?, ?, NULL, 'dk', ?)`)
	if err != nil {
		b.Fatal(err)
	}
	ct := bytes.Repeat([]byte{0xa5}, 1024+28)
	var n atomic.Int64
	b.SetParallelism(64)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			now := time.Now().UnixNano()
			if _, err := ins.Exec("ten_bench", "calls", fmt.Sprintf("rec_%09d", n.Add(1)), now, now, ct); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRawSQLitePointRead is the baseline of BenchmarkGetRecord.
func BenchmarkRawSQLitePointRead(b *testing.B) {
	r := rawSQLite(b)
	ct := bytes.Repeat([]byte{0xa5}, 1024+28)
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = fmt.Sprintf("rec_%06d", i)
		if _, err := r.Exec(`INSERT INTO records VALUES (?, ?, ?, 1, 0, 0, NULL, 'dk', ?)`, "ten_bench", "calls", ids[i], ct); err != nil {
			b.Fatal(err)
		}
	}
	sel, err := r.Prepare(`SELECT collection, id, version, created_at, updated_at, deleted_at, data_key_id, ciphertext FROM records WHERE tenant_id = ? AND collection = ? AND id = ?`)
	if err != nil {
		b.Fatal(err)
	}
	var i atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var coll, id, dk string
		var v, c, u int64
		var del sql.NullInt64
		var blob []byte
		for pb.Next() {
			if err := sel.QueryRow("ten_bench", "calls", ids[int(i.Add(1))%len(ids)]).Scan(&coll, &id, &v, &c, &u, &del, &dk, &blob); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkAuditAppendSerial is one append per commit: the fixed cost of a
// group commit (BEGIN, tree state, inserts, COMMIT with its fsync).
func BenchmarkAuditAppendSerial(b *testing.B) {
	d := OpenSQLite(b, b.TempDir())
	e := benchEntry("ten_bench")
	for b.Loop() {
		if _, err := d.Audit(context.Background(), e); err != nil {
			b.Fatal(err)
		}
	}
}
