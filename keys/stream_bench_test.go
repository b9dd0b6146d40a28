package keys_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/rempart/rempart/keys"
)

const benchSize = 64 << 20

// onlyReader and onlyWriter hide WriteTo and ReadFrom, so io.Copy moves the
// data through its own 32 KiB buffer, as an HTTP body does.
type onlyReader struct{ io.Reader }

type onlyWriter struct{ io.Writer }

func benchEncrypt(b *testing.B, src func([]byte) io.Reader) {
	dk := newDataKey(b, "dk_1")
	ad := keys.AD("ten_a", "rec_1", "att_1", "1")
	pt := plaintext(benchSize, 1)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		w, err := keys.NewEncryptWriter(io.Discard, dk, ad)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(w, src(pt)); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStreamEncrypt64MiB writes the whole plaintext in one call.
func BenchmarkStreamEncrypt64MiB(b *testing.B) {
	benchEncrypt(b, func(p []byte) io.Reader { return bytes.NewReader(p) })
}

// BenchmarkStreamEncrypt64MiBCopy writes 32 KiB at a time.
func BenchmarkStreamEncrypt64MiBCopy(b *testing.B) {
	benchEncrypt(b, func(p []byte) io.Reader { return onlyReader{bytes.NewReader(p)} })
}

func benchDecrypt(b *testing.B, copy func(io.Reader) error) {
	dk := newDataKey(b, "dk_1")
	ad := keys.AD("ten_a", "rec_1", "att_1", "1")
	ct := encrypt(b, dk, ad, plaintext(benchSize, 1), benchSize)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		r, err := keys.NewDecryptReader(bytes.NewReader(ct), dk, ad)
		if err != nil {
			b.Fatal(err)
		}
		if err := copy(r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStreamDecrypt64MiB hands each segment straight to the writer.
func BenchmarkStreamDecrypt64MiB(b *testing.B) {
	benchDecrypt(b, func(r io.Reader) error { _, err := io.Copy(io.Discard, r); return err })
}

// BenchmarkStreamDecrypt64MiBCopy reads 32 KiB at a time.
func BenchmarkStreamDecrypt64MiBCopy(b *testing.B) {
	benchDecrypt(b, func(r io.Reader) error { _, err := io.Copy(onlyWriter{io.Discard}, onlyReader{r}); return err })
}

// BenchmarkStreamDecryptRange1MiB reads 1 MiB from the middle of a 64 MiB
// stream, as an HTTP range request would.
func BenchmarkStreamDecryptRange1MiB(b *testing.B) {
	dk := newDataKey(b, "dk_1")
	ad := keys.AD("ten_a", "rec_1", "att_1", "1")
	ct := encrypt(b, dk, ad, plaintext(benchSize, 1), benchSize)
	st, err := keys.OpenStream(ct[:keys.StreamHeaderSize], int64(len(ct)), dk, ad)
	if err != nil {
		b.Fatal(err)
	}
	off, n := int64(benchSize/2+12345), int64(1<<20)
	cOff, cLen := st.CipherRange(off, n)
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := io.Copy(io.Discard, st.DecryptRange(bytes.NewReader(ct[cOff:cOff+cLen]), off, n)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGCMSeal64KiB is the bare AES-256-GCM cost of one segment, the
// floor for the benchmarks above.
func BenchmarkGCMSeal64KiB(b *testing.B) {
	aead, _ := keys.NewAEAD(bytes.Repeat([]byte{7}, 32))
	buf := make([]byte, seg, segCipher)
	nonce := make([]byte, 12)
	b.SetBytes(seg)
	for b.Loop() {
		aead.Seal(buf[:0], nonce, buf[:seg], nil)
	}
}
