package blobs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rempart/rempart/blobs"
)

// The conformance suite: every test runs on the local store and on S3.

func TestRoundTrip(t *testing.T) {
	eachStore(t, func(t *testing.T, s *blobs.Store) {
		ctx := context.Background()
		// 64 MiB + 1 is well past the 16 MiB from which uploads to S3 are
		// multipart.
		for _, size := range []int64{0, 1, MiB + 1, 64*MiB + 1} {
			key := fmt.Sprintf("tenant_1/att_%d", size)
			n, err := s.Put(ctx, key, newPattern(size))
			if err != nil {
				t.Fatal(err)
			}
			if n != size {
				t.Errorf("put %s: got %d bytes, want %d", key, n, size)
			}
			sum, got := sumOf(t, s, key)
			if got != size || sum != patternSum(size) {
				t.Errorf("get %s: got %d bytes with a different hash, want %d bytes of the pattern", key, got, size)
			}
			if strings.HasPrefix(s.String(), "s3://") && size >= 64*MiB {
				etag, err := blobs.ETag(ctx, s, key)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(etag, "-") {
					t.Errorf("etag of %s: got %s, want a multipart upload's (…-N)", key, etag)
				}
			}
		}
	})
}

func TestGetRange(t *testing.T) {
	eachStore(t, func(t *testing.T, s *blobs.Store) {
		ctx := context.Background()
		const n = 3*MiB + 5
		if _, err := s.Put(ctx, "obj", newPattern(n)); err != nil {
			t.Fatal(err)
		}
		put(t, s, "empty", nil)
		for _, tc := range []struct {
			key         string
			off, length int64
			want        []byte // nil: ErrInvalidRange
		}{
			{"obj", 0, 100, patternBytes(0, 100)},
			{"obj", n/2 + 3, 1000, patternBytes(n/2+3, 1000)},
			{"obj", n - 10, -1, patternBytes(n-10, 10)},
			{"obj", n - 10, 100, patternBytes(n-10, 10)}, // cut at the end
			{"obj", 0, -1, patternBytes(0, n)},
			{"obj", 7, 0, []byte{}},
			{"obj", n, -1, []byte{}}, // at the end: nothing to read
			{"obj", n, 5, []byte{}},
			{"obj", n + 1, -1, nil}, // past the end
			{"obj", n + 1000, 10, nil},
			{"obj", -1, 10, nil},
			{"obj", 0, -2, nil},
			{"empty", 0, -1, []byte{}},
			{"empty", 0, 5, []byte{}},
			{"empty", 1, -1, nil},
		} {
			r, err := s.GetRange(ctx, tc.key, tc.off, tc.length)
			if tc.want == nil {
				if !errors.Is(err, blobs.ErrInvalidRange) {
					t.Errorf("get range %s %d+%d: got error %v, want ErrInvalidRange", tc.key, tc.off, tc.length, err)
				}
				if err == nil {
					r.Close()
				}
				continue
			}
			if err != nil {
				t.Errorf("get range %s %d+%d: %v", tc.key, tc.off, tc.length, err)
				continue
			}
			if got := read(t, r); !bytes.Equal(got, tc.want) {
				t.Errorf("get range %s %d+%d: got %d bytes, want %d (the pattern at that offset)", tc.key, tc.off, tc.length, len(got), len(tc.want))
			}
		}
		for _, off := range []int64{0, 10} {
			if _, err := s.GetRange(ctx, "missing", off, 5); !errors.Is(err, blobs.ErrNotFound) {
				t.Errorf("get range missing at %d: got %v, want ErrNotFound", off, err)
			}
		}
	})
}

func TestStat(t *testing.T) {
	eachStore(t, func(t *testing.T, s *blobs.Store) {
		ctx := context.Background()
		// S3 keeps modification times to the second.
		before := time.Now().Add(-2 * time.Second)
		put(t, s, "t/stat", patternBytes(0, 12345))
		after := time.Now().Add(2 * time.Second)
		info, err := s.Stat(ctx, "t/stat")
		if err != nil {
			t.Fatal(err)
		}
		if info.Key != "t/stat" || info.Size != 12345 {
			t.Errorf("stat: got %s of %d bytes, want t/stat of 12345", info.Key, info.Size)
		}
		if info.ModTime.Before(before) || info.ModTime.After(after) || info.ModTime.Location() != time.UTC {
			t.Errorf("stat: got modified %v, want a UTC time between %v and %v", info.ModTime, before, after)
		}
		if _, err := s.Stat(ctx, "t/missing"); !errors.Is(err, blobs.ErrNotFound) {
			t.Errorf("stat missing: got %v, want ErrNotFound", err)
		}
		// A "directory" of the local store is not an object.
		if _, err := s.Stat(ctx, "t"); !errors.Is(err, blobs.ErrNotFound) {
			t.Errorf("stat t: got %v, want ErrNotFound", err)
		}
	})
}

func TestList(t *testing.T) {
	eachStore(t, func(t *testing.T, s *blobs.Store) {
		ctx := context.Background()
		// "-" and "." sort before "/", "_" and digits after it.
		keys := []string{"t1/att_2", "t1/att_1", "t1/bk/1", "t1-x", "t1.x", "t10/a", "t1_x", "t2/att_1", "a"}
		for i, k := range keys {
			put(t, s, k, patternBytes(0, int64(i)))
		}
		all := slices.Sorted(slices.Values(keys))
		for _, tc := range []struct {
			prefix string
			want   []string
		}{
			{"", all},
			{"t1/", []string{"t1/att_1", "t1/att_2", "t1/bk/1"}},
			{"t1/att", []string{"t1/att_1", "t1/att_2"}},
			{"t1/bk/", []string{"t1/bk/1"}},
			{"t1", []string{"t1-x", "t1.x", "t1/att_1", "t1/att_2", "t1/bk/1", "t10/a", "t1_x"}},
			{"t3/", []string{}},
			{"zz", []string{}},
		} {
			if got := listKeys(t, s, tc.prefix); !slices.Equal(got, tc.want) {
				t.Errorf("list %q: got %v, want %v", tc.prefix, got, tc.want)
			}
		}
		for info, err := range s.List(ctx, "t1/att_2") {
			if err != nil {
				t.Fatal(err)
			}
			if info.Size != 0 || info.ModTime.IsZero() {
				t.Errorf("list t1/att_2: got size %d, time %v; want 0 and a time", info.Size, info.ModTime)
			}
		}
		// Stopping early is allowed.
		n := 0
		for range s.List(ctx, "") {
			n++
			break
		}
		if n != 1 {
			t.Errorf("list with break: got %d entries, want 1", n)
		}
		for _, err := range s.List(ctx, "../") {
			if !errors.Is(err, blobs.ErrInvalidKey) {
				t.Errorf("list ../: got %v, want ErrInvalidKey", err)
			}
		}
	})
}

// TestListMany lists more objects than one page of S3 (1000), with keys whose
// order differs from that of a plain directory walk.
func TestListMany(t *testing.T) {
	eachStore(t, func(t *testing.T, s *blobs.Store) {
		ctx := context.Background()
		var want []string
		for i := range 340 { // 1020 keys
			want = append(want, fmt.Sprintf("p/%04d", i), fmt.Sprintf("p-%04d", i), fmt.Sprintf("p.%04d", i))
		}
		// Eight at a time, to keep the test quick.
		keys := make(chan string)
		errs := make(chan error, len(want))
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for k := range keys {
					_, err := s.Put(ctx, k, bytes.NewReader(nil))
					errs <- err
				}
			})
		}
		for _, k := range want {
			keys <- k
		}
		close(keys)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		slices.Sort(want)
		if got := listKeys(t, s, ""); !slices.Equal(got, want) {
			t.Errorf("list: got %d keys (sorted: %v), want %d in order", len(got), slices.IsSorted(got), len(want))
		}
	})
}

func TestDelete(t *testing.T) {
	eachStore(t, func(t *testing.T, s *blobs.Store) {
		ctx := context.Background()
		put(t, s, "t/del", []byte("x"))
		put(t, s, "t/keep", []byte("y"))
		if err := s.Delete(ctx, "t/del"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, "t/del"); !errors.Is(err, blobs.ErrNotFound) {
			t.Errorf("get after delete: got %v, want ErrNotFound", err)
		}
		if _, err := s.Stat(ctx, "t/del"); !errors.Is(err, blobs.ErrNotFound) {
			t.Errorf("stat after delete: got %v, want ErrNotFound", err)
		}
		if err := s.Delete(ctx, "t/del"); !errors.Is(err, blobs.ErrNotFound) {
			t.Errorf("delete again: got %v, want ErrNotFound", err)
		}
		if got := listKeys(t, s, ""); !slices.Equal(got, []string{"t/keep"}) {
			t.Errorf("list after delete: got %v, want [t/keep]", got)
		}
	})
}

func TestOverwrite(t *testing.T) {
	eachStore(t, func(t *testing.T, s *blobs.Store) {
		ctx := context.Background()
		put(t, s, "k", patternBytes(0, MiB))
		put(t, s, "k", []byte("short"))
		r, err := s.Get(ctx, "k")
		if err != nil {
			t.Fatal(err)
		}
		if got := read(t, r); string(got) != "short" {
			t.Errorf("get after overwrite: got %d bytes, want \"short\"", len(got))
		}
		if info, err := s.Stat(ctx, "k"); err != nil || info.Size != 5 {
			t.Errorf("stat after overwrite: got %d bytes, %v; want 5", info.Size, err)
		}
	})
}

func TestPutSourceFails(t *testing.T) {
	eachStore(t, func(t *testing.T, s *blobs.Store) {
		ctx := context.Background()
		errBroken := errors.New("connection to client lost")
		// Half of 1 MiB is sent in one request; half of 48 MiB is a multipart
		// upload on S3.
		for _, size := range []int64{MiB, 48 * MiB} {
			_, err := s.Put(ctx, "t/broken", newFailAfter(size/2, errBroken))
			if !errors.Is(err, errBroken) {
				t.Fatalf("put %d bytes failing halfway: got %v, want the source's error", size, err)
			}
			if msg := err.Error(); !strings.Contains(msg, "not stored") || !strings.Contains(msg, "read source") {
				t.Errorf("put failing halfway: got %q, want it to say not stored and read source", msg)
			}
			assertAbsent(t, s, "t/broken")
		}

		// A failed overwrite leaves the previous object as it was.
		put(t, s, "t/kept", []byte("previous"))
		if _, err := s.Put(ctx, "t/kept", newFailAfter(20*MiB, errBroken)); !errors.Is(err, errBroken) {
			t.Fatalf("overwrite failing: got %v, want the source's error", err)
		}
		r, err := s.Get(ctx, "t/kept")
		if err != nil {
			t.Fatal(err)
		}
		if got := read(t, r); string(got) != "previous" {
			t.Errorf("after a failed overwrite: got %d bytes, want \"previous\"", len(got))
		}
	})
}

func TestPutCancelled(t *testing.T) {
	eachStore(t, func(t *testing.T, s *blobs.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := s.Put(ctx, "t/c", newPattern(MiB)); !errors.Is(err, context.Canceled) {
			t.Fatalf("put with a cancelled context: got %v, want context.Canceled", err)
		}
		assertAbsent(t, s, "t/c")

		// Cancelled after 20 MiB: a multipart upload is under way on S3.
		ctx, cancel = context.WithCancel(context.Background())
		defer cancel()
		src := &cancelAfter{p: newPattern(64 * MiB), n: 20 * MiB, cancel: cancel}
		_, err := s.Put(ctx, "t/c", src)
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "not stored") {
			t.Fatalf("put cancelled halfway: got %v, want context.Canceled, not stored", err)
		}
		assertAbsent(t, s, "t/c")
	})
}

func TestInvalidKeys(t *testing.T) {
	eachStore(t, func(t *testing.T, s *blobs.Store) {
		ctx := context.Background()
		for _, key := range invalidKeys {
			if _, err := s.Put(ctx, key, strings.NewReader("x")); !errors.Is(err, blobs.ErrInvalidKey) {
				t.Errorf("put %.40q: got %v, want ErrInvalidKey", key, err)
			}
			if _, err := s.Get(ctx, key); !errors.Is(err, blobs.ErrInvalidKey) {
				t.Errorf("get %.40q: got %v, want ErrInvalidKey", key, err)
			}
			if _, err := s.GetRange(ctx, key, 0, 1); !errors.Is(err, blobs.ErrInvalidKey) {
				t.Errorf("get range %.40q: got %v, want ErrInvalidKey", key, err)
			}
			if _, err := s.Stat(ctx, key); !errors.Is(err, blobs.ErrInvalidKey) {
				t.Errorf("stat %.40q: got %v, want ErrInvalidKey", key, err)
			}
			if err := s.Delete(ctx, key); !errors.Is(err, blobs.ErrInvalidKey) {
				t.Errorf("delete %.40q: got %v, want ErrInvalidKey", key, err)
			}
		}
		assertAbsent(t, s, "x")
	})
}

// invalidKeys break one rule each; "../x" and "/x" would leave a local store's
// directory if they were used as paths.
var invalidKeys = []string{
	"", "/x", "x/", "a//b", "../x", "a/../b", "a/./b", "a..b", ".hidden", "-x", "_x",
	"A", "a b", `a\b`, "a:b", "a\x00b", "a\nb", "é", "a%2f..",
	"x.tmp", "a/x.tmp/b", "x.attrs",
	strings.Repeat("a", blobs.MaxSegmentLen+1),
	strings.Repeat("abcdefgh/", blobs.MaxKeyLen/9) + "abcdefghi", // one byte too long
}
