package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/client"
)

// attachmentServer runs Main on port 0 over HTTPS and returns a writer's
// client, its tenant and a record to attach files to.
func attachmentServer(tb testing.TB, dir string, http2 bool, args ...string) (m *Main, c *client.Client, tenant, rec string) {
	tb.Helper()
	ctx := context.Background()
	m = NewMain(io.Discard, io.Discard)
	base := []string{"--data-dir", dir, "--listen", "127.0.0.1:0", "--http-listen", "", "--internal-listen", "127.0.0.1:0"}
	if err := m.ParseFlags(append(base, args...)); err != nil {
		tb.Fatal(err)
	}
	if err := m.Run(ctx); err != nil {
		m.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close() })
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: http2, MaxIdleConnsPerHost: 8}}
	c = client.New("https://"+m.Server.Addr("https"), client.WithHTTPClient(hc))
	b, err := c.Bootstrap(ctx, m.Bootstrap)
	if err != nil {
		tb.Fatal(err)
	}
	admin := c.WithKey(b.Key.Secret)
	ten, err := admin.CreateTenant(ctx, rempart.TenantCreate{Name: "Files Co"})
	if err != nil {
		tb.Fatal(err)
	}
	sa, err := admin.CreateServiceAccount(ctx, ten.ID, rempart.ServiceAccountCreate{Name: "w", Role: rempart.RoleWriter})
	if err != nil {
		tb.Fatal(err)
	}
	k, err := admin.CreateAPIKey(ctx, ten.ID, sa.ID, rempart.APIKeyCreate{})
	if err != nil {
		tb.Fatal(err)
	}
	c = c.WithKey(k.Secret)
	r, err := c.CreateRecord(ctx, ten.ID, "calls", map[string]string{"subject": "recording"}, "")
	if err != nil {
		tb.Fatal(err)
	}
	return m, c, ten.ID, r.ID
}

// pattern is n pseudo-random bytes generated as they are read, so that a
// test streams any size in constant memory.
type pattern struct {
	block []byte
	off   int64
	n     int64
}

var patternBlock = func() []byte {
	b := make([]byte, 1<<20-3) // a prime length: ranges at wrong offsets do not match
	rand.NewChaCha8([32]byte{'a', 't', 't'}).Read(b)
	return b
}()

func newPattern(n int64) *pattern { return &pattern{block: patternBlock, n: n} }

func (p *pattern) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.n-p.off)]
	total := 0
	for len(b) > 0 {
		k := copy(b, p.block[p.off%int64(len(p.block)):])
		b, p.off, total = b[k:], p.off+int64(k), total+k
	}
	return total, nil
}

// heapPeak samples the heap until stop is called and returns its growth over
// the level at start.
func heapPeak() (stop func() uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				if ms.HeapAlloc > peak.Load() {
					peak.Store(ms.HeapAlloc)
				}
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		if p := peak.Load(); p > base {
			return p - base
		}
		return 0
	}
}

// TestAttachmentGiBFlatMemory uploads and downloads 1 GiB over HTTPS through
// the server as it runs in production: client and server together hold a
// few MiB of it at most, never the object.
func TestAttachmentGiBFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("1 GiB transfer")
	}
	const size = 1 << 30
	ctx := context.Background()
	_, c, tenant, rec := attachmentServer(t, t.TempDir(), false)

	// The client hashes what it sends and the server keeps the file only
	// if its own hash matches; the download is checked against that hash.
	stop := heapPeak()
	start := time.Now()
	att, err := c.UploadAttachment(ctx, tenant, "calls", rec, newPattern(size), client.UploadOptions{Filename: "big.wav", ContentType: "audio/wav"})
	if err != nil {
		t.Fatal(err)
	}
	up := time.Since(start)
	growth := stop()
	if att.Size != size {
		t.Fatalf("upload: got %+v", att)
	}
	t.Logf("upload: 1 GiB in %v (%.0f MB/s), heap growth %d KiB", up.Round(time.Millisecond), size/up.Seconds()/1e6, growth>>10)
	if growth > 64<<20 {
		t.Errorf("upload heap growth: got %d MiB, want far below the object's 1024 MiB", growth>>20)
	}

	stop = heapPeak()
	start = time.Now()
	d, err := c.DownloadAttachment(ctx, tenant, "calls", rec, att.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, d.Body) // an error unless the SHA-256 matches
	d.Body.Close()
	down := time.Since(start)
	growth = stop()
	if err != nil || n != size || d.SHA256 != att.SHA256 {
		t.Fatalf("download: got %d bytes, %v", n, err)
	}
	t.Logf("download: 1 GiB in %v (%.0f MB/s), heap growth %d KiB", down.Round(time.Millisecond), size/down.Seconds()/1e6, growth>>10)
	if growth > 64<<20 {
		t.Errorf("download heap growth: got %d MiB, want far below the object's 1024 MiB", growth>>20)
	}
}

// TestAttachmentMarkerNeverOnDisk uploads a file whose content and name hold
// a marker through the running server: the marker is in no file of the data
// directory, attachments included (ENC-2).
func TestAttachmentMarkerNeverOnDisk(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	m, c, tenant, rec := attachmentServer(t, dir, true)
	marker := "SECRET-MARKER-" + rempart.RandomSecret(10)
	data := bytes.Repeat([]byte(marker+"\n"), 30000)
	att, err := c.UploadAttachment(ctx, tenant, "calls", rec, bytes.NewReader(data), client.UploadOptions{Filename: marker + ".txt", ContentType: "text/plain"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.DownloadAttachment(ctx, tenant, "calls", rec, att.ID, &client.Range{Offset: -100})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(d.Body)
	d.Body.Close()
	if err != nil || !bytes.Equal(got, data[len(data)-100:]) || d.Filename != marker+".txt" {
		t.Fatalf("range read back: got %q %q, %v", got, d.Filename, err)
	}
	m.Close()
	files, objects := 0, 0
	filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		files++
		if strings.Contains(filepath.ToSlash(path), "/attachments/") {
			objects++
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(marker)) {
			t.Errorf("marker found in clear in %s", path)
		}
		return nil
	})
	if files < 4 || objects != 1 {
		t.Fatalf("saw %d files, %d attachment objects: the check saw nothing", files, objects)
	}
}

// BenchmarkAttachmentUpload and BenchmarkAttachmentDownload move a 256 MiB
// attachment over HTTPS on loopback, through the running server and its
// local store (go test -bench Attachment -benchtime 5x ./cmd/rempart).
func BenchmarkAttachmentUpload(b *testing.B) {
	for _, proto := range []string{"http1", "http2"} {
		b.Run(proto, func(b *testing.B) {
			const size = 256 << 20
			_, c, tenant, rec := attachmentServer(b, b.TempDir(), proto == "http2")
			ctx := context.Background()
			stop := heapPeak()
			b.SetBytes(size)
			b.ResetTimer()
			for b.Loop() {
				att, err := c.UploadAttachment(ctx, tenant, "calls", rec, newPattern(size), client.UploadOptions{Filename: "b.bin"})
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				if err := c.DeleteAttachment(ctx, tenant, "calls", rec, att.ID); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(stop()>>20), "MiB-heap-growth")
		})
	}
}

func BenchmarkAttachmentDownload(b *testing.B) {
	for _, proto := range []string{"http1", "http2"} {
		b.Run(proto, func(b *testing.B) {
			const size = 256 << 20
			_, c, tenant, rec := attachmentServer(b, b.TempDir(), proto == "http2")
			ctx := context.Background()
			att, err := c.UploadAttachment(ctx, tenant, "calls", rec, newPattern(size), client.UploadOptions{Filename: "b.bin"})
			if err != nil {
				b.Fatal(err)
			}
			stop := heapPeak()
			b.SetBytes(size)
			b.ResetTimer()
			for b.Loop() {
				d, err := c.DownloadAttachment(ctx, tenant, "calls", rec, att.ID, nil)
				if err != nil {
					b.Fatal(err)
				}
				if n, err := io.Copy(io.Discard, d.Body); err != nil || n != size {
					b.Fatalf("got %d bytes, %v", n, err)
				}
				d.Body.Close()
			}
			b.ReportMetric(float64(stop()>>20), "MiB-heap-growth")
		})
	}
}

// TestAttachmentsInBackups takes a backup of a server holding an attachment,
// loses the server, restores the backup on a new data directory: the
// attachment is back and decrypts, byte for byte (BCK-1, BCK-3).
func TestAttachmentsInBackups(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := startServer(t, dir)
	_, tenant, writer := setup(t, p)
	hc := writer.hc
	c := client.New(p.url, client.WithHTTPClient(hc), client.WithAPIKey(writer.key))
	r, err := c.CreateRecord(ctx, tenant, "calls", map[string]int{"n": 1}, "")
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 200<<10)
	io.ReadFull(newPattern(int64(len(data))), data)
	att, err := c.UploadAttachment(ctx, tenant, "calls", r.ID, bytes.NewReader(data), client.UploadOptions{Filename: "call.wav", ContentType: "audio/wav"})
	if err != nil {
		t.Fatal(err)
	}
	out := cli(t, 0, "backup", "create", "--data-dir", dir, "--quiet")
	m := backupIDRE.FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "1 attachments") {
		t.Fatalf("backup create: %s", out)
	}
	p.cmd.Process.Kill()
	p.cmd.Wait()

	newDir := t.TempDir()
	key, err := os.ReadFile(filepath.Join(dir, "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(newDir, "root.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "backups"), filepath.Join(newDir, "backups")); err != nil {
		t.Fatal(err)
	}
	cli(t, 0, "backup", "restore", "--data-dir", newDir, "--id", m[1], "--to", "sqlite:"+filepath.Join(newDir, "rempart.db"), "--quiet")
	p2 := startServer(t, newDir)
	c = client.New(p2.url, client.WithHTTPClient(hc), client.WithAPIKey(writer.key))
	d, err := c.DownloadAttachment(ctx, tenant, "calls", r.ID, att.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(d.Body)
	d.Body.Close()
	if err != nil || !bytes.Equal(got, data) || d.Filename != "call.wav" {
		t.Fatalf("attachment after restore: got %d bytes (equal %v), %q, %v", len(got), bytes.Equal(got, data), d.Filename, err)
	}
}
