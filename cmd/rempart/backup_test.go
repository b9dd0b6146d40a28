package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/backup"
	"github.com/rempart/rempart/vault"
)

// cli runs the rempart binary and returns its output; it fails the test if
// the exit code is not want.
func cli(t *testing.T, want int, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code != want {
		t.Fatalf("rempart %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out.String(), errb.String())
	}
	return out.String()
}

var backupIDRE = regexp.MustCompile(`backup (bk_[0-9a-z]+):`)

// TestBackupCLIDisasterRecovery is the documented recovery path: a backup
// taken while the server runs, the server lost, the backup restored into a
// new database from the root key files and the backup location alone, and a
// server started on it answers with the same data and keys.
func TestBackupCLIDisasterRecovery(t *testing.T) {
	dir := t.TempDir()
	p := startServer(t, dir)
	admin, tenant, writer := setup(t, p)
	records := "/api/v1/tenants/" + tenant + "/collections/calls/records"
	want := map[string]string{}
	for i := range 20 {
		var rec rempart.Record
		body := fmt.Sprintf(`{"caller":"+33 1 23 45 67 %02d"}`, i)
		writer.must(201, "POST", records, body, &rec)
		want[rec.ID] = body
	}
	_ = admin

	out := cli(t, 0, "backup", "create", "--data-dir", dir, "--quiet")
	m := backupIDRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("backup create printed no backup ID: %s", out)
	}
	id := m[1]
	if out := cli(t, 0, "backup", "list", "--data-dir", dir); !strings.Contains(out, id) || !strings.Contains(out, "manifest verified") {
		t.Fatalf("backup list: %s", out)
	}
	if out := cli(t, 0, "backup", "verify", "--data-dir", dir, "--id", id, "--quiet"); !strings.HasPrefix(out, "OK: backup "+id) {
		t.Fatalf("backup verify: %s", out)
	}

	// The primary is lost: only the root key files and the backup location
	// survive, on a new machine.
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
	newDir := t.TempDir()
	for _, f := range []string{"root.key"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(newDir, f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Rename(filepath.Join(dir, "backups"), filepath.Join(newDir, "backups")); err != nil {
		t.Fatal(err)
	}
	target := "sqlite:" + filepath.Join(newDir, "rempart.db")
	out = cli(t, 0, "backup", "restore", "--data-dir", newDir, "--id", id, "--to", target, "--quiet")
	if !strings.Contains(out, "restored backup "+id) {
		t.Fatalf("backup restore: %s", out)
	}
	// A second restore over it is refused without --replace.
	if out := cli(t, 2, "backup", "restore", "--data-dir", newDir, "--id", id, "--to", target, "--quiet"); strings.Contains(out, "restored") {
		t.Fatalf("restore over a database with data: %s", out)
	}

	p2 := startServer(t, newDir)
	writer.url = p2.url
	for id, body := range want {
		var rec rempart.Record
		writer.must(200, "GET", records+"/"+id, "", &rec)
		if string(rec.Data) != body {
			t.Fatalf("record %s after recovery: got %s, want %s", id, rec.Data, body)
		}
	}
}

// TestBackupCLIRejectsTampering flips a byte of a backup's data: verify
// fails with exit code 1 and says why.
func TestBackupCLIRejectsTampering(t *testing.T) {
	dir := t.TempDir()
	m, _ := startMain(t, dir)
	ctx := context.Background()
	admin := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", Role: rempart.RoleSystemAdmin}}
	if _, err := m.Vault.CreateTenant(ctx, admin, "Acme"); err != nil {
		t.Fatal(err)
	}
	bm, err := m.Deployment.Backups.Create(ctx, admin, backupCreateOptions())
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	data := filepath.Join(dir, "backups", "backups", bm.ID, "data")
	b, err := os.ReadFile(data)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x08
	if err := os.WriteFile(data, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out := cli(t, 1, "backup", "verify", "--data-dir", dir, "--id", bm.ID, "--quiet")
	if !strings.Contains(out, "FAILED") || !strings.Contains(out, "tampered") {
		t.Fatalf("verify of a tampered backup: %s", out)
	}
}

func backupCreateOptions() backup.CreateOptions { return backup.CreateOptions{} }

// TestBackupJobsOverTheAPI takes a backup, verifies it and runs a restore
// test through the API, each as a job followed to its end (BCK-1, BCK-2).
func TestBackupJobsOverTheAPI(t *testing.T) {
	dir := t.TempDir()
	m, _ := startMain(t, dir, "--backup-schedule", "off", "--restore-test-schedule", "off")
	url := "https://" + m.Server.Addr("https")
	var b rempart.Bootstrapped
	newAPI(t, url, m.Bootstrap).must(201, "POST", "/api/v1/bootstrap", "", &b)
	admin := newAPI(t, url, b.Key.Secret)
	admin.must(201, "POST", "/api/v1/tenants", `{"name":"Acme"}`, nil)

	wait := func(j rempart.Job) rempart.Job {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			var got rempart.Job
			admin.must(200, "GET", "/api/v1/jobs/"+j.ID, "", &got)
			if got.Status == "done" || got.Status == "failed" {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("job %s (%s) still %s after 30 s", j.ID, j.Kind, got.Status)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	var j rempart.Job
	admin.must(202, "POST", "/api/v1/backups", "", &j)
	if got := wait(j); got.Status != "done" {
		t.Fatalf("backup job: got %+v", got)
	}
	var list rempart.BackupList
	admin.must(200, "GET", "/api/v1/backups", "", &list)
	if len(list.Backups) != 1 || list.Backups[0].Status != "complete" || list.VerifierKey == "" {
		t.Fatalf("backups: got %+v", list)
	}
	admin.must(202, "POST", "/api/v1/backups/"+list.Backups[0].ID+"/verify", "", &j)
	if got := wait(j); got.Status != "done" {
		t.Fatalf("verify job: got %+v", got)
	}
	admin.must(202, "POST", "/api/v1/restore-tests", "", &j)
	if got := wait(j); got.Status != "done" {
		t.Fatalf("restore test job: got %+v", got)
	}
	var rts rempart.RestoreTestList
	admin.must(200, "GET", "/api/v1/restore-tests", "", &rts)
	if len(rts.RestoreTests) != 1 || rts.RestoreTests[0].Outcome != "success" || rts.RestoreTests[0].BackupID != list.Backups[0].ID {
		t.Fatalf("restore tests: got %+v", rts)
	}
}

// TestTenantDeletionRewritesEscrow deletes a tenant over the API after a
// backup: the key escrow is rewritten without its key-encryption key, so
// that the backup cannot be decrypted for it any more (GOV-5).
func TestTenantDeletionRewritesEscrow(t *testing.T) {
	dir := t.TempDir()
	m, _ := startMain(t, dir, "--backup-schedule", "off", "--restore-test-schedule", "off")
	url := "https://" + m.Server.Addr("https")
	var b rempart.Bootstrapped
	newAPI(t, url, m.Bootstrap).must(201, "POST", "/api/v1/bootstrap", "", &b)
	admin := newAPI(t, url, b.Key.Secret)
	var acme, globex rempart.Tenant
	admin.must(201, "POST", "/api/v1/tenants", `{"name":"Acme"}`, &acme)
	admin.must(201, "POST", "/api/v1/tenants", `{"name":"Globex"}`, &globex)
	ctx := context.Background()
	if _, err := m.Deployment.Backups.Create(ctx, system, backup.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	escrowed := func() map[string]bool {
		e, err := m.Deployment.Backups.ReadEscrow(ctx, m.Deployment.Backups.VerifierKey())
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		for _, k := range e.KEKs {
			for _, id := range []string{acme.ID, globex.ID} {
				if bytes.Contains(k, []byte(id)) {
					ids[id] = true
				}
			}
		}
		return ids
	}
	if got := escrowed(); !got[acme.ID] || !got[globex.ID] {
		t.Fatalf("escrow after the backup: got %v, want both tenants", got)
	}
	admin.must(204, "DELETE", "/api/v1/tenants/"+acme.ID, "", nil)
	deadline := time.Now().Add(30 * time.Second)
	for escrowed()[acme.ID] {
		if time.Now().After(deadline) {
			t.Fatal("the escrow still holds the deleted tenant's key 30 s after the deletion")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !escrowed()[globex.ID] {
		t.Fatal("the escrow lost the other tenant's key")
	}
}

// TestBackupSkipsAttachmentsPurgedMeanwhile removes an attachment's object
// after its row was written, as a purge running beside a backup would: the
// backup completes, names the object as missing, and verifies.
func TestBackupSkipsAttachmentsPurgedMeanwhile(t *testing.T) {
	dir := t.TempDir()
	m, _ := startMain(t, dir, "--backup-schedule", "off", "--restore-test-schedule", "off")
	ctx := context.Background()
	admin := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", Role: rempart.RoleSystemAdmin}}
	ten, err := m.Vault.CreateTenant(ctx, admin, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	w := rempart.Caller{Principal: rempart.Principal{ID: "sa_w", TenantID: ten.ID, Role: rempart.RoleWriter}}
	rec, _, err := m.Vault.CreateRecord(ctx, w, ten.ID, "calls", []byte(`{"n":1}`), "")
	if err != nil {
		t.Fatal(err)
	}
	var atts []rempart.Attachment
	for _, name := range []string{"kept.wav", "gone.wav"} {
		a, err := m.Vault.UploadAttachment(ctx, w, ten.ID, "calls", rec.ID, vault.Upload{Filename: name, ContentType: "audio/wav", Size: -1}, strings.NewReader("RIFF…"+name))
		if err != nil {
			t.Fatal(err)
		}
		atts = append(atts, a)
	}
	gone := "attachments/" + ten.ID + "/" + atts[1].ID
	if err := m.Deployment.Attachments.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}
	bm, err := m.Deployment.Backups.Create(ctx, admin, backup.CreateOptions{})
	if err != nil {
		t.Fatalf("backup with an attachment gone: %v", err)
	}
	if bm.Objects.Count != 1 || len(bm.Objects.Missing) != 1 || bm.Objects.Missing[0] != gone {
		t.Fatalf("manifest objects: got %+v, want 1 copied and %s missing", bm.Objects, gone)
	}
	if _, err := m.Deployment.Backups.Verify(ctx, bm.ID, "", nil); err != nil {
		t.Fatalf("verify: %v", err)
	}
}
