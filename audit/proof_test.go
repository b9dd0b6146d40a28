package audit_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/bits"
	"testing"

	"github.com/rempart/rempart/audit"
)

// memLog is a log kept in memory the way storage keeps it: leaf hashes with
// the entries, and the nodes that Tree.Append visits.
type memLog struct {
	nodes map[audit.NodeID][]byte
	roots [][]byte // roots[n] is the root at size n
	reads int      // ids read so far
}

func newMemLog(t testing.TB, n int) *memLog {
	t.Helper()
	l := &memLog{nodes: map[audit.NodeID][]byte{}}
	tree := audit.NewTree()
	l.roots = append(l.roots, tree.Root())
	for i, leaf := range refLeaves(n) {
		l.nodes[audit.NodeID{Level: 0, Index: uint64(i)}] = leaf
		growTree(t, tree, [][]byte{leaf}, func(id audit.NodeID, h []byte) { l.nodes[id] = append([]byte(nil), h...) })
		l.roots = append(l.roots, tree.Root())
	}
	return l
}

func (l *memLog) read(ids []audit.NodeID) ([][]byte, error) {
	l.reads += len(ids)
	out := make([][]byte, len(ids))
	for i, id := range ids {
		h, ok := l.nodes[id]
		if !ok {
			return nil, fmt.Errorf("no node %v", id)
		}
		out[i] = h
	}
	return out, nil
}

// flipped returns a deep copy of p with one bit of element i flipped.
func flipped(p [][]byte, i int) [][]byte {
	q := make([][]byte, len(p))
	for j := range p {
		q[j] = append([]byte(nil), p[j]...)
	}
	q[i][len(q[i])/2] ^= 0x10
	return q
}

func TestInclusionProofs(t *testing.T) {
	l := newMemLog(t, 1100)
	check := func(index, size uint64) {
		t.Helper()
		before := l.reads
		p, err := audit.InclusionProof(index, size, l.read)
		if err != nil {
			t.Fatalf("InclusionProof(%d, %d): %v", index, size, err)
		}
		if got, max := l.reads-before, 2*bits.Len64(size); got > max {
			t.Errorf("InclusionProof(%d, %d): got %d node reads, want at most %d", index, size, got, max)
		}
		leaf, root := refLeaf(int(index)), l.roots[size]
		if err := audit.VerifyInclusion(index, size, leaf, p, root); err != nil {
			t.Fatalf("VerifyInclusion(%d, %d): %v", index, size, err)
		}
		for i := range p {
			if audit.VerifyInclusion(index, size, leaf, flipped(p, i), root) == nil {
				t.Fatalf("VerifyInclusion(%d, %d) with hash %d flipped: got nil error, want one", index, size, i)
			}
		}
		if audit.VerifyInclusion(index, size, flipped([][]byte{leaf}, 0)[0], p, root) == nil {
			t.Fatalf("VerifyInclusion(%d, %d) of another leaf: got nil error, want one", index, size)
		}
		if audit.VerifyInclusion(index, size, leaf, p, flipped([][]byte{root}, 0)[0]) == nil {
			t.Fatalf("VerifyInclusion(%d, %d) against another root: got nil error, want one", index, size)
		}
		if index+1 < size && audit.VerifyInclusion(index+1, size, leaf, p, root) == nil {
			t.Fatalf("VerifyInclusion(%d, %d) at the next index: got nil error, want one", index, size)
		}
	}
	for size := uint64(1); size <= 70; size++ {
		for index := uint64(0); index < size; index++ {
			check(index, size)
		}
	}
	for _, size := range []uint64{511, 512, 513, 1023, 1024, 1025, 1100} {
		for _, index := range []uint64{0, 1, 255, 256, 500, size / 2, size - 2, size - 1} {
			if index < size {
				check(index, size)
			}
		}
	}
}

func TestConsistencyProofs(t *testing.T) {
	l := newMemLog(t, 1100)
	check := func(from, to uint64) {
		t.Helper()
		p, err := audit.ConsistencyProof(from, to, l.read)
		if err != nil {
			t.Fatalf("ConsistencyProof(%d, %d): %v", from, to, err)
		}
		r1, r2 := l.roots[from], l.roots[to]
		if err := audit.VerifyConsistency(from, to, p, r1, r2); err != nil {
			t.Fatalf("VerifyConsistency(%d, %d): %v", from, to, err)
		}
		for i := range p {
			if audit.VerifyConsistency(from, to, flipped(p, i), r1, r2) == nil {
				t.Fatalf("VerifyConsistency(%d, %d) with hash %d flipped: got nil error, want one", from, to, i)
			}
		}
		if from > 0 && audit.VerifyConsistency(from, to, p, flipped([][]byte{r1}, 0)[0], r2) == nil {
			t.Fatalf("VerifyConsistency(%d, %d) from another root: got nil error, want one", from, to)
		}
		if from > 0 && audit.VerifyConsistency(from, to, p, r1, flipped([][]byte{r2}, 0)[0]) == nil {
			t.Fatalf("VerifyConsistency(%d, %d) to another root: got nil error, want one", from, to)
		}
	}
	for to := uint64(0); to <= 70; to++ {
		for from := uint64(0); from <= to; from++ {
			check(from, to)
		}
	}
	for _, to := range []uint64{512, 513, 1024, 1100} {
		for _, from := range []uint64{1, 2, 3, 100, 255, 256, 257, 511, 512, to - 1, to} {
			check(from, to)
		}
	}
}

func TestProofErrors(t *testing.T) {
	l := newMemLog(t, 20)
	if _, err := audit.InclusionProof(20, 20, l.read); err == nil {
		t.Errorf("InclusionProof(20, 20): got nil error, want one")
	}
	if _, err := audit.ConsistencyProof(11, 10, l.read); err == nil {
		t.Errorf("ConsistencyProof(11, 10): got nil error, want one")
	}
	errStore := errors.New("store down")
	readers := map[string]audit.NodeReader{
		"failing":    func([]audit.NodeID) ([][]byte, error) { return nil, errStore },
		"too few":    func(ids []audit.NodeID) ([][]byte, error) { h, _ := l.read(ids); return h[1:], nil },
		"short hash": func(ids []audit.NodeID) ([][]byte, error) { h, _ := l.read(ids); h[0] = h[0][:31]; return h, nil },
	}
	for name, read := range readers {
		if _, err := audit.InclusionProof(3, 20, read); err == nil {
			t.Errorf("%s reader: InclusionProof: got nil error, want one", name)
		}
		if _, err := audit.ConsistencyProof(3, 20, read); err == nil {
			t.Errorf("%s reader: ConsistencyProof: got nil error, want one", name)
		}
	}
	if _, err := audit.InclusionProof(3, 20, readers["failing"]); !errors.Is(err, errStore) {
		t.Errorf("InclusionProof with a failing reader: got %v, want it to wrap %v", err, errStore)
	}
	// The slice the reader returns is not rewritten: storage may cache it.
	var kept [][]byte
	var keptIDs []audit.NodeID
	keep := func(ids []audit.NodeID) ([][]byte, error) {
		h, err := l.read(ids)
		kept, keptIDs = h, append([]audit.NodeID(nil), ids...)
		return h, err
	}
	if _, err := audit.InclusionProof(3, 19, keep); err != nil { // 19 = 16+2+1: the proof folds nodes
		t.Fatal(err)
	}
	fresh, _ := audit.InclusionProof(3, 19, l.read)
	if len(fresh) >= len(kept) {
		t.Fatalf("proof of 3 in 19: got %d hashes from %d nodes, want fewer", len(fresh), len(kept))
	}
	again, _ := l.read(keptIDs)
	for i := range kept {
		if !bytes.Equal(kept[i], again[i]) {
			t.Errorf("reader's slice element %d after the proof: got %x, want %x", i, kept[i], again[i])
		}
	}
}
