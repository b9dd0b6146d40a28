package totp

import "testing"

// BenchmarkVerify measures one accepted code with the default window of
// three steps (three HMAC-SHA1 computations).
func BenchmarkVerify(b *testing.B) {
	v, err := NewVerifier(fixedClock{now}, DefaultSkew)
	if err != nil {
		b.Fatal(err)
	}
	code := Code(rfcSecret, now)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(rfcSecret, code, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyWrong measures a refused code with the widest window: the
// cost of a guessing attempt.
func BenchmarkVerifyWrong(b *testing.B) {
	v, err := NewVerifier(fixedClock{now}, MaxSkew)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(rfcSecret, "000000", 0); err != ErrWrongCode && err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSVG(b *testing.B) {
	uri, err := KeyURI("Example", "alice@example.com", rfcSecret)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		q, err := EncodeQR(uri)
		if err != nil {
			b.Fatal(err)
		}
		_ = q.SVG()
	}
}
