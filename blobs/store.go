package blobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// Errors callers can test with errors.Is.
var (
	// ErrNotFound: no object has that key.
	ErrNotFound = errors.New("object not found")
	// ErrInvalidKey: the key (or list prefix) breaks the rules of ValidateKey.
	ErrInvalidKey = errors.New("invalid key")
	// ErrInvalidRange: GetRange was asked for a negative offset or length
	// other than -1, or an offset past the end of the object.
	ErrInvalidRange = errors.New("invalid range")
	// ErrUnreachable: the object store could not be reached (connection
	// refused, DNS failure, connect timeout).
	ErrUnreachable = errors.New("object store unreachable")
)

// Info describes a stored object.
type Info struct {
	Key     string
	Size    int64
	ModTime time.Time // UTC
}

// Store is an open object store. It is safe for concurrent use.
type Store struct {
	bucket *blob.Bucket
	name   string // the location without parameters, for messages

	// Local store only.
	dir         string   // absolute root directory
	durableDirs sync.Map // directory keys whose own names are durable

	// S3 store only: to abort multipart uploads that a failed Put left.
	s3         *s3.Client
	bucketName string
}

// String returns the location without its parameters, such as
// "file:///var/lib/rempart/blobs" or "s3://rempart-backups", for logs.
func (s *Store) String() string { return s.name }

// Close releases the store. Operations after Close fail.
func (s *Store) Close() error {
	if err := s.bucket.Close(); err != nil {
		return fmt.Errorf("close %s: %w", s.name, err)
	}
	return nil
}

// Get returns a reader of the whole object at key. The caller must close it.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := ValidateKey(key); err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	r, err := s.bucket.NewReader(ctx, key, nil)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, s.mapError(err))
	}
	return &reader{r: r, key: key, s: s}, nil
}

// GetRange returns a reader of length bytes of the object at key, starting at
// offset off; length -1 reads to the end. A range that runs past the end of
// the object is cut at the end, and an offset equal to the size reads nothing;
// an offset beyond the size, a negative offset, or a length below -1 is
// ErrInvalidRange. The caller must close the reader.
func (s *Store) GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, error) {
	if err := ValidateKey(key); err != nil {
		return nil, fmt.Errorf("get range: %w", err)
	}
	if off < 0 || length < -1 {
		return nil, fmt.Errorf("get range %s: %w: offset %d, length %d", key, ErrInvalidRange, off, length)
	}
	r, err := s.bucket.NewRangeReader(ctx, key, off, length, nil)
	if err != nil {
		if !rangeNotSatisfiable(err) {
			return nil, fmt.Errorf("get range %s: %w", key, s.mapError(err))
		}
		// S3 refuses a range that starts at or past the end (HTTP 416),
		// even on an empty object: tell the cases apart with its size.
		info, serr := s.Stat(ctx, key)
		switch {
		case serr != nil:
			return nil, fmt.Errorf("get range %s: %w", key, s.mapError(err))
		case off == info.Size:
			return io.NopCloser(eofReader{}), nil
		case off > info.Size:
			return nil, fmt.Errorf("get range %s: %w: offset %d past the end of %d bytes", key, ErrInvalidRange, off, info.Size)
		}
		return nil, fmt.Errorf("get range %s: %w", key, s.mapError(err))
	}
	if size := r.Size(); off > size {
		r.Close()
		return nil, fmt.Errorf("get range %s: %w: offset %d past the end of %d bytes", key, ErrInvalidRange, off, size)
	}
	return &reader{r: r, key: key, s: s}, nil
}

// Stat describes the object at key.
func (s *Store) Stat(ctx context.Context, key string) (Info, error) {
	if err := ValidateKey(key); err != nil {
		return Info{}, fmt.Errorf("stat: %w", err)
	}
	a, err := s.bucket.Attributes(ctx, key)
	if err != nil {
		return Info{}, fmt.Errorf("stat %s: %w", key, s.mapError(err))
	}
	return Info{Key: key, Size: a.Size, ModTime: a.ModTime.UTC()}, nil
}

// Delete removes the object at key; ErrNotFound if there is none.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	if err := s.bucket.Delete(ctx, key); err != nil {
		return fmt.Errorf("delete %s: %w", key, s.mapError(err))
	}
	return nil
}

// List yields the objects whose keys start with prefix ("" for all), in
// lexical order of their keys, as it reads them: memory does not grow with the
// number of objects (on the local store, it grows with the number of entries
// of the largest directory). On an error it yields the error once and stops.
// Entries that are not objects of this package (temporary files of uploads in
// progress, names that are not valid keys) are skipped.
func (s *Store) List(ctx context.Context, prefix string) iter.Seq2[Info, error] {
	return func(yield func(Info, error) bool) {
		if err := validatePrefix(prefix); err != nil {
			yield(Info{}, fmt.Errorf("list: %w", err))
			return
		}
		if s.dir != "" {
			s.listLocal(ctx, prefix, func(info Info, err error) bool {
				if err != nil {
					err = fmt.Errorf("list %s: %w", quote(prefix), err)
				}
				return yield(info, err)
			})
			return
		}
		it := s.bucket.List(&blob.ListOptions{Prefix: prefix})
		for {
			o, err := it.Next(ctx)
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(Info{}, fmt.Errorf("list %s: %w", quote(prefix), s.mapError(err)))
				return
			}
			if o.IsDir || ValidateKey(o.Key) != nil {
				continue
			}
			if !yield(Info{Key: o.Key, Size: o.Size, ModTime: o.ModTime.UTC()}, nil) {
				return
			}
		}
	}
}

// mapError turns gocloud's not-found into ErrNotFound and a failure to reach
// the store into ErrUnreachable; other errors pass through.
func (s *Store) mapError(err error) error {
	if gcerrors.Code(err) == gcerrors.NotFound {
		return ErrNotFound
	}
	if u := unreachable(err); u != nil {
		return u
	}
	// gocloud's errors add only the key and a code to the driver's error,
	// which says what happened.
	if multi, ok := err.(interface{ Unwrap() []error }); ok {
		if errs := multi.Unwrap(); len(errs) > 0 && errs[0] != nil {
			return errs[0]
		}
	}
	return err
}

// reader hides gocloud's reader type and maps its errors.
type reader struct {
	r   *blob.Reader
	key string
	s   *Store
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("read %s: %w", r.key, r.s.mapError(err))
	}
	return n, err
}

func (r *reader) Close() error { return r.r.Close() }

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
