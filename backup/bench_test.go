package backup_test

import (
	"crypto/rand"
	"database/sql"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/backup"
	"github.com/rempart/rempart/blobs"
	"github.com/rempart/rempart/internal/blobstore"
	"github.com/rempart/rempart/internal/s3test"
	"github.com/rempart/rempart/vault"
)

// The target (issue 4) is backups and restores at 200 MB/s or more on a
// dataset of at least 1 GiB. BenchmarkBackup builds each dataset once, in a
// temporary directory, and then measures, on it:
//
//	create   Service.Create: snapshot, frames, encryption, upload
//	verify   Service.Verify: download, decryption, every hash and count
//	restore  Service.Restore into a fresh SQLite database and a fresh local
//	         attachments store (each iteration's are removed untimed)
//
// against a local backup location and against a real S3 server (versitygw,
// on the same two cores). The throughput is of the backup's plaintext: every
// row and attachment byte as framed, before encryption.
//
//	go test -run '^$' -bench Backup -benchtime 3x ./backup
//
// Datasets:
//
//	mix      the real code paths (vault): 4 tenants, 32,768 records of
//	         1 KiB and 128 call recordings of 8 MiB (1 GiB), each with its
//	         audit entry: about 1.08 GB of plaintext.
//	records  1 KiB records only, 900,000 of them (1.1 GB of plaintext):
//	         one tenant made through vault, whose one real record is then
//	         copied with fresh IDs and random ciphertext of the same size
//	         straight into the records table (through vault, with an audit
//	         entry each, 900,000 records take minutes to write).

const (
	mixRecords     = 32768
	mixRecordings  = 128
	recordingBytes = 8 << 20
	onlyRecords    = 900_000
)

// location is a backup service and its backup location.
type location struct {
	svc     *backup.Service
	objects backup.Objects
}

// dataset is a deployment holding a benchmark's data.
type dataset struct {
	e     *env
	plain int64 // the plaintext bytes of a backup of it
}

func BenchmarkBackup(b *testing.B) {
	for _, kind := range []string{"mix", "records"} {
		b.Run(kind, func(b *testing.B) {
			ds := buildDataset(b, kind)
			for _, loc := range []string{"local", "s3"} {
				b.Run(loc, func(b *testing.B) {
					svc, objects := ds.e.svc, ds.e.objects
					if loc == "s3" {
						srv := s3test.Start(b)
						store, err := blobs.Open(ctx, srv.Location)
						if err != nil {
							b.Fatal(err)
						}
						b.Cleanup(func() { store.Close() })
						objects = blobstore.Objects{Store: store}
						svc = ds.e.service(objects)
					}
					l := location{svc, objects}
					b.Run("create", func(b *testing.B) { benchCreate(b, ds, l) })
					b.Run("verify", func(b *testing.B) { benchVerify(b, ds, l) })
					b.Run("restore", func(b *testing.B) { benchRestore(b, ds, l) })
				})
			}
		})
	}
}

func benchCreate(b *testing.B, ds *dataset, l location) {
	b.SetBytes(ds.plain)
	for b.Loop() {
		m, err := l.svc.Create(ctx, ds.e.admin, backup.CreateOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		deleteBackup(b, l, m.ID)
		b.StartTimer()
	}
}

func benchVerify(b *testing.B, ds *dataset, l location) {
	m := benchBackup(b, ds, l)
	b.SetBytes(ds.plain)
	for b.Loop() {
		if _, err := l.svc.Verify(ctx, m.ID, "", nil); err != nil {
			b.Fatal(err)
		}
	}
}

func benchRestore(b *testing.B, ds *dataset, l location) {
	m := benchBackup(b, ds, l)
	var rows int64
	for _, t := range m.Tables {
		rows += t.Rows
	}
	b.SetBytes(ds.plain)
	for b.Loop() {
		b.StopTimer()
		dir, err := os.MkdirTemp(b.TempDir(), "restore")
		if err != nil {
			b.Fatal(err)
		}
		att, err := blobs.Open(ctx, filepath.Join(dir, "attachments"))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		rep, target, err := l.svc.Restore(ctx, m.ID, "", opener("sqlite:"+filepath.Join(dir, "rempart.db"), false),
			backup.RestoreOptions{Attachments: blobstore.Objects{Store: att}})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if rep.Rows != rows || rep.Objects != m.Objects.Count {
			b.Fatalf("restored %d rows, %d objects; want %d, %d", rep.Rows, rep.Objects, rows, m.Objects.Count)
		}
		target.Close()
		att.Close()
		os.RemoveAll(dir)
		b.StartTimer()
	}
}

// benchBackup takes a backup of ds for a benchmark to read, and deletes it
// when the benchmark ends.
func benchBackup(b *testing.B, ds *dataset, l location) backup.Manifest {
	b.Helper()
	m, err := l.svc.Create(ctx, ds.e.admin, backup.CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { deleteBackup(b, l, m.ID) })
	return m
}

// deleteBackup removes a backup's objects, so that the benchmarks' backups
// do not fill the disk.
func deleteBackup(b *testing.B, l location, id string) {
	b.Helper()
	for _, k := range []string{"backups/" + id + "/manifest", "backups/" + id + "/data"} {
		if err := l.objects.Delete(ctx, k); err != nil {
			b.Fatal(err)
		}
	}
}

// buildDataset makes the dataset kind and measures the plaintext of a
// backup of it.
func buildDataset(b *testing.B, kind string) *dataset {
	b.Helper()
	start := time.Now()
	e := newEnv(b, "sqlite")
	e.withAttachments()
	switch kind {
	case "mix":
		buildMix(b, e)
	case "records":
		buildRecords(b, e)
	}
	built := time.Since(start)
	ds := &dataset{e: e}
	m, err := e.svc.Create(ctx, e.admin, backup.CreateOptions{Progress: func(n int64) { ds.plain = n }})
	if err != nil {
		b.Fatal(err)
	}
	deleteBackup(b, location{e.svc, e.objects}, m.ID)
	var rows int64
	for _, t := range m.Tables {
		rows += t.Rows
	}
	b.Logf("dataset %s: %d rows, %d attachments (%d bytes), %d bytes of plaintext, built in %v",
		kind, rows, m.Objects.Count, m.Objects.Bytes, ds.plain, built.Round(time.Millisecond))
	return ds
}

// record1KiB is a call's record: about 1 KiB of JSON.
func record1KiB(tenant string, i int) []byte {
	return fmt.Appendf(nil, `{"caller":"+33 1 23 45 67 %02d","tenant":%q,"i":%d,"notes":%q}`,
		i%100, tenant, i, strings.Repeat("x", 920))
}

// buildMix writes the mix dataset through the data plane.
func buildMix(b *testing.B, e *env) {
	b.Helper()
	type tenant struct {
		id string
		w  rempart.Caller
	}
	var ts []tenant
	for i := range 4 {
		t, err := e.v.CreateTenant(ctx, e.admin, fmt.Sprintf("Tenant %d", i))
		if err != nil {
			b.Fatal(err)
		}
		ts = append(ts, tenant{t.ID, rempart.Caller{Principal: rempart.Principal{ID: "sa_w_" + t.ID, TenantID: t.ID, Role: rempart.RoleWriter}}})
	}
	// Records, by 64 writers (the group commit shares each fsync).
	ids := make([]string, mixRecords)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 64 {
		wg.Go(func() {
			for i := g; i < mixRecords; i += 64 {
				t := ts[i%len(ts)]
				rec, _, err := e.v.CreateRecord(ctx, t.w, t.id, "calls", record1KiB(t.id, i), "")
				if err != nil {
					errs <- err
					return
				}
				ids[i] = rec.ID
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	// Recordings, two uploads at a time.
	errs = make(chan error, 2)
	for g := range 2 {
		wg.Go(func() {
			for i := g; i < mixRecordings; i += 2 {
				t := ts[i%len(ts)]
				src := io.LimitReader(mrand.NewChaCha8([32]byte{byte(i)}), recordingBytes)
				_, err := e.v.UploadAttachment(ctx, t.w, t.id, "calls", ids[i], vault.Upload{Filename: fmt.Sprintf("call-%d.mp3", i),
					ContentType: "audio/mpeg", Size: recordingBytes}, src)
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
}

// buildRecords writes the records-only dataset: one record through the data
// plane, then copies of its row, with fresh IDs and random ciphertext of the
// same size, straight into the table.
func buildRecords(b *testing.B, e *env) {
	b.Helper()
	t, err := e.v.CreateTenant(ctx, e.admin, "Records Only")
	if err != nil {
		b.Fatal(err)
	}
	w := rempart.Caller{Principal: rempart.Principal{ID: "sa_w_" + t.ID, TenantID: t.ID, Role: rempart.RoleWriter}}
	if _, _, err := e.v.CreateRecord(ctx, w, t.ID, "calls", record1KiB(t.ID, 0), ""); err != nil {
		b.Fatal(err)
	}
	raw, err := sql.Open("sqlite", strings.TrimPrefix(e.dsn, "sqlite:"))
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.Query(`SELECT * FROM records`)
	if err != nil {
		b.Fatal(err)
	}
	cols, _ := rows.Columns()
	tmpl := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range tmpl {
		ptrs[i] = &tmpl[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			b.Fatal(err)
		}
	}
	if err := rows.Close(); err != nil {
		b.Fatal(err)
	}
	col := map[string]int{}
	for i, c := range cols {
		col[c] = i
	}
	ctLen := len(tmpl[col["ciphertext"]].([]byte))
	const batch = 10000
	for start := 1; start < onlyRecords; start += batch {
		var rs [][]any
		for i := start; i < min(start+batch, onlyRecords); i++ {
			r := append([]any(nil), tmpl...)
			r[col["id"]] = rempart.NewID("rec")
			// Written a millisecond apart, as records are.
			at := tmpl[col["created_at"]].(int64) + int64(i)*int64(time.Millisecond)
			r[col["created_at"]], r[col["updated_at"]] = at, at
			ct := make([]byte, ctLen)
			rand.Read(ct)
			r[col["ciphertext"]] = ct
			rs = append(rs, r)
		}
		if err := e.d.Insert(ctx, "records", cols, rs); err != nil {
			b.Fatal(err)
		}
	}
}
