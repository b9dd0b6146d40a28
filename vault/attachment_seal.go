package vault

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/keys"
)

// sealChunk is how much plaintext the sealer reads at a time: a few stream
// segments, so that memory stays constant whatever the attachment's size.
const sealChunk = 4 * keys.StreamSegmentSize

// sealer is a reader of the stream that seals the plaintext read from src,
// for the object store to consume. On the way it hashes and counts the
// plaintext; at the end of src it checks the declared SHA-256. Any failure
// (src's, the size limit, the digest) is returned by Read instead of the
// end of the stream, so that the object store stores nothing.
type sealer struct {
	src    io.Reader
	enc    io.WriteCloser
	out    bytes.Buffer // sealed bytes not yet read
	buf    []byte
	hash   hash.Hash
	max    int64
	digest func() ([]byte, error)

	n    int64  // plaintext bytes read
	sum  []byte // SHA-256 of the plaintext, once complete
	done bool
	err  error // the first failure, returned by every later Read
}

func newSealer(src io.Reader, dk keys.DataKey, ad []byte, max int64, digest func() ([]byte, error)) (*sealer, error) {
	s := &sealer{src: src, buf: make([]byte, sealChunk), hash: sha256.New(), max: max, digest: digest}
	enc, err := keys.NewEncryptWriter(&s.out, dk, ad)
	if err != nil {
		return nil, err
	}
	s.enc = enc
	return s, nil
}

func (s *sealer) Read(p []byte) (int, error) {
	for s.out.Len() == 0 {
		if s.err != nil {
			return 0, s.err
		}
		if s.done {
			return 0, io.EOF
		}
		s.fill()
	}
	return s.out.Read(p)
}

// fill reads one chunk of plaintext and seals what it can of it.
func (s *sealer) fill() {
	// A whole chunk at a time: a TLS connection hands out one record (16
	// KiB) per read, and fewer, larger writes seal and store faster.
	k, err := fillBuf(s.src, s.buf)
	if k > 0 {
		s.n += int64(k)
		if s.n > s.max {
			s.err = tooLarge(s.max)
			return
		}
		s.hash.Write(s.buf[:k])
		if _, werr := s.enc.Write(s.buf[:k]); werr != nil {
			s.err = werr
			return
		}
	}
	switch {
	case err == io.EOF:
		s.sum = s.hash.Sum(nil)
		if s.digest != nil {
			want, derr := s.digest()
			if derr != nil {
				s.err = derr
				return
			}
			if want != nil && subtle.ConstantTimeCompare(want, s.sum) != 1 {
				s.err = rempart.Errorf(rempart.EINVALID, "The content does not match its declared SHA-256 digest; nothing was stored.")
				return
			}
		}
		if cerr := s.enc.Close(); cerr != nil {
			s.err = cerr
			return
		}
		s.done = true
	case err != nil:
		var re *rempart.Error
		if errors.As(err, &re) {
			s.err = err
		} else {
			s.err = fmt.Errorf("%v: %w", err, errCutOff)
		}
	}
}

var errCutOff = &rempart.Error{Code: rempart.EINVALID, Message: "The upload ended before the end of its content (the connection was cut); nothing was stored."}

// cause says why the object store failed to store the sealer's stream: the
// sealer's own failure, the client's departure, or the store.
func (s *sealer) cause(ctx context.Context, putErr error) error {
	switch {
	case s.err != nil:
		return s.err
	case ctx.Err() != nil:
		return fmt.Errorf("%v: %w", ctx.Err(), errCutOff)
	}
	return fmt.Errorf("store attachment: %v: %w", putErr, errStoreDown)
}

// fillBuf reads until buf is full or src fails, and returns src's own error.
// (io.ReadFull would report a source that ends mid-buffer as
// io.ErrUnexpectedEOF, the error of an HTTP body cut short.)
func fillBuf(src io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := src.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
