package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/internal/softhsm"
)

// startMain runs Main in-process on port 0 with dir as its data directory.
func startMain(t *testing.T, dir string, args ...string) (*Main, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	m := NewMain(&out, io.Discard)
	base := []string{"--data-dir", dir, "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--internal-listen", "127.0.0.1:0"}
	if err := m.ParseFlags(append(base, args...)); err != nil {
		t.Fatal(err)
	}
	if err := m.Run(context.Background()); err != nil {
		m.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, &out
}

func TestZeroConfigServe(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	m, out := startMain(t, dir)
	// The data directory holds the database, the root key and the TLS pair,
	// secrets readable by the owner only (ENC-3).
	for name, mode := range map[string]os.FileMode{"root.key": 0o600, "tls.key": 0o600, "rempart.db": 0, "tls.crt": 0} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if mode != 0 && fi.Mode().Perm() != mode {
			t.Errorf("%s mode: got %#o, want %#o", name, fi.Mode().Perm(), mode)
		}
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("data dir mode: got %#o, want 0700", fi.Mode().Perm())
	}
	if m.Bootstrap == "" || !strings.Contains(out.String(), m.Bootstrap) || !strings.Contains(out.String(), "/api/v1/bootstrap") {
		t.Fatalf("first start did not print a bootstrap token and how to use it:\n%s", out)
	}
	url := "https://" + m.Server.Addr("https")
	a := newAPI(t, url, m.Bootstrap)
	var b rempart.Bootstrapped
	a.must(201, "POST", "/api/v1/bootstrap", "", &b)
	if st, _ := a.do("POST", "/api/v1/bootstrap", "", nil); st != 401 {
		t.Fatalf("second use of the bootstrap token: got %d, want 401", st)
	}
	// HSTS on HTTPS; the plain port only redirects (ENC-1).
	resp, err := a.hc.Get(url + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("HSTS: got %q", resp.Header.Get("Strict-Transport-Security"))
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noFollow.Get("http://" + m.Server.Addr("http-redirect") + "/api/v1/tenants?x=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusPermanentRedirect || !strings.HasPrefix(resp.Header.Get("Location"), "https://") || !strings.HasSuffix(resp.Header.Get("Location"), "/api/v1/tenants?x=1") {
		t.Errorf("plain HTTP: got %d Location %q, want 308 to https", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Health and metrics live on the internal listener only (TEN-3).
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Get("http://" + m.Server.Addr("internal") + p)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("internal %s: %v %v", p, resp, err)
		}
		resp.Body.Close()
	}
	if st, _ := a.do("GET", "/metrics", "", nil); st != 404 {
		t.Errorf("/metrics on the public listener: got %d, want 404", st)
	}
	// TLS 1.1 is refused.
	if _, err := tls.Dial("tcp", m.Server.Addr("https"), &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}); err == nil {
		t.Error("TLS 1.1 handshake succeeded")
	}
}

// TestMarkerNeverOnDisk writes a record holding a marker and shows the marker
// is in no file of the data directory: not the database, not its WAL (ENC-2).
func TestMarkerNeverOnDisk(t *testing.T) {
	dir := t.TempDir()
	m, _ := startMain(t, dir)
	url := "https://" + m.Server.Addr("https")
	var b rempart.Bootstrapped
	newAPI(t, url, m.Bootstrap).must(201, "POST", "/api/v1/bootstrap", "", &b)
	admin := newAPI(t, url, b.Key.Secret)
	var ten rempart.Tenant
	admin.must(201, "POST", "/api/v1/tenants", `{"name":"Marker Co"}`, &ten)
	var sa rempart.ServiceAccount
	admin.must(201, "POST", "/api/v1/tenants/"+ten.ID+"/service-accounts", `{"name":"w","role":"writer"}`, &sa)
	var k rempart.APIKeyCreated
	admin.must(201, "POST", "/api/v1/tenants/"+ten.ID+"/service-accounts/"+sa.ID+"/keys", `{}`, &k)
	w := newAPI(t, url, k.Secret)
	marker := "SECRET-MARKER-" + rempart.RandomSecret(10)
	var rec rempart.Record
	w.must(201, "POST", "/api/v1/tenants/"+ten.ID+"/collections/notes/records", `{"text":"`+marker+`"}`, &rec)
	w.must(200, "PUT", "/api/v1/tenants/"+ten.ID+"/collections/notes/records/"+rec.ID, `{"text":"`+marker+` v2"}`, &rec)
	var got rempart.Record
	w.must(200, "GET", "/api/v1/tenants/"+ten.ID+"/collections/notes/records/"+rec.ID, "", &got)
	if !strings.Contains(string(got.Data), marker) {
		t.Fatalf("read back: got %s, want the marker", got.Data)
	}
	m.Close() // flush everything to the files
	found := 0
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		found++
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(marker)) {
			t.Errorf("marker found in clear in %s", path)
		}
		return nil
	})
	if found < 4 {
		t.Fatalf("only %d files in the data directory: the check saw nothing", found)
	}
}

func TestRootKeyRefusals(t *testing.T) {
	dir := t.TempDir()
	m, _ := startMain(t, dir)
	m.Close()
	key := filepath.Join(dir, "root.key")
	run := func() error {
		m := NewMain(io.Discard, io.Discard)
		m.ParseFlags([]string{"--data-dir", dir, "--listen", "127.0.0.1:0", "--http-listen", "", "--internal-listen", "127.0.0.1:0"})
		err := m.Run(context.Background())
		m.Close()
		return err
	}
	os.Chmod(key, 0o644)
	if err := run(); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable root key: got %v, want refusal", err)
	}
	os.Chmod(key, 0o600)
	orig, _ := os.ReadFile(key)
	os.Remove(key)
	if err := run(); err == nil || !strings.Contains(err.Error(), "root key") {
		t.Fatalf("missing root key for an existing database: got %v, want refusal", err)
	}
	if _, err := os.Stat(key); err == nil {
		t.Fatal("a new root key was made up for an existing database")
	}
	os.WriteFile(key, []byte(strings.Repeat("ab", 32)+"\n"), 0o600)
	if err := run(); err == nil || !strings.Contains(err.Error(), "encrypted under") {
		t.Fatalf("another root key: got %v, want refusal", err)
	}
	os.WriteFile(key, orig, 0o600)
	if err := run(); err != nil {
		t.Fatalf("the right key again: %v", err)
	}
}

func TestGracefulShutdownDrains(t *testing.T) {
	dir := t.TempDir()
	m, _ := startMain(t, dir)
	url := "https://" + m.Server.Addr("https")
	a := newAPI(t, url, "")
	// Hold a request in flight by streaming its body slowly.
	pr, pw := io.Pipe()
	done := make(chan int)
	go func() {
		req, _ := http.NewRequest("POST", url+"/api/v1/bootstrap", pr)
		req.Header.Set("Authorization", "Bearer "+m.Bootstrap)
		resp, err := a.hc.Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	time.Sleep(200 * time.Millisecond)
	closed := make(chan error)
	go func() { closed <- m.Close() }()
	time.Sleep(200 * time.Millisecond)
	pw.Close()
	if st := <-done; st != 201 {
		t.Fatalf("in-flight request during shutdown: got %d, want 201", st)
	}
	if err := <-closed; err != nil {
		t.Fatalf("close: %v", err)
	}
}

func TestServeHelpListsEverySetting(t *testing.T) {
	var stderr bytes.Buffer
	m := NewMain(io.Discard, &stderr)
	m.ParseFlags([]string{"--help"})
	for _, o := range m.opts.list {
		if !strings.Contains(stderr.String(), "-"+o.name) || !strings.Contains(stderr.String(), envName(o.name)) {
			t.Errorf("--help does not document %s / %s", o.name, envName(o.name))
		}
	}
}

func TestConfigPrecedence(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rempart.conf")
	os.WriteFile(file, []byte("# comment\nretention = 48h\nlog-level = warn\nlisten = :1\n"), 0o600)
	t.Setenv("REMPART_LOG_LEVEL", "error")
	m := NewMain(io.Discard, io.Discard)
	if err := m.ParseFlags([]string{"--config", file, "--listen", ":2"}); err != nil {
		t.Fatal(err)
	}
	if *m.retention != "48h" || *m.logLevel != "error" || *m.listen != ":2" {
		t.Fatalf("got retention=%s log-level=%s listen=%s; want file, env, flag", *m.retention, *m.logLevel, *m.listen)
	}
	os.WriteFile(file, []byte("no-such-setting = 1\n"), 0o600)
	if err := NewMain(io.Discard, io.Discard).ParseFlags([]string{"--config", file}); err == nil || !strings.Contains(err.Error(), "unknown setting") {
		t.Fatalf("unknown file setting: got %v", err)
	}
}

func TestConfigurationDocListsEverySetting(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range NewMain(io.Discard, io.Discard).opts.list {
		if !strings.Contains(string(doc), "| `"+o.name+"` |") {
			t.Errorf("docs/configuration.md does not document %s", o.name)
		}
	}
}

// TestServeOnHSMAndKMSRootKeys runs the server on a root key in a real
// PKCS#11 token (SoftHSM2) and on a KMS key, writes a record, restarts and
// reads it back: the root key never leaves its source, and nothing else can
// stand in for it (ENC-3).
func TestServeOnHSMAndKMSRootKeys(t *testing.T) {
	tok := softhsm.New(t)
	for name, rootKey := range map[string]string{
		"pkcs11": tok.URI,
		"kms":    "base64key://" + base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)),
	} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			m, _ := startMain(t, dir, "--root-key", rootKey, "--backup-schedule", "off", "--restore-test-schedule", "off")
			if _, err := os.Stat(filepath.Join(dir, "root.key")); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("a local root key file was made beside the %s key: %v", name, err)
			}
			ctx := context.Background()
			admin := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", Role: rempart.RoleSystemAdmin}}
			ten, err := m.Vault.CreateTenant(ctx, admin, "Acme")
			if err != nil {
				t.Fatal(err)
			}
			w := rempart.Caller{Principal: rempart.Principal{ID: "sa_w", TenantID: ten.ID, Role: rempart.RoleWriter}}
			rec, _, err := m.Vault.CreateRecord(ctx, w, ten.ID, "calls", []byte(`{"kept":"under `+name+`"}`), "")
			if err != nil {
				t.Fatal(err)
			}
			rootID := m.Keyring.RootKeyID()
			m.Close()
			m2, _ := startMain(t, dir, "--root-key", rootKey, "--backup-schedule", "off", "--restore-test-schedule", "off")
			if m2.Keyring.RootKeyID() != rootID {
				t.Fatalf("root key after restart: got %s, want %s", m2.Keyring.RootKeyID(), rootID)
			}
			got, err := m2.Vault.GetRecord(ctx, w, ten.ID, "calls", rec.ID)
			if err != nil || string(got.Data) != `{"kept":"under `+name+`"}` {
				t.Fatalf("record after restart: got %s, %v", got.Data, err)
			}
			m2.Close()
			// Without its root key the database does not open.
			m3 := NewMain(io.Discard, io.Discard)
			m3.ParseFlags([]string{"--data-dir", dir, "--listen", "127.0.0.1:0", "--http-listen", "", "--internal-listen", "127.0.0.1:0"})
			if err := m3.Run(ctx); err == nil || !strings.Contains(err.Error(), rootID) {
				t.Fatalf("start without the %s root key: got %v, want a refusal naming %s", name, err, rootID)
			}
			m3.Close()
		})
	}
}
