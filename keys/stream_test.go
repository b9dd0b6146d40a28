package keys_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
	"testing/iotest"

	"github.com/rempart/rempart/keys"
)

const seg = keys.StreamSegmentSize

// segCipher is the ciphertext size of a full segment.
const segCipher = seg + 16

func newDataKey(t testing.TB, id string) keys.DataKey {
	t.Helper()
	aead, err := keys.NewAEAD(bytes.Repeat([]byte(id[:1]), 32))
	if err != nil {
		t.Fatal(err)
	}
	return keys.DataKey{ID: id, AEAD: aead}
}

// plaintext returns n bytes that differ from segment to segment.
func plaintext(n int, seed uint64) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}).Read(b)
	return b
}

// encrypt seals pt as a stream, writing it chunk bytes at a time.
func encrypt(t testing.TB, dk keys.DataKey, ad, pt []byte, chunk int) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := keys.NewEncryptWriter(&out, dk, ad)
	if err != nil {
		t.Fatal(err)
	}
	for p := pt; len(p) > 0; {
		k := min(chunk, len(p))
		if n, err := w.Write(p[:k]); n != k || err != nil {
			t.Fatalf("write: got %d, %v; want %d, nil", n, err, k)
		}
		p = p[k:]
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	return out.Bytes()
}

// decrypt opens a stream with io.ReadAll and returns the plaintext it gave
// before any error.
func decrypt(ct []byte, dk keys.DataKey, ad []byte) ([]byte, error) {
	return decryptFrom(bytes.NewReader(ct), dk, ad)
}

func decryptFrom(r io.Reader, dk keys.DataKey, ad []byte) ([]byte, error) {
	d, err := keys.NewDecryptReader(r, dk, ad)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(d)
}

// segments splits a stream into its header and segments.
func segments(ct []byte) (header []byte, segs [][]byte) {
	header, rest := ct[:keys.StreamHeaderSize], ct[keys.StreamHeaderSize:]
	for len(rest) > 0 {
		k := min(segCipher, len(rest))
		segs = append(segs, rest[:k])
		rest = rest[k:]
	}
	return header, segs
}

func join(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// TestStreamRoundTrip: large objects (attachments, backups) are sealed with
// the streaming AES-256-GCM construction and read back whole (ENC-2).
func TestStreamRoundTrip(t *testing.T) {
	dk := newDataKey(t, "dk_1")
	ad := keys.AD("ten_a", "rec_1", "att_1", "1")
	for _, size := range []int{0, 1, seg - 1, seg, seg + 1, 2 * seg, 3*seg + 12345} {
		pt := plaintext(size, uint64(size))
		for _, chunk := range []int{1, 7, 4093, seg + 3, max(size, 1)} {
			if chunk == 1 && size > 2*seg {
				continue // a byte at a time is slow and adds nothing at this size
			}
			ct := encrypt(t, dk, ad, pt, chunk)
			if got, want := int64(len(ct)), keys.StreamCipherSize(int64(size)); got != want {
				t.Fatalf("size %d: ciphertext size: got %d, want %d", size, got, want)
			}
			if got, err := keys.StreamPlaintextSize(int64(len(ct))); got != int64(size) || err != nil {
				t.Fatalf("size %d: StreamPlaintextSize: got %d, %v; want %d", size, got, err, size)
			}
			got, err := decrypt(ct, dk, ad)
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("size %d, chunk %d: ReadAll: got %d bytes, %v; want %d bytes equal", size, chunk, len(got), err, size)
			}
			r, err := keys.NewDecryptReader(bytes.NewReader(ct), dk, ad)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if _, err := io.Copy(&buf, r); err != nil || !bytes.Equal(buf.Bytes(), pt) {
				t.Fatalf("size %d, chunk %d: io.Copy: got %d bytes, %v; want %d bytes equal", size, chunk, buf.Len(), err, size)
			}
		}
		// Reads of every size, from a source that returns a byte at a time.
		ct := encrypt(t, dk, ad, pt, 4093)
		r, err := keys.NewDecryptReader(iotest.OneByteReader(bytes.NewReader(ct)), dk, ad)
		if err != nil {
			t.Fatal(err)
		}
		if err := iotest.TestReader(r, pt); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
	}
}

func TestDecryptReaderSourceErrors(t *testing.T) {
	dk := newDataKey(t, "dk_1")
	ct := encrypt(t, dk, nil, plaintext(2*seg, 12), seg)
	errNet := errors.New("connection reset")
	for _, cut := range []int{10, keys.StreamHeaderSize + 100, len(ct) - 1} {
		src := io.MultiReader(bytes.NewReader(ct[:cut]), iotest.ErrReader(errNet))
		got, err := decryptFrom(src, dk, nil)
		if !errors.Is(err, errNet) || errors.Is(err, keys.ErrDecrypt) {
			t.Errorf("source fails after %d bytes: got %v, want the source's error", cut, err)
		}
		if len(got) > seg {
			t.Errorf("source fails after %d bytes: got %d bytes of plaintext, want at most %d", cut, len(got), seg)
		}
	}
}

func TestStreamFreshKeyPerStream(t *testing.T) {
	dk := newDataKey(t, "dk_1")
	pt := bytes.Repeat([]byte("same plaintext "), 100)
	a, b := encrypt(t, dk, nil, pt, len(pt)), encrypt(t, dk, nil, pt, len(pt))
	if bytes.Equal(a[keys.StreamHeaderSize:], b[keys.StreamHeaderSize:]) {
		t.Fatal("two streams of the same plaintext have the same segments: nonce reuse")
	}
	if bytes.Contains(a, []byte("same plaintext")) {
		t.Fatal("plaintext visible in the stream")
	}
}

func TestStreamSizes(t *testing.T) {
	h := int64(keys.StreamHeaderSize)
	for _, tc := range []struct{ plain, cipher int64 }{
		{0, h + 16},
		{1, h + 17},
		{seg, h + segCipher},
		{seg + 1, h + segCipher + 17},
		{2 * seg, h + 2*segCipher},
		{keys.StreamMaxSize, h + keys.StreamMaxSize + 16*keys.StreamMaxSegments},
	} {
		if got := keys.StreamCipherSize(tc.plain); got != tc.cipher {
			t.Errorf("StreamCipherSize(%d): got %d, want %d", tc.plain, got, tc.cipher)
		}
		if got, err := keys.StreamPlaintextSize(tc.cipher); got != tc.plain || err != nil {
			t.Errorf("StreamPlaintextSize(%d): got %d, %v; want %d", tc.cipher, got, err, tc.plain)
		}
	}
	for _, plain := range []int64{-1, keys.StreamMaxSize + 1} {
		if got := keys.StreamCipherSize(plain); got != -1 {
			t.Errorf("StreamCipherSize(%d): got %d, want -1", plain, got)
		}
	}
	for _, c := range []int64{-1, 0, h, h + 15, h + segCipher + 1, h + segCipher + 15, h + segCipher + 16,
		h + keys.StreamMaxSize + 16*keys.StreamMaxSegments + 1} {
		if _, err := keys.StreamPlaintextSize(c); !errors.Is(err, keys.ErrDecrypt) {
			t.Errorf("StreamPlaintextSize(%d): got %v, want ErrDecrypt", c, err)
		}
	}
	// Every size in a range around segment boundaries maps back and forth.
	for plain := int64(0); plain < 3*seg+40; plain += 1 + plain%977 {
		c := keys.StreamCipherSize(plain)
		if got, err := keys.StreamPlaintextSize(c); got != plain || err != nil {
			t.Fatalf("StreamPlaintextSize(StreamCipherSize(%d)): got %d, %v", plain, got, err)
		}
	}
}

// mustFail checks that a stream does not decrypt, and that what the reader
// gave before failing is whole segments of the original, up to but not
// including the first bad one.
func mustFail(t *testing.T, name string, ct []byte, dk keys.DataKey, ad, pt []byte, maxGood int) {
	t.Helper()
	got, err := decrypt(ct, dk, ad)
	if !errors.Is(err, keys.ErrDecrypt) {
		t.Errorf("%s: got %v, want ErrDecrypt", name, err)
	}
	if err != nil && err.Error() != keys.ErrDecrypt.Error() {
		t.Errorf("%s: error says more than ErrDecrypt: %q", name, err)
	}
	if len(got)%seg != 0 || len(got) > maxGood*seg || !bytes.Equal(got, pt[:len(got)]) {
		t.Errorf("%s: returned %d bytes before the error, want at most %d whole segments of the original", name, len(got), maxGood)
	}
}

func TestStreamTamper(t *testing.T) {
	dk := newDataKey(t, "dk_1")
	ad := keys.AD("ten_a", "rec_1", "att_1", "1")
	pt := plaintext(2*seg+100, 1)
	ct := encrypt(t, dk, ad, pt, 4096)
	for i := range keys.StreamHeaderSize {
		bad := bytes.Clone(ct)
		bad[i] ^= 0x01
		mustFail(t, fmt.Sprintf("header byte %d", i), bad, dk, ad, pt, 0)
	}
	_, segs := segments(ct)
	off := keys.StreamHeaderSize
	for i, s := range segs {
		for _, j := range []int{0, len(s)/2 - 8, len(s) - 17, len(s) - 16, len(s) - 1} {
			bad := bytes.Clone(ct)
			bad[off+j] ^= 0x80
			mustFail(t, fmt.Sprintf("segment %d byte %d", i, j), bad, dk, ad, pt, i)
		}
		off += len(s)
	}
}

func TestStreamTruncateReorderExtend(t *testing.T) {
	dk := newDataKey(t, "dk_1")
	ad := keys.AD("ten_a", "rec_1", "att_1", "1")
	for _, size := range []int{3*seg + 100, 4 * seg} { // four segments, the last short or full
		pt := plaintext(size, 2)
		ct := encrypt(t, dk, ad, pt, seg)
		h, s := segments(ct)
		for _, tc := range []struct {
			name    string
			ct      []byte
			maxGood int
		}{
			{"empty", nil, 0},
			{"half a header", ct[:keys.StreamHeaderSize/2], 0},
			{"header only", h, 0},
			{"cut inside segment 0", ct[:keys.StreamHeaderSize+100], 0},
			{"cut after segment 0", join(h, s[0]), 1},
			{"cut after segment 0 and 16 bytes", join(h, s[0], s[1][:16]), 1},
			{"cut after segment 1", join(h, s[0], s[1]), 2},
			{"cut after segment 2", join(h, s[0], s[1], s[2]), 3},
			{"last byte dropped", ct[:len(ct)-1], 3},
			{"last tag dropped", ct[:len(ct)-16], 3},
			{"segment 1 dropped", join(h, s[0], s[2], s[3]), 1},
			{"segments 0 and 1 swapped", join(h, s[1], s[0], s[2], s[3]), 0},
			{"last two swapped", join(h, s[0], s[1], s[3], s[2]), 2},
			{"segment 0 twice", join(h, s[0], s[0], s[1], s[2], s[3]), 1},
			{"last segment twice", join(h, s[0], s[1], s[2], s[3], s[3]), 3},
			{"one byte appended", join(ct, []byte{0}), 3},
			{"16 bytes appended", join(ct, make([]byte, 16)), 3},
			{"segment 0 appended", join(ct, s[0]), 3},
			{"header appended", join(ct, h), 3},
		} {
			mustFail(t, fmt.Sprintf("size %d: %s", size, tc.name), tc.ct, dk, ad, pt, tc.maxGood)
		}
	}
}

func TestStreamBinding(t *testing.T) {
	dk, other := newDataKey(t, "a_key"), newDataKey(t, "b_key")
	ad := keys.AD("ten_a", "rec_1", "att_1", "1")
	pt := plaintext(seg+10, 3)
	ct := encrypt(t, dk, ad, pt, seg)
	for _, bad := range [][]byte{nil, keys.AD("ten_b", "rec_1", "att_1", "1"), keys.AD("ten_a", "rec_2", "att_1", "1"),
		keys.AD("ten_a", "rec_1", "att_2", "1"), keys.AD("ten_a", "rec_1", "att_1", "2")} {
		mustFail(t, fmt.Sprintf("ad %q", bad), ct, dk, bad, pt, 0)
	}
	mustFail(t, "other data key", ct, other, ad, pt, 0)

	// Another stream's header, with the same key and ad, does not open these segments.
	h2, _ := segments(encrypt(t, dk, ad, pt, seg))
	_, s := segments(ct)
	mustFail(t, "header of another stream", join(h2, s[0], s[1]), dk, ad, pt, 0)
	// The header of a stream for another record does not open here.
	h3, _ := segments(encrypt(t, dk, keys.AD("ten_a", "rec_2", "att_1", "1"), pt, seg))
	mustFail(t, "header of another record", join(h3, s[0], s[1]), dk, ad, pt, 0)

	for name, tc := range map[string]struct {
		header []byte
		dk     keys.DataKey
		ad     []byte
	}{
		"other key":             {ct[:keys.StreamHeaderSize], other, ad},
		"other ad":              {ct[:keys.StreamHeaderSize], dk, keys.AD("ten_b", "rec_1", "att_1", "1")},
		"other record's header": {h3, dk, ad},
		"short header":          {ct[:keys.StreamHeaderSize-1], dk, ad},
	} {
		if _, err := keys.OpenStream(tc.header, int64(len(ct)), tc.dk, tc.ad); !errors.Is(err, keys.ErrDecrypt) {
			t.Errorf("OpenStream, %s: got %v, want ErrDecrypt", name, err)
		}
	}
	// A header that opens, with segments of another stream: range reads fail.
	st, err := keys.OpenStream(h2, int64(len(ct)), dk, ad)
	if err != nil {
		t.Fatal(err)
	}
	cOff, cLen := st.CipherRange(0, 10)
	if _, err := io.ReadAll(st.DecryptRange(bytes.NewReader(ct[cOff:cOff+cLen]), 0, 10)); !errors.Is(err, keys.ErrDecrypt) {
		t.Errorf("range read under another stream's header: got %v, want ErrDecrypt", err)
	}
}

// TestStreamFormat reads and writes streams by the format described in
// stream.go, with nothing from the package but AD, Seal, Open and NewAEAD.
func TestStreamFormat(t *testing.T) {
	dk := newDataKey(t, "dk_1")
	ad := keys.AD("ten_a", "rec_1", "att_1", "1")
	headerAD := keys.AD("rempart/stream/v1", "RMPS\x01", string(ad))
	nonce := func(i int, last bool) []byte {
		n := make([]byte, 12)
		binary.BigEndian.PutUint32(n[7:], uint32(i))
		if last {
			n[11] = 1
		}
		return n
	}

	// The writer's output, opened by hand.
	pt := plaintext(2*seg+3, 11)
	h, segs := segments(encrypt(t, dk, ad, pt, seg))
	if got := string(h[:5]); got != "RMPS\x01" {
		t.Fatalf("header prefix: got %q, want RMPS\\x01", got)
	}
	key, err := keys.Open(dk.AEAD, h[5:], headerAD)
	if err != nil || len(key) != 32 {
		t.Fatalf("open object key: got %d bytes, %v; want 32 bytes", len(key), err)
	}
	obj, _ := keys.NewAEAD(key)
	var got []byte
	for i, s := range segs {
		p, err := obj.Open(nil, nonce(i, i == len(segs)-1), s, nil)
		if err != nil {
			t.Fatalf("segment %d: %v", i, err)
		}
		got = append(got, p...)
	}
	if !bytes.Equal(got, pt) {
		t.Fatal("segments opened by hand: plaintext differs")
	}

	// Streams made by hand, under a key of our choosing.
	build := func(parts ...[]byte) []byte {
		out := append([]byte("RMPS\x01"), keys.Seal(dk.AEAD, key, headerAD)...)
		for i, p := range parts {
			out = obj.Seal(out, nonce(i, i == len(parts)-1), p, nil)
		}
		return out
	}
	if got, err := decrypt(build(pt[:seg], pt[seg:2*seg], pt[2*seg:]), dk, ad); err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("stream made by hand: got %d bytes, %v; want %d bytes", len(got), err, len(pt))
	}
	if got, err := decrypt(build(nil), dk, ad); err != nil || len(got) != 0 {
		t.Fatalf("empty stream made by hand: got %d bytes, %v; want 0 bytes", len(got), err)
	}
	// Streams that authenticate segment by segment but break the layout.
	mustFail(t, "empty last segment after a full one", build(pt[:seg], nil), dk, ad, pt, 1)
	mustFail(t, "short segment before the last", build(pt[:10], pt[10:seg+10]), dk, ad, pt, 0)
	mustFail(t, "oversized last segment", build(pt[:seg+1]), dk, ad, pt, 0)
	if _, err := keys.OpenStream(h, int64(len(build(pt[:seg], nil))), dk, ad); !errors.Is(err, keys.ErrDecrypt) {
		t.Errorf("OpenStream with an empty last segment after a full one: got %v, want ErrDecrypt", err)
	}
}

// failWriter fails every write after the first ok bytes.
type failWriter struct{ ok int }

func (f *failWriter) Write(p []byte) (int, error) {
	if len(p) > f.ok {
		n := f.ok
		f.ok = 0
		return n, errors.New("disk full")
	}
	f.ok -= len(p)
	return len(p), nil
}

func TestEncryptWriterContract(t *testing.T) {
	dk := newDataKey(t, "dk_1")
	pt := plaintext(2*seg+5, 4)

	// Without Close, the output is truncated and does not decrypt.
	for _, n := range []int{0, 5, seg, seg + 5, 2*seg + 5} {
		var out bytes.Buffer
		w, err := keys.NewEncryptWriter(&out, dk, nil)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(pt[:n])
		// A full segment is sealed only once a byte follows it.
		sealed, want := max(n-1, 0)/seg, 0
		if sealed > 0 {
			want = keys.StreamHeaderSize + sealed*segCipher
		}
		if got := out.Len(); got != want {
			t.Errorf("unclosed, %d bytes written: got %d bytes out, want %d", n, got, want)
		}
		mustFail(t, fmt.Sprintf("unclosed after %d bytes", n), out.Bytes(), dk, nil, pt, sealed)
	}

	// Write after Close fails; a second Close returns the first result.
	var out bytes.Buffer
	w, _ := keys.NewEncryptWriter(&out, dk, nil)
	w.Write([]byte("x"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := w.Write([]byte("y")); n != 0 || err == nil {
		t.Errorf("write after close: got %d, %v; want 0, error", n, err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second close: got %v, want nil", err)
	}
	if got, err := decrypt(out.Bytes(), dk, nil); string(got) != "x" || err != nil {
		t.Errorf("decrypt: got %q, %v; want x", got, err)
	}

	// An error of the underlying writer is returned, wrapped, and sticks.
	fw := &failWriter{ok: keys.StreamHeaderSize + 10}
	w, err := keys.NewEncryptWriter(fw, dk, nil)
	if err != nil {
		t.Fatal("NewEncryptWriter wrote to w: got an error, want none before the first segment")
	}
	if _, err := w.Write(pt); err == nil || err.Error() != "write stream: disk full" {
		t.Errorf("write: got %v, want write stream: disk full", err)
	}
	if _, err := w.Write(pt[:1]); err == nil {
		t.Error("write after a failed write: got nil error")
	}
	if err := w.Close(); err == nil {
		t.Error("close after a failed write: got nil error")
	}

	if _, err := keys.NewEncryptWriter(io.Discard, keys.DataKey{ID: "none"}, nil); err == nil {
		t.Error("NewEncryptWriter without an AEAD: got nil error")
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestStreamRange(t *testing.T) {
	dk := newDataKey(t, "dk_1")
	ad := keys.AD("ten_a", "rec_1", "att_1", "1")
	pt := plaintext(5*seg+777, 5)
	ct := encrypt(t, dk, ad, pt, 10000)
	st, err := keys.OpenStream(ct[:keys.StreamHeaderSize], int64(len(ct)), dk, ad)
	if err != nil {
		t.Fatal(err)
	}
	p := int64(len(pt))
	if got := st.PlaintextSize(); got != p {
		t.Fatalf("PlaintextSize: got %d, want %d", got, p)
	}
	type rng struct{ off, n int64 }
	ranges := []rng{{0, 0}, {0, 1}, {0, p}, {p - 1, 1}, {p, 0}, {p, 10}, {p - 5, 100}, {seg - 1, 2}, {seg, seg},
		{seg, seg + 1}, {5 * seg, 777}, {5*seg - 1, 1}, {0, 1 << 62}, {-5, 10}, {-5, 3}, {p + 1, 1}, {3, -1}}
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		off := rnd.Int64N(p + 1)
		ranges = append(ranges, rng{off, rnd.Int64N(p - off + 1)})
	}
	for _, r := range ranges {
		// The expected range, clamped to the plaintext, and the segments that hold it.
		lo, hi := max(r.off, 0), min(r.off+r.n, p)
		var wantCOff, wantCLen int64
		if lo < hi {
			first, last := lo/seg, (hi-1)/seg
			wantCOff = keys.StreamHeaderSize + first*segCipher
			wantCLen = min(keys.StreamHeaderSize+(last+1)*segCipher, int64(len(ct))) - wantCOff
		} else {
			lo, hi = 0, 0
		}
		cOff, cLen := st.CipherRange(r.off, r.n)
		if cOff != wantCOff || cLen != wantCLen {
			t.Fatalf("CipherRange(%d, %d): got %d, %d; want %d, %d", r.off, r.n, cOff, cLen, wantCOff, wantCLen)
		}
		// Fed all of the rest of the stream, it reads only the segments it needs.
		cr := &countingReader{r: bytes.NewReader(ct[cOff:])}
		got, err := io.ReadAll(st.DecryptRange(cr, r.off, r.n))
		if err != nil || !bytes.Equal(got, pt[lo:hi]) {
			t.Fatalf("DecryptRange(%d, %d): got %d bytes, %v; want plaintext [%d, %d)", r.off, r.n, len(got), err, lo, hi)
		}
		if cr.n != cLen {
			t.Fatalf("DecryptRange(%d, %d): read %d bytes of ciphertext, want %d", r.off, r.n, cr.n, cLen)
		}
		if err := iotest.TestReader(st.DecryptRange(iotest.HalfReader(bytes.NewReader(ct[cOff:cOff+cLen])), r.off, r.n), pt[lo:hi]); err != nil {
			t.Fatalf("DecryptRange(%d, %d): %v", r.off, r.n, err)
		}
		var buf bytes.Buffer
		if _, err := io.Copy(&buf, st.DecryptRange(bytes.NewReader(ct[cOff:cOff+cLen]), r.off, r.n)); err != nil || !bytes.Equal(buf.Bytes(), pt[lo:hi]) {
			t.Fatalf("DecryptRange(%d, %d) with io.Copy: got %d bytes, %v", r.off, r.n, buf.Len(), err)
		}
	}
}

func TestStreamRangeTamper(t *testing.T) {
	dk := newDataKey(t, "dk_1")
	ad := keys.AD("ten_a", "rec_1", "att_1", "1")
	pt := plaintext(3*seg+50, 6)
	ct := encrypt(t, dk, ad, pt, seg)
	h, s := segments(ct)
	open := func(size int64) *keys.Stream {
		t.Helper()
		st, err := keys.OpenStream(h, size, dk, ad)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	read := func(st *keys.Stream, data []byte, off, n int64) ([]byte, error) {
		cOff, cLen := st.CipherRange(off, n)
		return io.ReadAll(st.DecryptRange(bytes.NewReader(data[cOff:min(cOff+cLen, int64(len(data)))]), off, n))
	}
	st := open(int64(len(ct)))

	for i := range s {
		bad := bytes.Clone(ct)
		bad[keys.StreamHeaderSize+i*segCipher+7] ^= 1
		if got, err := read(st, bad, int64(i*seg), 10); !errors.Is(err, keys.ErrDecrypt) || len(got) != 0 {
			t.Errorf("segment %d altered: got %d bytes, %v; want 0 bytes, ErrDecrypt", i, len(got), err)
		}
		// Alterations outside the range are not read.
		if got, err := read(st, bad, int64(((i+1)%len(s))*seg), 10); err != nil || len(got) != 10 {
			t.Errorf("segment %d altered, range elsewhere: got %d bytes, %v; want 10 bytes", i, len(got), err)
		}
	}
	// A segment served from the wrong position does not open.
	cOff, _ := st.CipherRange(seg, 10)
	if _, err := io.ReadAll(st.DecryptRange(bytes.NewReader(ct[cOff+segCipher:]), seg, 10)); !errors.Is(err, keys.ErrDecrypt) {
		t.Errorf("segment 2 served as segment 1: got %v, want ErrDecrypt", err)
	}
	// A short range read from storage is an error, not a short plaintext.
	cOff, cLen := st.CipherRange(0, 2*seg)
	if _, err := io.ReadAll(st.DecryptRange(bytes.NewReader(ct[cOff:cOff+cLen-1]), 0, 2*seg)); !errors.Is(err, keys.ErrDecrypt) {
		t.Errorf("short ciphertext range: got %v, want ErrDecrypt", err)
	}
	// Swapped segments, seen by a range read of either.
	swapped := join(h, s[1], s[0], s[2], s[3])
	if _, err := read(st, swapped, 0, 10); !errors.Is(err, keys.ErrDecrypt) {
		t.Errorf("swapped segments: got %v, want ErrDecrypt", err)
	}

	// Truncated after segment 2: a read that reaches the new final segment
	// fails, since it was not sealed as the last.
	cut := join(h, s[0], s[1], s[2])
	stCut := open(int64(len(cut)))
	if _, err := read(stCut, cut, 3*seg-10, 10); !errors.Is(err, keys.ErrDecrypt) {
		t.Errorf("truncated stream, read of the final segment: got %v, want ErrDecrypt", err)
	}
	// A read of earlier segments cannot see the truncation (documented).
	if got, err := read(stCut, cut, 0, 10); err != nil || !bytes.Equal(got, pt[:10]) {
		t.Errorf("truncated stream, read of segment 0: got %d bytes, %v; want 10 bytes", len(got), err)
	}
	// A size that no stream has is refused.
	if _, err := keys.OpenStream(h, int64(len(ct)-len(s[3])+5), dk, ad); !errors.Is(err, keys.ErrDecrypt) {
		t.Errorf("OpenStream with an impossible size: got %v, want ErrDecrypt", err)
	}
	// A stream claimed longer than it is: the last segment is not where it
	// should be.
	longer := join(h, s[0], s[1], s[2], s[3][:len(s[3])-1])
	stLong := open(int64(len(ct)))
	if _, err := read(stLong, longer, 3*seg, 10); !errors.Is(err, keys.ErrDecrypt) {
		t.Errorf("short final segment: got %v, want ErrDecrypt", err)
	}
}

func TestStreamNoAllocsPerSegment(t *testing.T) {
	dk := newDataKey(t, "dk_1")
	w, err := keys.NewEncryptWriter(io.Discard, dk, nil)
	if err != nil {
		t.Fatal(err)
	}
	chunk := plaintext(seg, 7)
	if n := testing.AllocsPerRun(20, func() { w.Write(chunk) }); n != 0 {
		t.Errorf("encrypt: got %v allocations per segment, want 0", n)
	}
	ct := encrypt(t, dk, nil, plaintext(30*seg, 8), seg)
	r, err := keys.NewDecryptReader(bytes.NewReader(ct), dk, nil)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, seg)
	if n := testing.AllocsPerRun(20, func() { io.ReadFull(r, buf) }); n != 0 {
		t.Errorf("decrypt: got %v allocations per segment, want 0", n)
	}
	st, err := keys.OpenStream(ct[:keys.StreamHeaderSize], int64(len(ct)), dk, nil)
	if err != nil {
		t.Fatal(err)
	}
	cOff, _ := st.CipherRange(0, 25*seg)
	rr := st.DecryptRange(bytes.NewReader(ct[cOff:]), 0, 25*seg)
	io.ReadFull(rr, buf) // the first segment allocates the buffer
	if n := testing.AllocsPerRun(20, func() { io.ReadFull(rr, buf) }); n != 0 {
		t.Errorf("range read: got %v allocations per segment, want 0", n)
	}
}

// patternReader yields n bytes: a random block, over and over. The block's
// length is odd, so no two segments of a stream hold the same plaintext.
type patternReader struct {
	block []byte
	pos   int64
	n     int64
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.n == 0 {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.n)]
	for k := 0; k < len(b); {
		c := copy(b[k:], p.block[p.pos%int64(len(p.block)):])
		k, p.pos = k+c, p.pos+int64(c)
	}
	p.n -= int64(len(b))
	return len(b), nil
}

func TestStreamLargeConstantMemory(t *testing.T) {
	size := int64(1 << 30)
	if testing.Short() {
		size = 64 << 20
	}
	dk := newDataKey(t, "dk_1")
	ad := keys.AD("ten_a", "rec_1", "att_1", "1")

	block := plaintext(1<<20+1, 9)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)

	pr, pw := io.Pipe()
	defer pr.Close() // stops the writer if the test fails early
	// maphash is not collision resistant, but nothing here is adversarial,
	// and it runs at memory speed where SHA-256 would take most of the time.
	seed := maphash.MakeSeed()
	var src, dst maphash.Hash
	src.SetSeed(seed)
	dst.SetSeed(seed)
	go func() {
		w, err := keys.NewEncryptWriter(pw, dk, ad)
		if err == nil {
			_, err = io.Copy(w, io.TeeReader(&patternReader{block: block, n: size}, &src))
		}
		if err == nil {
			err = w.Close()
		}
		pw.CloseWithError(err)
	}()
	r, err := keys.NewDecryptReader(pr, dk, ad)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(&dst, r)
	if err != nil || n != size {
		t.Fatalf("decrypt: got %d bytes, %v; want %d", n, err, size)
	}
	if got, want := dst.Sum64(), src.Sum64(); got != want {
		t.Fatalf("plaintext hash: got %x, want %x", got, want)
	}

	runtime.ReadMemStats(&after)
	const bound = 8 << 20
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > bound {
		t.Errorf("allocated %d bytes for a %d-byte stream, want at most %d", alloc, size, bound)
	}
	t.Logf("%d MiB stream: %d KiB allocated in all", size>>20, (after.TotalAlloc-before.TotalAlloc)>>10)
}

// FuzzDecryptStream checks that a mutated stream never panics and never
// yields plaintext other than the original's.
func FuzzDecryptStream(f *testing.F) {
	dk := newDataKey(f, "fuzz")
	ad := keys.AD("ten_a", "rec_1", "att_1", "1")
	originals := [][]byte{{}, []byte("hello, stream"), plaintext(seg+100, 10)}
	for _, pt := range originals {
		f.Add(encrypt(f, dk, ad, pt, 999), uint32(0), uint32(20))
	}
	f.Add(encrypt(f, dk, ad, originals[2], seg), uint32(seg-3), uint32(seg))
	f.Fuzz(func(t *testing.T, ct []byte, off, n uint32) {
		isPrefix := func(got []byte, at int64) bool {
			for _, pt := range originals {
				if at+int64(len(got)) <= int64(len(pt)) && bytes.Equal(got, pt[at:at+int64(len(got))]) {
					return true
				}
			}
			return false
		}
		got, err := decrypt(ct, dk, ad)
		if !isPrefix(got, 0) {
			t.Fatalf("returned %d bytes that are no original's prefix (error %v)", len(got), err)
		}
		if err == nil && !bytes.Equal(got, originals[0]) && !bytes.Equal(got, originals[1]) && !bytes.Equal(got, originals[2]) {
			t.Fatalf("decrypted to %d bytes that are not an original", len(got))
		}
		if len(ct) < keys.StreamHeaderSize {
			return
		}
		st, err := keys.OpenStream(ct[:keys.StreamHeaderSize], int64(len(ct)), dk, ad)
		if err != nil {
			return
		}
		cOff, cLen := st.CipherRange(int64(off), int64(n))
		got, _ = io.ReadAll(st.DecryptRange(bytes.NewReader(ct[cOff:cOff+cLen]), int64(off), int64(n)))
		if len(got) > 0 && !isPrefix(got, int64(off)) {
			t.Fatalf("range [%d, +%d) yielded %d bytes that are not the original's", off, n, len(got))
		}
	})
}

// TestResealStreamHeader re-seals a stream's header under another data key:
// the stream then opens under the new key only, its segments untouched.
func TestResealStreamHeader(t *testing.T) {
	from, to := newDataKey(t, "a_from"), newDataKey(t, "b_to")
	ad := []byte("tenant/record/attachment")
	plain := bytes.Repeat([]byte("recording "), 20000)
	var buf bytes.Buffer
	w, err := keys.NewEncryptWriter(&buf, from, ad)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(plain)
	w.Close()
	ct := buf.Bytes()
	h, err := keys.ResealStreamHeader(ct[:keys.StreamHeaderSize], from, to, ad)
	if err != nil {
		t.Fatal(err)
	}
	resealed := append(append([]byte(nil), h...), ct[keys.StreamHeaderSize:]...)
	r, err := keys.NewDecryptReader(bytes.NewReader(resealed), to, ad)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("resealed stream under the new key: %d bytes, %v", len(got), err)
	}
	if _, err := keys.NewDecryptReader(bytes.NewReader(resealed), from, ad); !errors.Is(err, keys.ErrDecrypt) {
		t.Fatalf("resealed stream under the old key: got %v, want ErrDecrypt", err)
	}
	if _, err := keys.ResealStreamHeader(ct[:keys.StreamHeaderSize], to, from, ad); !errors.Is(err, keys.ErrDecrypt) {
		t.Fatalf("reseal from the wrong key: got %v, want ErrDecrypt", err)
	}
	if _, err := keys.ResealStreamHeader(ct[:keys.StreamHeaderSize], from, to, []byte("other")); !errors.Is(err, keys.ErrDecrypt) {
		t.Fatalf("reseal with other associated data: got %v, want ErrDecrypt", err)
	}
}
