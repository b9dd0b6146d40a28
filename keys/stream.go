package keys

// Streaming AEAD for large objects: attachments such as call recordings, and
// backups (ENC-2). It is the STREAM construction (Hoang, Reyhanitabar,
// Rogaway, Vizár, "Online Authenticated-Encryption and its Nonce-Reuse
// Misuse-Resistance", CRYPTO 2015) over AES-256-GCM, laid out like Tink's
// streaming AEAD, so a stream of any length is sealed and opened in constant
// memory, and any range of it can be opened without reading the rest.
//
// Format, version 1 (all integers big-endian):
//
//	stream  = header || segment_0 || … || segment_{n-1}          n ≥ 1
//	header  = "RMPS" || 0x01 || sealed_key                       65 bytes
//	sealed_key = Seal(dk.AEAD, object_key,
//	                  AD("rempart/stream/v1", "RMPS\x01", ad))   12 + 32 + 16 bytes
//	segment_i = AES-256-GCM(object_key, nonce_i, plaintext_i, no AD)
//	          = ciphertext_i || tag_i                            len(plaintext_i) + 16 bytes
//	nonce_i = 0x00 × 7 || uint32(i) || last                      12 bytes
//	last    = 0x01 for segment n-1, 0x00 for every other segment
//
// Every segment but the last holds exactly StreamSegmentSize (64 KiB) of
// plaintext; the last holds 1 to 64 KiB, or 0 bytes only when it is the only
// segment (an empty stream is the header and one empty last segment). So the
// ciphertext size determines the plaintext size and the other way round
// (StreamCipherSize, StreamPlaintextSize). A stream has at most 2^32 segments
// (StreamMaxSegments), hence at most 256 TiB of plaintext (StreamMaxSize).
//
// Why it is safe:
//
//   - Each stream has its own random 32-byte object key, so the deterministic
//     segment nonces never repeat under one key: the index is unique within a
//     stream, and the writer and readers refuse more than 2^32 segments
//     rather than wrap the counter. An object key seals at most 256 TiB, about
//     2^44 AES blocks, which keeps GCM's birthday term near 2^-40. The data
//     key makes one random-nonce Seal per stream, as it does per record.
//   - The object key is sealed under the tenant's data key (TEN-2) with the
//     caller's associated data, which names the tenant, record and attachment:
//     a header, and with it the whole stream, does not open under another data
//     key, tenant, record or attachment, and the magic and version bytes are
//     authenticated with it. The caller should put the object's version in ad
//     too, or an old copy of the same object would still open.
//   - A segment authenticates only at its own index with its own last flag:
//     reordering, duplication or removal of a segment fails at the first
//     segment out of place; truncation at a boundary leaves a last segment
//     sealed as "not last"; truncation inside a segment breaks its tag;
//     anything after the last segment makes it be read as "not last", and an
//     empty last segment after others is refused. Every bit of the header and
//     of every segment is covered by a tag.
//   - Readers return plaintext only after its segment has authenticated, and
//     report every failure as ErrDecrypt, which says nothing more.
//
// A range read (Stream.DecryptRange) checks every segment it reads, at its
// index, and the last flag of the final segment if it reads it; the last
// segment's position comes from the ciphertext size the caller passes to
// OpenStream. A range read that does not reach the final segment cannot
// detect that later segments were truncated, removed or altered; only a read
// to the end of the stream proves it complete.

import (
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Sizes of the streaming format (see the format description in stream.go).
const (
	// StreamSegmentSize is the plaintext size of every segment but the last.
	StreamSegmentSize = 64 << 10
	// StreamHeaderSize is the size of the header that starts every stream.
	StreamHeaderSize = 5 + streamNonceSize + 32 + streamTagSize // prefix, sealed key
	// StreamMaxSegments is the most segments a stream may have.
	StreamMaxSegments = 1 << 32
	// StreamMaxSize is the most plaintext a stream may hold (256 TiB).
	StreamMaxSize = StreamMaxSegments * StreamSegmentSize
)

const (
	streamPrefix      = "RMPS\x01" // magic and version
	streamLabel       = "rempart/stream/v1"
	streamTagSize     = 16
	streamNonceSize   = 12
	streamSegCipher   = StreamSegmentSize + streamTagSize
	streamLastSegment = StreamMaxSegments - 1
)

var (
	errStreamSize    = fmt.Errorf("impossible stream ciphertext size: %w", ErrDecrypt)
	errStreamTooBig  = errors.New("stream exceeds the maximum size")
	errStreamClosed  = errors.New("write to a closed stream")
	errStreamDataKey = errors.New("stream data key must be AES-GCM with 12-byte nonces and 16-byte tags")
)

// StreamCipherSize returns the size of the stream that holds plain bytes of
// plaintext, or -1 if plain is negative or over StreamMaxSize.
func StreamCipherSize(plain int64) int64 {
	if plain < 0 || plain > StreamMaxSize {
		return -1
	}
	return StreamHeaderSize + plain + streamTagSize*streamSegments(plain)
}

// StreamPlaintextSize returns the plaintext size of a stream of cipherSize
// bytes. A size that no stream has, as after truncation inside a segment, is
// an error wrapping ErrDecrypt.
func StreamPlaintextSize(cipherSize int64) (int64, error) {
	if cipherSize < StreamHeaderSize+streamTagSize || cipherSize > StreamCipherSize(StreamMaxSize) {
		return 0, errStreamSize
	}
	rest := cipherSize - StreamHeaderSize
	full := (rest - 1) / streamSegCipher // segments before the last
	last := rest - full*streamSegCipher  // 1 to streamSegCipher
	if last < streamTagSize || (full > 0 && last == streamTagSize) {
		return 0, errStreamSize
	}
	return full*StreamSegmentSize + last - streamTagSize, nil
}

func streamSegments(plain int64) int64 {
	return max(1, (plain+StreamSegmentSize-1)/StreamSegmentSize)
}

func streamHeaderAD(ad []byte) []byte {
	return AD(streamLabel, streamPrefix, string(ad))
}

func checkStreamKey(dk DataKey) error {
	if dk.AEAD == nil || dk.AEAD.NonceSize() != streamNonceSize || dk.AEAD.Overhead() != streamTagSize {
		return errStreamDataKey
	}
	return nil
}

// newStreamHeader makes a fresh object key and returns the header that seals
// it under dk, and the object key's AEAD.
func newStreamHeader(dk DataKey, ad []byte) ([]byte, cipher.AEAD, error) {
	if err := checkStreamKey(dk); err != nil {
		return nil, nil, err
	}
	key := randomKey()
	defer clear(key)
	aead, err := NewAEAD(key)
	if err != nil {
		return nil, nil, err
	}
	h := make([]byte, 0, StreamHeaderSize)
	h = append(h, streamPrefix...)
	h = append(h, Seal(dk.AEAD, key, streamHeaderAD(ad))...)
	return h, aead, nil
}

// openStreamHeader authenticates a header and returns the object key's AEAD.
func openStreamHeader(h []byte, dk DataKey, ad []byte) (cipher.AEAD, error) {
	if err := checkStreamKey(dk); err != nil {
		return nil, err
	}
	if len(h) != StreamHeaderSize || string(h[:len(streamPrefix)]) != streamPrefix {
		return nil, ErrDecrypt
	}
	key, err := Open(dk.AEAD, h[len(streamPrefix):], streamHeaderAD(ad))
	if err != nil {
		return nil, ErrDecrypt
	}
	defer clear(key)
	return NewAEAD(key)
}

// segmentNonce sets n to the nonce of segment i.
func segmentNonce(n *[streamNonceSize]byte, i int64, last bool) {
	binary.BigEndian.PutUint32(n[7:11], uint32(i))
	n[11] = 0
	if last {
		n[11] = 1
	}
}

// NewEncryptWriter returns a writer that encrypts what is written to it into
// w as a stream bound to dk and ad (see the format in stream.go). ad must name
// what the stream is, for example keys.AD(tenantID, recordID, attachmentID,
// version); the same ad opens it.
//
// The writer holds one segment in memory; nothing reaches w before the first
// segment is complete or Close is called, so w may be one end of an io.Pipe.
// Close writes the final segment and does not close w; a stream that was not
// closed is truncated and does not decrypt. A write error from w is returned
// by that call and every later one. Writing more than StreamMaxSize is an
// error.
func NewEncryptWriter(w io.Writer, dk DataKey, ad []byte) (io.WriteCloser, error) {
	h, aead, err := newStreamHeader(dk, ad)
	if err != nil {
		return nil, fmt.Errorf("new stream: %w", err)
	}
	return &encryptWriter{w: w, aead: aead, header: h, buf: make([]byte, 0, streamSegCipher)}, nil
}

type encryptWriter struct {
	w      io.Writer
	aead   cipher.AEAD
	header []byte // not yet written; nil once it is
	buf    []byte // plaintext of the segment being filled; sealed in place
	index  int64
	nonce  [streamNonceSize]byte
	err    error
	closed bool
}

func (e *encryptWriter) Write(p []byte) (int, error) {
	if e.closed {
		return 0, errStreamClosed
	}
	if e.err != nil {
		return 0, e.err
	}
	n := 0
	for len(p) > 0 {
		if len(e.buf) == StreamSegmentSize {
			// More plaintext follows, so the buffered segment is not the last.
			if err := e.seal(e.buf, false); err != nil {
				return n, err
			}
		}
		if len(e.buf) == 0 && len(p) > StreamSegmentSize {
			// A whole segment with more after it: seal it without copying.
			if err := e.seal(p[:StreamSegmentSize], false); err != nil {
				return n, err
			}
			p, n = p[StreamSegmentSize:], n+StreamSegmentSize
			continue
		}
		k := copy(e.buf[len(e.buf):StreamSegmentSize], p)
		e.buf = e.buf[:len(e.buf)+k]
		p, n = p[k:], n+k
	}
	return n, nil
}

// Close writes the final segment. Closing again returns the first result.
func (e *encryptWriter) Close() error {
	if e.closed {
		return e.err
	}
	e.closed = true
	if e.err != nil {
		return e.err
	}
	err := e.seal(e.buf, true)
	e.buf = nil
	return err
}

// seal encrypts plaintext (the whole of e.buf, or a segment of the caller's
// slice while e.buf is empty) into e.buf and writes it, after the header if
// it has not been written yet. e.buf is empty afterwards.
func (e *encryptWriter) seal(plaintext []byte, last bool) error {
	if !last && e.index == streamLastSegment {
		e.err = errStreamTooBig
		return e.err
	}
	if e.header != nil {
		if err := e.write(e.header); err != nil {
			return err
		}
		e.header = nil
	}
	segmentNonce(&e.nonce, e.index, last)
	seg := e.aead.Seal(e.buf[:0], e.nonce[:], plaintext, nil)
	e.buf = e.buf[:0]
	e.index++
	return e.write(seg)
}

func (e *encryptWriter) write(b []byte) error {
	n, err := e.w.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		e.err = fmt.Errorf("write stream: %w", err)
	}
	return e.err
}

// plainReader hands out plaintext that fill has authenticated, one segment at
// a time. fill returns io.EOF, with or after the final plaintext, at the end.
type plainReader struct {
	fill func() ([]byte, error)
	pt   []byte
	err  error
}

func (p *plainReader) Read(b []byte) (int, error) {
	for len(p.pt) == 0 {
		if p.err != nil {
			return 0, p.err
		}
		p.pt, p.err = p.fill()
	}
	n := copy(b, p.pt)
	p.pt = p.pt[n:]
	return n, nil
}

// WriteTo writes each authenticated segment straight to w, so io.Copy needs
// no buffer of its own.
func (p *plainReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if len(p.pt) > 0 {
			n, err := w.Write(p.pt)
			total += int64(n)
			p.pt = p.pt[n:]
			if err != nil {
				return total, err
			}
			if len(p.pt) > 0 {
				return total, io.ErrShortWrite
			}
		}
		if p.err == io.EOF {
			return total, nil
		} else if p.err != nil {
			return total, p.err
		}
		p.pt, p.err = p.fill()
	}
}

// NewDecryptReader reads the header of the stream in r, authenticates it with
// dk and ad, and returns a reader of the plaintext. It returns plaintext only
// after the segment that holds it has authenticated, and io.EOF only after
// the last segment has authenticated and r has ended just after it. Altered,
// reordered, missing or extra bytes anywhere, a wrong key or a wrong ad are
// an error wrapping ErrDecrypt that says nothing more. Plaintext returned
// before an error is authentic but incomplete: a caller that needs the whole
// object fails, and an HTTP handler that has sent part of it aborts the
// response. An error reading r is returned wrapped, not as ErrDecrypt.
// Reading holds one segment in memory.
func NewDecryptReader(r io.Reader, dk DataKey, ad []byte) (io.Reader, error) {
	h := make([]byte, StreamHeaderSize)
	if _, err := io.ReadFull(r, h); err == io.EOF || err == io.ErrUnexpectedEOF {
		return nil, ErrDecrypt
	} else if err != nil {
		return nil, fmt.Errorf("read stream header: %w", err)
	}
	aead, err := openStreamHeader(h, dk, ad)
	if err != nil {
		return nil, err
	}
	d := &decryptReader{r: r, aead: aead, buf: make([]byte, streamSegCipher+1)}
	return &plainReader{fill: d.fill}, nil
}

type decryptReader struct {
	r     io.Reader
	aead  cipher.AEAD
	buf   []byte // one segment, and the first byte of the next
	carry bool   // buf[streamSegCipher] holds the first byte of the next segment
	index int64
	nonce [streamNonceSize]byte
}

func (d *decryptReader) fill() ([]byte, error) {
	k := 0
	if d.carry {
		d.buf[0] = d.buf[streamSegCipher]
		k = 1
	}
	m, err := io.ReadFull(d.r, d.buf[k:])
	k += m
	last := err != nil // r ended before a byte followed this segment
	if last && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, fmt.Errorf("read stream: %w", err)
	}
	d.carry = !last
	seg := d.buf[:min(k, streamSegCipher)]
	if len(seg) < streamTagSize || (last && d.index > 0 && len(seg) == streamTagSize) ||
		(!last && d.index == streamLastSegment) {
		return nil, ErrDecrypt
	}
	segmentNonce(&d.nonce, d.index, last)
	pt, err := d.aead.Open(seg[:0], d.nonce[:], seg, nil)
	if err != nil {
		return nil, ErrDecrypt
	}
	d.index++
	if last {
		return pt, io.EOF
	}
	return pt, nil
}

// Stream is an encrypted stream whose header has authenticated, for reading
// ranges of it from storage that serves byte ranges (an object store, a
// file), as HTTP range requests need. A Stream may be used by several
// goroutines at once; each reader it returns by one at a time.
type Stream struct {
	aead       cipher.AEAD
	cipherSize int64
	plainSize  int64
	segments   int64
}

// OpenStream authenticates header, the first StreamHeaderSize bytes of a
// stream of cipherSize bytes, with dk and ad. A header that does not
// authenticate, or a size that no stream has, is an error wrapping
// ErrDecrypt. cipherSize places the final segment; that it is right is
// checked only by range reads that reach the final segment.
func OpenStream(header []byte, cipherSize int64, dk DataKey, ad []byte) (*Stream, error) {
	plain, err := StreamPlaintextSize(cipherSize)
	if err != nil {
		return nil, err
	}
	aead, err := openStreamHeader(header, dk, ad)
	if err != nil {
		return nil, err
	}
	return &Stream{aead: aead, cipherSize: cipherSize, plainSize: plain, segments: streamSegments(plain)}, nil
}

// PlaintextSize returns the size of the stream's plaintext.
func (s *Stream) PlaintextSize() int64 { return s.plainSize }

// span returns the part [lo, hi) of the plaintext that the range [off, off+n)
// covers: their intersection, with lo == hi when it is empty.
func (s *Stream) span(off, n int64) (lo, hi int64) {
	if off < 0 {
		if n <= 0 || off+n <= 0 {
			return 0, 0
		}
		off, n = 0, off+n
	}
	if n <= 0 || off >= s.plainSize {
		return 0, 0
	}
	return off, off + min(n, s.plainSize-off)
}

// CipherRange returns the byte range [cOff, cOff+cLen) of the stream that
// holds the plaintext range [off, off+n): the whole segments that hold it.
// The plaintext range is cut to the plaintext, [0, PlaintextSize()); when
// nothing is left, cLen is 0 and nothing need be read.
func (s *Stream) CipherRange(off, n int64) (cOff, cLen int64) {
	lo, hi := s.span(off, n)
	if lo == hi {
		return 0, 0
	}
	first, last := lo/StreamSegmentSize, (hi-1)/StreamSegmentSize
	cOff = StreamHeaderSize + first*streamSegCipher
	end := min(StreamHeaderSize+(last+1)*streamSegCipher, s.cipherSize)
	return cOff, end - cOff
}

// DecryptRange returns a reader of the plaintext range [off, off+n), cut as
// CipherRange cuts it, given r, a reader of the stream from byte cOff (as
// returned by CipherRange) on. It reads exactly cLen bytes of r, one segment
// at a time, and returns each segment's plaintext only after it has
// authenticated at its index; the final segment of the stream must also be
// sealed as the last. Altered bytes, a segment from another position or
// stream, or r ending early are an error wrapping ErrDecrypt. A range that
// does not reach the final segment says nothing about the segments after it:
// it does not detect their truncation or alteration.
func (s *Stream) DecryptRange(r io.Reader, off, n int64) io.Reader {
	lo, hi := s.span(off, n)
	if lo == hi {
		return &plainReader{err: io.EOF}
	}
	rr := &rangeReader{s: s, r: r, index: lo / StreamSegmentSize, skip: lo % StreamSegmentSize, left: hi - lo}
	return &plainReader{fill: rr.fill}
}

type rangeReader struct {
	s     *Stream
	r     io.Reader
	index int64 // of the next segment
	skip  int64 // plaintext to drop from the start of the next segment
	left  int64 // plaintext still to return
	buf   []byte
	nonce [streamNonceSize]byte
}

func (rr *rangeReader) fill() ([]byte, error) {
	last := rr.index == rr.s.segments-1
	size := int64(streamSegCipher)
	if last {
		size = rr.s.cipherSize - StreamHeaderSize - rr.index*streamSegCipher
	}
	if rr.buf == nil {
		rr.buf = make([]byte, min(streamSegCipher, rr.s.cipherSize-StreamHeaderSize))
	}
	seg := rr.buf[:size]
	if _, err := io.ReadFull(rr.r, seg); err == io.EOF || err == io.ErrUnexpectedEOF {
		return nil, ErrDecrypt
	} else if err != nil {
		return nil, fmt.Errorf("read stream: %w", err)
	}
	segmentNonce(&rr.nonce, rr.index, last)
	pt, err := rr.s.aead.Open(seg[:0], rr.nonce[:], seg, nil)
	if err != nil {
		return nil, ErrDecrypt
	}
	pt = pt[rr.skip:]
	pt = pt[:min(int64(len(pt)), rr.left)]
	rr.index, rr.skip, rr.left = rr.index+1, 0, rr.left-int64(len(pt))
	if rr.left == 0 {
		return pt, io.EOF
	}
	return pt, nil
}
