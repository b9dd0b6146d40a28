package password

import (
	"context"
	"testing"
)

// BenchmarkHash measures one hash at DefaultParams (the cost of a sign-in).
func BenchmarkHash(b *testing.B) {
	h, err := NewHasher(HasherConfig{MaxConcurrent: 1})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash(ctx, "Gl4cier-Otter-Hum"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBlocklist measures Contains on a password that misses every
// form, the most lookups one call makes.
func BenchmarkBlocklist(b *testing.B) {
	bl := DefaultBlocklist()
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := bl.Contains("!!Gl4cier-Otter-Hum2024!!"); ok {
			b.Fatal("unexpected match")
		}
	}
}

// BenchmarkBlocklistLoad measures decoding the embedded list (once per
// process).
func BenchmarkBlocklistLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseBlocklistGz(blocklistGz); err != nil {
			b.Fatal(err)
		}
	}
}
