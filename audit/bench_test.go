package audit_test

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rempart/rempart/audit"
)

// BenchmarkTreeAppend is the cost of one append to the log's right edge,
// with a visitor as storage passes (the server must append ≥ 50,000 entries/s).
func BenchmarkTreeAppend(b *testing.B) {
	tree := audit.NewTree()
	leaf := refLeaf(1)
	var nodes int
	visit := func(audit.NodeID, []byte) { nodes++ }
	b.ReportAllocs()
	for b.Loop() {
		if err := tree.Append(leaf, visit); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeAndHash is the cost of the canonical encoding and leaf hash
// of one typical entry.
func BenchmarkEncodeAndHash(b *testing.B) {
	e := entryFor(123456)
	e.Time = time.Now()
	b.ReportAllocs()
	for b.Loop() {
		body, err := audit.Encode(e)
		if err != nil {
			b.Fatal(err)
		}
		audit.LeafHash(body)
	}
}

// BenchmarkInclusionProof builds a proof in a log of 2^20 entries from an
// in-memory node store.
func BenchmarkInclusionProof(b *testing.B) {
	l := newMemLog(b, 1<<20)
	b.ReportAllocs()
	i := uint64(0)
	for b.Loop() {
		i = (i + 7919) % (1 << 20)
		if _, err := audit.InclusionProof(i, 1<<20, l.read); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify1M times the offline verifier (`rempart audit verify`) on an
// export of 1,000,000 entries with a checkpoint every 100,000 (target ≤ 3 s).
func BenchmarkVerify1M(b *testing.B) {
	const n = 1_000_000
	s, _ := newSigner(b, origin)
	path := filepath.Join(b.TempDir(), "export.jsonl")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	writeExport(b, w, s, n, 100_000)
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		rep, err := audit.Verify(f, s.VerifierKey(), nil)
		f.Close()
		if err != nil || !rep.OK || rep.Entries != n || rep.VerifiedSize != n {
			b.Fatalf("Verify: got %+v, %v; want OK with %d entries", rep, err, n)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
