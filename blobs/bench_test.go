package blobs_test

import (
	"context"
	"io"
	"testing"

	"github.com/rempart/rempart/blobs"
	"github.com/rempart/rempart/internal/s3test"
)

// The product needs attachments at 300 MB/s or more end to end, and backups
// at 200 MB/s; these measure what the stores themselves sustain for one
// stream of 64 MiB objects.

const benchSize = 64 * MiB

func BenchmarkPut(b *testing.B) {
	eachStoreB(b, func(b *testing.B, s *blobs.Store) {
		ctx := context.Background()
		b.SetBytes(benchSize)
		for b.Loop() {
			if _, err := s.Put(ctx, "bench/obj", newPattern(benchSize)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkGet(b *testing.B) {
	eachStoreB(b, func(b *testing.B, s *blobs.Store) {
		ctx := context.Background()
		if _, err := s.Put(ctx, "bench/obj", newPattern(benchSize)); err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, 256*kiB)
		b.SetBytes(benchSize)
		for b.Loop() {
			r, err := s.Get(ctx, "bench/obj")
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.CopyBuffer(struct{ io.Writer }{io.Discard}, r, buf)
			r.Close()
			if err != nil || n != benchSize {
				b.Fatalf("get: got %d bytes, %v; want %d", n, err, benchSize)
			}
		}
	})
}

// eachStoreB runs fn on the local store, on S3 over HTTP and on S3 over
// HTTPS. The S3 server, versitygw, runs on the same machine, so it shares the
// CPU with the client.
func eachStoreB(b *testing.B, fn func(b *testing.B, s *blobs.Store)) {
	b.Run("local", func(b *testing.B) { fn(b, openLocal(b)) })
	b.Run("s3", func(b *testing.B) { fn(b, openS3(b)) })
	b.Run("s3-tls", func(b *testing.B) { fn(b, open(b, s3test.StartTLS(b).Location)) })
}
