package recovery

import "testing"

// BenchmarkMatch checks the last of DefaultCount codes: every entry is
// hashed whichever matches.
func BenchmarkMatch(b *testing.B) {
	codes, hashes, err := Generate(DefaultCount)
	if err != nil {
		b.Fatal(err)
	}
	in := codes[len(codes)-1]
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := Match(hashes, in); !ok {
			b.Fatal("no match")
		}
	}
}
