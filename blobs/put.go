package blobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"gocloud.dev/blob"
)

// contentType is what every object is: ciphertext.
const contentType = "application/octet-stream"

// S3 multipart settings: a Put holds at most about (s3Concurrency+1) parts of
// s3PartSize in memory, plus the first 16 MiB that decide between a single
// request and a multipart upload.
const (
	s3PartSize    = 8 << 20
	s3Concurrency = 4
)

// Put stores the contents of r under key, replacing any object there, and
// returns the number of bytes stored. It streams: memory use does not depend
// on the size of the object.
//
// The object becomes visible only once it is complete. If Put fails, because
// r returned an error, ctx ended, or the store is unreachable or full, no new
// object is visible under key: the previous object, if any, is unchanged. The
// one exception is a failure after the store made the object complete (its
// reply was lost), in which case the whole new object is there; a partial
// object never is.
//
// The contents must already be encrypted; see the package documentation.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	if err := ValidateKey(key); err != nil {
		return 0, fmt.Errorf("put: %w", err)
	}
	n, err := s.put(ctx, key, r)
	if err != nil {
		return 0, fmt.Errorf("put %s: not stored: %w", key, err)
	}
	if s.dir != "" {
		// The object is complete; make its name durable too (BCK-3:
		// no acknowledged write is lost on a crash).
		if err := s.syncDirs(key); err != nil {
			return 0, fmt.Errorf("put %s: %w", key, err)
		}
	}
	return n, nil
}

func (s *Store) put(ctx context.Context, key string, r io.Reader) (int64, error) {
	// Cancelling wctx before Close is how gocloud aborts a write: the local
	// store removes its temporary file, S3 never completes the upload.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var tmp *os.File // local store: the temporary file being written
	opts := &blob.WriterOptions{ContentType: contentType}
	if s.dir != "" {
		opts.BeforeWrite = func(as func(any) bool) error {
			if !as(&tmp) {
				return errors.New("local store: no temporary file")
			}
			return tmp.Chmod(0o600)
		}
	} else {
		opts.BufferSize = s3PartSize
		opts.MaxConcurrency = s3Concurrency
	}
	w, err := s.bucket.NewWriter(wctx, key, opts)
	if err != nil {
		return 0, s.mapError(err)
	}
	src := &source{ctx: ctx, r: r}
	n, err := copyObject(w, src, &tmp)
	if err == nil && tmp != nil {
		if err = tmp.Sync(); err != nil {
			err = fmt.Errorf("sync: %w", err)
		}
	}
	if err != nil {
		cancel()
		cerr := w.Close()
		s.abortUploads(ctx, key, cerr)
		return 0, s.putError(ctx, src, err)
	}
	if err := w.Close(); err != nil {
		s.abortUploads(ctx, key, err)
		return 0, s.putError(ctx, src, err)
	}
	return n, nil
}

// copyBufferSize is the size of a Put's reads and writes: few system calls
// per object.
const copyBufferSize = 1 << 20

// writebackSpan: on the local store, as each span of this many bytes is
// written, Put asks the kernel to start writing it to disk, so that the
// fsync at the end waits for the last span rather than for the whole object.
const writebackSpan = 8 << 20

var copyBuffers = sync.Pool{New: func() any { return new([copyBufferSize]byte) }}

// copyObject copies src to w and returns the bytes copied. *tmp is the
// local store's temporary file, once the first write has opened it.
func copyObject(w io.Writer, src io.Reader, tmp **os.File) (int64, error) {
	buf := copyBuffers.Get().(*[copyBufferSize]byte)
	defer copyBuffers.Put(buf)
	var n, started int64
	for {
		k, rerr := src.Read(buf[:])
		if k > 0 {
			if _, err := w.Write(buf[:k]); err != nil {
				return n, err
			}
			n += int64(k)
			if *tmp != nil && n-started >= writebackSpan {
				startWriteback(*tmp, started, n-started)
				started = n
			}
		}
		if rerr == io.EOF {
			return n, nil
		} else if rerr != nil {
			return n, rerr
		}
	}
}

// putError says why a Put failed: its source, its context, or the store.
func (s *Store) putError(ctx context.Context, src *source, err error) error {
	switch {
	case src.err != nil && src.err == ctx.Err():
		return src.err
	case src.err != nil:
		return fmt.Errorf("read source: %w", src.err)
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return s.mapError(err)
}

// source reads the caller's reader, stops at the end of ctx, and remembers
// the error it returned, so that Put can tell a failing source from a failing
// store.
type source struct {
	ctx context.Context
	r   io.Reader
	err error
}

func (s *source) Read(p []byte) (int, error) {
	if err := s.ctx.Err(); err != nil {
		s.err = err
		return 0, err
	}
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}
