package backup_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/backup"
	"github.com/rempart/rempart/db"
)

// TestBackupRestoresAcrossDatabases takes a backup on each database and
// restores it into each, the documented migration path: every record
// decrypts to what was written, counts match, and the restored audit log
// verifies offline against the backup's checkpoint (BCK-1, BCK-2).
func TestBackupRestoresAcrossDatabases(t *testing.T) {
	for _, from := range dialects {
		for _, to := range dialects {
			t.Run(from+" to "+to, func(t *testing.T) {
				e := newEnv(t, from)
				a, wa, da := e.tenant("Acme", 40)
				b, wb, db2 := e.tenant("Globex", 25)
				m, err := e.svc.Create(ctx, e.admin, backup.CreateOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if m.Dialect != from || m.Audit.Size == 0 || m.Data.Size == 0 {
					t.Fatalf("manifest: got %+v", m)
				}
				ls, err := e.svc.List(ctx, "")
				if err != nil || len(ls) != 1 || ls[0].Manifest == nil || ls[0].ID != m.ID {
					t.Fatalf("list: got %+v, %v; want the one backup", ls, err)
				}
				if _, err := e.svc.Verify(ctx, m.ID, "", nil); err != nil {
					t.Fatalf("verify: %v", err)
				}
				dsn := place(t, to)
				rep, target, err := e.svc.Restore(ctx, m.ID, "", opener(dsn, false), backup.RestoreOptions{})
				if err != nil {
					t.Fatalf("restore: %v", err)
				}
				defer target.Close()
				var rows int64
				for _, ti := range m.Tables {
					rows += ti.Rows
				}
				if rep.Rows != rows || len(rep.Shredded) != 0 {
					t.Fatalf("restore report: got %d rows, shredded %v; want %d, none", rep.Rows, rep.Shredded, rows)
				}
				v := e.restored(target)
				checkRecords(t, v, wa, a, da)
				checkRecords(t, v, wb, b, db2)
				var exp bytes.Buffer
				if err := target.ExportAudit(ctx, &exp); err != nil {
					t.Fatal(err)
				}
				vr, err := audit.Verify(&exp, e.auditKey, nil)
				// The reads above appended entries; the backup's checkpoint
				// vouches for the log as it was restored.
				if err != nil || !vr.OK || vr.VerifiedSize != m.Audit.Size {
					t.Fatalf("restored audit log: got %+v, %v; want %d entries verified", vr, err, m.Audit.Size)
				}
			})
		}
	}
}

// TestDeletedTenantStaysSealedInBackups takes a backup, deletes a tenant,
// restores the backup, and checks that the deleted tenant's data cannot be
// decrypted while the other tenant's is intact (GOV-5, ADR 7).
func TestDeletedTenantStaysSealedInBackups(t *testing.T) {
	e := newEnv(t, "sqlite")
	a, wa, da := e.tenant("Acme", 10)
	b, wb, db2 := e.tenant("Globex", 10)
	m, err := e.svc.Create(ctx, e.admin, backup.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.v.DeleteTenant(ctx, e.admin, a); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RefreshEscrow(ctx); err != nil {
		t.Fatal(err)
	}
	rep, target, err := e.svc.Restore(ctx, m.ID, "", opener(place(t, "sqlite"), false), backup.RestoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if len(rep.Shredded) != 1 || rep.Shredded[0] != a {
		t.Fatalf("shredded: got %v, want [%s]", rep.Shredded, a)
	}
	v := e.restored(target)
	checkRecords(t, v, wb, b, db2)
	for id := range da {
		rec, err := v.GetRecord(ctx, wa, a, "calls", id)
		if err == nil {
			t.Fatalf("record %s of the deleted tenant decrypted after restore: %s", id, rec.Data)
		}
		if code := rempart.ErrorCode(err); code != rempart.EUNAVAILABLE {
			t.Fatalf("record %s of the deleted tenant: got %v, want unavailable (keys destroyed)", id, err)
		}
	}
	// Its ciphertext is there, and no key-encryption key of it.
	_, keks, err := target.(*db.DB).EscrowKEKs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keks {
		if k[0] == a {
			t.Fatalf("the restored database holds a key-encryption key of the deleted tenant: %v", k[:2])
		}
	}
}

// TestTamperedBackupsAreRejected alters the data, the manifest and the
// escrow, and truncates the data: verify and restore refuse each (ENC-4:
// what is signed is checked).
func TestTamperedBackupsAreRejected(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.tenant("Acme", 30)
	m, err := e.svc.Create(ctx, e.admin, backup.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	read := func(key string) []byte {
		rc, err := e.objects.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, _ := io.ReadAll(rc)
		return b
	}
	put := func(key string, b []byte) {
		if _, err := e.objects.Put(ctx, key, bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	data, manifest, escrow := read("backups/"+m.ID+"/data"), read("backups/"+m.ID+"/manifest"), read("keys/escrow")
	for _, c := range []struct {
		name, key string
		mutate    func([]byte) []byte
		want      string
	}{
		{"a flipped bit in the data", "backups/" + m.ID + "/data", func(b []byte) []byte { b[len(b)/2] ^= 1; return b }, "damaged or was tampered"},
		{"truncated data", "backups/" + m.ID + "/data", func(b []byte) []byte { return b[:len(b)-100] }, "damaged or was tampered"},
		{"data with bytes appended", "backups/" + m.ID + "/data", func(b []byte) []byte { return append(b, 0, 1, 2) }, "damaged or was tampered"},
		{"an edited manifest", "backups/" + m.ID + "/manifest", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"rows":30`), []byte(`"rows":29`), 1)
		}, "signature does not verify"},
		{"an edited escrow", "keys/escrow", func(b []byte) []byte { b[20] ^= 1; return b }, "signature does not verify"},
	} {
		t.Run(c.name, func(t *testing.T) {
			orig := map[string][]byte{"backups/" + m.ID + "/data": data, "backups/" + m.ID + "/manifest": manifest, "keys/escrow": escrow}[c.key]
			put(c.key, c.mutate(append([]byte(nil), orig...)))
			defer put(c.key, orig)
			if _, err := e.svc.Verify(ctx, m.ID, "", nil); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("verify: got %v, want %q", err, c.want)
			}
			dsn := place(t, "sqlite")
			_, target, err := e.svc.Restore(ctx, m.ID, "", opener(dsn, false), backup.RestoreOptions{})
			if target != nil {
				target.Close()
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("restore: got %v, want %q", err, c.want)
			}
		})
	}
	if _, err := e.svc.Verify(ctx, m.ID, "", nil); err != nil {
		t.Fatalf("verify of the repaired backup: %v", err)
	}
}

// TestRestoreRefusesNonEmptyTarget checks that a restore does not overwrite
// a database that holds data unless asked.
func TestRestoreRefusesNonEmptyTarget(t *testing.T) {
	e := newEnv(t, "sqlite")
	a, wa, da := e.tenant("Acme", 5)
	m, err := e.svc.Create(ctx, e.admin, backup.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	other := newEnv(t, "sqlite")
	other.tenant("Somebody Else", 3)
	other.d.Close()
	_, target, err := e.svc.Restore(ctx, m.ID, "", opener(other.dsn, false), backup.RestoreOptions{})
	if target != nil {
		target.Close()
	}
	if rempart.ErrorCode(err) != rempart.ECONFLICT {
		t.Fatalf("restore over a database with data: got %v, want conflict", err)
	}
	_, target, err = e.svc.Restore(ctx, m.ID, "", opener(other.dsn, true), backup.RestoreOptions{})
	if err != nil {
		t.Fatalf("restore with replace: %v", err)
	}
	defer target.Close()
	checkRecords(t, e.restored(target), wa, a, da)
}

// failingObjects fails every Put after n bytes, as a full or unreachable
// backup target would.
type failingObjects struct {
	backup.Objects
	after int64
}

func (f failingObjects) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if strings.HasSuffix(key, "/data") {
		return f.Objects.Put(ctx, key, &failAfter{r: r, left: f.after})
	}
	return f.Objects.Put(ctx, key, r)
}

type failAfter struct {
	r    io.Reader
	left int64
}

func (f *failAfter) Read(p []byte) (int, error) {
	if f.left <= 0 {
		return 0, errors.New("no space left on device")
	}
	if int64(len(p)) > f.left {
		p = p[:f.left]
	}
	n, err := f.r.Read(p)
	f.left -= int64(n)
	return n, err
}

// TestFailedBackupLeavesNothingThatLooksValid fails the backup target
// halfway: the backup fails loudly, leaves no manifest and no data, is
// recorded as failed and listed nowhere as usable.
func TestFailedBackupLeavesNothingThatLooksValid(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.tenant("Acme", 200)
	svc := e.service(failingObjects{Objects: e.objects, after: 20 << 10})
	_, err := svc.Create(ctx, e.admin, backup.CreateOptions{})
	if err == nil || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("backup to a full target: got %v, want the target's error", err)
	}
	keys, err := e.objects.Keys(ctx, "backups/")
	if err != nil || len(keys) != 0 {
		t.Fatalf("objects left by the failed backup: %v, %v", keys, err)
	}
	recs, _ := e.d.Backups(ctx)
	if len(recs) != 1 || recs[0].Status != backup.StatusFailed || recs[0].Error == "" {
		t.Fatalf("record of the failed backup: got %+v", recs)
	}
	es, _ := e.d.AuditLog(ctx, audit.Query{Limit: 1000, Action: "backup.create"})
	if len(es) != 1 || es[0].Outcome != rempart.OutcomeFailure {
		t.Fatalf("audit of the failed backup: got %+v", es)
	}
}

// TestBackupIsConsistentWhileWritesGoOn takes a backup while writers add
// records: the backup restores, its counts match its manifest, and every
// restored record decrypts.
func TestBackupIsConsistentWhileWritesGoOn(t *testing.T) {
	e := newEnv(t, "sqlite")
	a, wa, _ := e.tenant("Acme", 50)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var written atomic.Int64
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, _, err := e.v.CreateRecord(ctx, wa, a, "calls", []byte(`{"writer":`+string(rune('0'+w))+`}`), ""); err != nil {
					t.Error(err)
					return
				}
				written.Add(1)
			}
		})
	}
	m, err := e.svc.Create(ctx, e.admin, backup.CreateOptions{})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if written.Load() == 0 {
		t.Fatal("no write happened during the backup")
	}
	_, target, err := e.svc.Restore(ctx, m.ID, "", opener(place(t, "sqlite"), false), backup.RestoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	v := e.restored(target)
	var n int
	for cursor := ""; ; {
		page, err := v.ListRecords(ctx, wa, a, "calls", vaultList(cursor))
		if err != nil {
			t.Fatalf("list restored records: %v", err)
		}
		n += len(page.Records)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	for _, ti := range m.Tables {
		if ti.Name == "records" && int64(n) != ti.Rows {
			t.Fatalf("restored records: got %d, manifest says %d", n, ti.Rows)
		}
	}
}

// TestRestoreTestRecordsEvidence runs the automatic restore test: it passes
// on a sound backup and is recorded, and on a damaged one it fails, is
// recorded, and raises a security event (BCK-2).
func TestRestoreTestRecordsEvidence(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.tenant("Acme", 20)
	m, err := e.svc.Create(ctx, e.admin, backup.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	scratch := func() (backup.OpenTarget, func()) {
		dsn := place(t, "sqlite")
		return opener(dsn, false), func() {}
	}
	open, cleanup := scratch()
	rt, err := e.svc.TestRestore(ctx, open, cleanup, e.auditKey)
	if err != nil {
		t.Fatal(err)
	}
	if rt.Outcome != rempart.OutcomeSuccess || rt.BackupID != m.ID || rt.Rows == 0 || rt.AuditEntries == 0 {
		t.Fatalf("restore test: got %+v", rt)
	}
	// Damage the data: the next test fails, and says so.
	rc, _ := e.objects.Get(ctx, "backups/"+m.ID+"/data")
	b, _ := io.ReadAll(rc)
	rc.Close()
	b[len(b)/3] ^= 0x40
	e.objects.Put(ctx, "backups/"+m.ID+"/data", bytes.NewReader(b))
	open, cleanup = scratch()
	rt2, err := e.svc.TestRestore(ctx, open, cleanup, e.auditKey)
	if err != nil {
		t.Fatal(err)
	}
	if rt2.Outcome != rempart.OutcomeFailure || !strings.Contains(rt2.Error, "tampered") {
		t.Fatalf("restore test of a damaged backup: got %+v", rt2)
	}
	tests, _ := e.d.RestoreTests(ctx, 10)
	if len(tests) != 2 || tests[0].ID != rt2.ID || tests[1].ID != rt.ID {
		t.Fatalf("recorded restore tests: got %+v", tests)
	}
	es, _ := e.d.AuditLog(ctx, audit.Query{Limit: 1000, Action: "security.restore_test_failed"})
	if len(es) != 1 {
		t.Fatalf("security events: got %d, want 1", len(es))
	}
}
