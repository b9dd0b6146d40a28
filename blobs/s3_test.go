package blobs_test

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart/blobs"
	"github.com/rempart/rempart/internal/s3test"
)

// quick bounds how long a failure to reach the store may take: the SDK tries
// three times, with backoff.
const quick = 20 * time.Second

func TestS3OpenUnreachable(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t-value")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + l.Addr().String()
	l.Close() // nothing listens there now
	location := "s3://bucket?region=us-east-1&use_path_style=true&endpoint=" + url.QueryEscape(endpoint)

	start := time.Now()
	_, err = blobs.Open(context.Background(), location)
	elapsed := time.Since(start)
	if !errors.Is(err, blobs.ErrUnreachable) {
		t.Fatalf("open: got %v, want ErrUnreachable", err)
	}
	t.Logf("open failed after %v: %v", elapsed.Round(time.Millisecond), err)
	if elapsed > quick {
		t.Errorf("open: failed after %v, want within %v", elapsed, quick)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("open: the error %q holds the secret key", err)
	}
}

// TestS3Unreachable stops the server under an open store: a Put fails quickly
// and clearly, and once the server is back nothing is there.
func TestS3Unreachable(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Start(t)
	s := open(t, srv.Location)
	srv.Stop(t)

	for _, size := range []int64{MiB, 24 * MiB} { // one request; multipart
		start := time.Now()
		_, err := s.Put(ctx, "t/k", newPattern(size))
		elapsed := time.Since(start)
		if !errors.Is(err, blobs.ErrUnreachable) || !strings.Contains(err.Error(), "not stored") {
			t.Fatalf("put %d bytes: got %v, want ErrUnreachable, not stored", size, err)
		}
		t.Logf("put %d bytes failed after %v: %v", size, elapsed.Round(time.Millisecond), err)
		if elapsed > quick {
			t.Errorf("put: failed after %v, want within %v", elapsed, quick)
		}
	}

	srv.Restart(t)
	assertAbsent(t, s, "t/k")
	put(t, s, "t/k", []byte("back")) // the store works again
}

func TestS3WrongCredentials(t *testing.T) {
	srv := s3test.Start(t)
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong-s3cr3t")
	_, err := blobs.Open(context.Background(), srv.Location)
	if err == nil || !strings.Contains(err.Error(), "access denied") {
		t.Fatalf("open with a wrong secret: got %v, want access denied", err)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("open: the error %q holds the secret key", err)
	}
}

func TestS3MissingBucket(t *testing.T) {
	srv := s3test.Start(t)
	location := strings.Replace(srv.Location, "s3://"+srv.Bucket, "s3://no-such-bucket", 1)
	if _, err := blobs.Open(context.Background(), location); err == nil || !strings.Contains(err.Error(), "bucket not found") {
		t.Fatalf("open a missing bucket: got %v, want bucket not found", err)
	}
}

// TestS3TLS runs over HTTPS with a certificate that only AWS_CA_BUNDLE makes
// trusted: objects go through, and without the bundle the client refuses the
// server (ENC-4: verified TLS only).
func TestS3TLS(t *testing.T) {
	ctx := context.Background()
	srv := s3test.StartTLS(t)
	s := open(t, srv.Location)
	for _, size := range []int64{MiB, 24 * MiB} {
		if _, err := s.Put(ctx, "t/tls", newPattern(size)); err != nil {
			t.Fatal(err)
		}
		if sum, n := sumOf(t, s, "t/tls"); n != size || sum != patternSum(size) {
			t.Errorf("get: got %d bytes with a different hash, want %d bytes of the pattern", n, size)
		}
	}

	t.Setenv("AWS_CA_BUNDLE", "")
	_, err := blobs.Open(ctx, srv.Location)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("open without trusting the certificate: got %v, want a certificate error", err)
	}
	t.Logf("open without trusting the certificate: %v", err)
}
