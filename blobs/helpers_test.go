package blobs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rempart/rempart/blobs"
	"github.com/rempart/rempart/internal/s3test"
)

const (
	kiB = 1 << 10
	MiB = 1 << 20
)

// eachStore runs fn on a fresh local store and on a fresh bucket of a real
// S3 server (versitygw; skipped when it is not installed, except under CI).
func eachStore(t *testing.T, fn func(t *testing.T, s *blobs.Store)) {
	t.Helper()
	t.Run("local", func(t *testing.T) { fn(t, openLocal(t)) })
	t.Run("s3", func(t *testing.T) { fn(t, openS3(t)) })
}

func openLocal(t testing.TB) *blobs.Store {
	t.Helper()
	return open(t, filepath.Join(t.TempDir(), "blobs"))
}

func openS3(t testing.TB) *blobs.Store {
	t.Helper()
	return open(t, s3test.Start(t).Location)
}

func open(t testing.TB, location string) *blobs.Store {
	t.Helper()
	s, err := blobs.Open(context.Background(), location)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// block is the repeating unit of pattern streams: random bytes, of a prime
// length (the largest prime below 1 MiB) so that a range read from a wrong
// offset does not match by chance.
var block = func() []byte {
	b := make([]byte, 1<<20-3)
	rand.NewChaCha8([32]byte{'r', 'e', 'm', 'p', 'a', 'r', 't'}).Read(b)
	return b
}()

// pattern is a stream of n bytes, byte i being block[i%len(block)]. It is
// generated as it is read, so tests stream objects of any size in constant
// memory.
type pattern struct{ off, n int64 }

func newPattern(n int64) *pattern { return &pattern{n: n} }

func (p *pattern) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.n-p.off)]
	total := 0
	for len(b) > 0 {
		c := copy(b, block[p.off%int64(len(block)):])
		b = b[c:]
		p.off += int64(c)
		total += c
	}
	return total, nil
}

// patternBytes returns bytes [off, off+n) of any pattern stream.
func patternBytes(off, n int64) []byte {
	b := make([]byte, n)
	p := &pattern{off: off, n: off + n}
	io.ReadFull(p, b)
	return b
}

func patternSum(n int64) [32]byte {
	h := sha256.New()
	io.Copy(h, newPattern(n))
	return [32]byte(h.Sum(nil))
}

// failAfter reads n bytes of a pattern, then fails with err.
type failAfter struct {
	p   *pattern
	err error
}

func newFailAfter(n int64, err error) *failAfter {
	return &failAfter{p: newPattern(n), err: err}
}

func (f *failAfter) Read(b []byte) (int, error) {
	n, err := f.p.Read(b)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

// cancelAfter reads n bytes of a pattern of total bytes, then cancels the
// context of the Put it feeds; it keeps returning data, so only the context
// can stop the Put.
type cancelAfter struct {
	p      *pattern
	n      int64
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(b []byte) (int, error) {
	if c.p.off >= c.n {
		c.cancel()
	}
	return c.p.Read(b)
}

func put(t testing.TB, s *blobs.Store, key string, data []byte) {
	t.Helper()
	n, err := s.Put(context.Background(), key, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(data)) {
		t.Fatalf("put %s: got %d bytes, want %d", key, n, len(data))
	}
}

// read reads r to the end and closes it.
func read(t testing.TB, r io.ReadCloser) []byte {
	t.Helper()
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sumOf hashes the whole object at key.
func sumOf(t testing.TB, s *blobs.Store, key string) ([32]byte, int64) {
	t.Helper()
	r, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		t.Fatal(err)
	}
	return [32]byte(h.Sum(nil)), n
}

func listKeys(t testing.TB, s *blobs.Store, prefix string) []string {
	t.Helper()
	keys := []string{}
	for info, err := range s.List(context.Background(), prefix) {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, info.Key)
	}
	return keys
}

// assertAbsent checks that nothing is stored under key: no object, no
// listing, no multipart upload in progress on S3, and no file at all (not even
// a temporary one) on a local store.
func assertAbsent(t testing.TB, s *blobs.Store, key string) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Stat(ctx, key); !errors.Is(err, blobs.ErrNotFound) {
		t.Errorf("stat %s: got %v, want ErrNotFound", key, err)
	}
	if _, err := s.Get(ctx, key); !errors.Is(err, blobs.ErrNotFound) {
		t.Errorf("get %s: got %v, want ErrNotFound", key, err)
	}
	if keys := listKeys(t, s, ""); len(keys) != 0 {
		t.Errorf("list: got %v, want nothing", keys)
	}
	uploads, err := blobs.PendingUploads(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(uploads) != 0 {
		t.Errorf("multipart uploads in progress: got %v, want none", uploads)
	}
	if dir := blobs.Dir(s); dir != "" {
		if files := filesIn(t, dir); len(files) != 0 {
			t.Errorf("files in %s: got %v, want none", dir, files)
		}
	}
}

// filesIn lists the files (not directories) under dir.
func filesIn(t testing.TB, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			files = append(files, strings.TrimPrefix(path, dir))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
