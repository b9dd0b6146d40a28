package audit_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/bits"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
)

// refLeaf is the RFC 6962 leaf hash of "leaf i", computed without the
// package.
func refLeaf(i int) []byte {
	h := sha256.Sum256(append([]byte{0}, fmt.Sprintf("leaf %d", i)...))
	return h[:]
}

// refRoot is an independent, plain recursive RFC 6962 Merkle tree hash over
// leaf hashes (RFC 6962 §2.1).
func refRoot(leaves [][]byte) []byte {
	switch len(leaves) {
	case 0:
		h := sha256.Sum256(nil)
		return h[:]
	case 1:
		return leaves[0]
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	h := sha256.Sum256(append(append([]byte{1}, refRoot(leaves[:k])...), refRoot(leaves[k:])...))
	return h[:]
}

func refLeaves(n int) [][]byte {
	leaves := make([][]byte, n)
	for i := range leaves {
		leaves[i] = refLeaf(i)
	}
	return leaves
}

// growTree appends leaves to t, failing the test on error.
func growTree(t testing.TB, tree *audit.Tree, leaves [][]byte, visit func(audit.NodeID, []byte)) {
	t.Helper()
	for _, l := range leaves {
		if err := tree.Append(l, visit); err != nil {
			t.Fatalf("Append at size %d: %v", tree.Size(), err)
		}
	}
}

func TestEncodeCanonical(t *testing.T) {
	e := rempart.AuditEntry{Index: 7, Time: time.Date(2026, 3, 4, 5, 6, 7, 8000, time.UTC), TenantID: "ten_a", PrincipalID: "sa_b",
		CredentialID: "key_c", Action: "record.read", Resource: "tenants/ten_a/records/<r>", Outcome: rempart.OutcomeDenied,
		Reason: "forbidden", IP: "192.0.2.1", UserAgent: "ua", RequestID: "req_d"}
	got, err := audit.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	// These bytes are hashed into the log: changing them breaks every
	// existing log's verification (AUD-2).
	want := `{"index":7,"time":"2026-03-04T05:06:07.000008Z","tenant_id":"ten_a","principal_id":"sa_b","credential_id":"key_c",` +
		`"action":"record.read","resource":"tenants/ten_a/records/\u003cr\u003e","outcome":"denied","reason":"forbidden",` +
		`"ip":"192.0.2.1","user_agent":"ua","request_id":"req_d"}`
	if string(got) != want {
		t.Errorf("Encode: got %s, want %s", got, want)
	}
	got, err = audit.Encode(rempart.AuditEntry{Action: "a", Outcome: "success", Reason: "line\nbreak"})
	if err != nil {
		t.Fatal(err)
	}
	want = `{"index":0,"time":"0001-01-01T00:00:00Z","action":"a","outcome":"success","reason":"line\nbreak"}`
	if string(got) != want {
		t.Errorf("Encode of a minimal entry: got %s, want %s", got, want)
	}
}

func TestLeafHash(t *testing.T) {
	// RFC 6962 leaf hash of the empty entry: SHA-256(0x00).
	if got, want := hex.EncodeToString(audit.LeafHash(nil)), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"; got != want {
		t.Errorf("LeafHash(nil): got %s, want %s", got, want)
	}
	if got, want := audit.LeafHash([]byte("leaf 3")), refLeaf(3); !bytes.Equal(got, want) {
		t.Errorf("LeafHash: got %x, want %x", got, want)
	}
}

func TestTreeRootMatchesReference(t *testing.T) {
	leaves := refLeaves(70000)
	big := map[int]bool{511: true, 512: true, 513: true, 1023: true, 1024: true, 1025: true, 4097: true, 65535: true, 65536: true, 70000: true}
	tree := audit.NewTree()
	if got, want := hex.EncodeToString(tree.Root()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"; got != want {
		t.Errorf("empty root: got %s, want %s", got, want)
	}
	for n := 0; n <= len(leaves); n++ {
		if n <= 300 || big[n] {
			if got, want := tree.Size(), uint64(n); got != want {
				t.Fatalf("Size: got %d, want %d", got, want)
			}
			if got, want := tree.Root(), refRoot(leaves[:n]); !bytes.Equal(got, want) {
				t.Fatalf("size %d: got root %x, want %x", n, got, want)
			}
		}
		if n < len(leaves) {
			growTree(t, tree, leaves[n:n+1], nil)
		}
	}
}

func TestTreeRootIsACopy(t *testing.T) {
	tree := audit.NewTree()
	growTree(t, tree, refLeaves(4), nil)
	tree.Root()[0] ^= 1
	if got, want := tree.Root(), refRoot(refLeaves(4)); !bytes.Equal(got, want) {
		t.Errorf("root after editing a returned root: got %x, want %x", got, want)
	}
}

func TestTreeAppendVisitsCompletedNodes(t *testing.T) {
	leaves := refLeaves(300)
	tree := audit.NewTree()
	got := map[audit.NodeID][]byte{}
	visit := func(id audit.NodeID, h []byte) {
		if _, dup := got[id]; dup {
			t.Errorf("node %v visited twice", id)
		}
		got[id] = append([]byte(nil), h...)
	}
	// After n appends: every perfect subtree of level ≥ 1 inside [0, n), each
	// with its reference hash, and nothing else.
	want := map[audit.NodeID][]byte{}
	for n := 1; n <= len(leaves); n++ {
		growTree(t, tree, leaves[n-1:n], visit)
		for level := uint(1); n%(1<<level) == 0; level++ { // the subtrees ending at n
			i := n>>level - 1
			want[audit.NodeID{Level: level, Index: uint64(i)}] = refRoot(leaves[i<<level : n])
		}
		if !sameNodes(want, got) {
			t.Fatalf("size %d: visited nodes (-want +got):\n%s", n, cmp.Diff(want, got))
		}
	}
}

func sameNodes(a, b map[audit.NodeID][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for id, h := range a {
		if !bytes.Equal(h, b[id]) {
			return false
		}
	}
	return true
}

func TestTreeMarshalRoundTrip(t *testing.T) {
	leaves := refLeaves(1100)
	tree := audit.NewTree()
	for n := 0; n <= 1024; n++ {
		if n > 300 && n != 511 && n != 512 && n != 1023 && n != 1024 {
			growTree(t, tree, leaves[n:n+1], nil)
			continue
		}
		st, err := tree.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(st), 8+32*bits.OnesCount(uint(n)); got != want {
			t.Fatalf("size %d: got %d state bytes, want %d", n, got, want)
		}
		back, err := audit.UnmarshalTree(st)
		if err != nil {
			t.Fatalf("size %d: UnmarshalTree: %v", n, err)
		}
		clear(st) // the restored tree must not share the caller's buffer
		if back.Size() != tree.Size() || !bytes.Equal(back.Root(), tree.Root()) {
			t.Fatalf("size %d: got size %d root %x, want %d %x", n, back.Size(), back.Root(), tree.Size(), tree.Root())
		}
		// The restored tree goes on exactly like the original.
		growTree(t, back, leaves[n:n+76], nil)
		if got, want := back.Root(), refRoot(leaves[:n+76]); !bytes.Equal(got, want) {
			t.Fatalf("size %d: after 76 more leaves got root %x, want %x", n, got, want)
		}
		growTree(t, tree, leaves[n:n+1], nil)
	}
}

func TestUnmarshalTreeLargest(t *testing.T) {
	st := binary.BigEndian.AppendUint64(nil, math.MaxUint64)
	st = append(st, bytes.Repeat([]byte{7}, 64*32)...)
	tree, err := audit.UnmarshalTree(st)
	if err != nil {
		t.Fatalf("UnmarshalTree of a full tree: %v", err)
	}
	if got, want := len(st), 8+64*32; got != want {
		t.Fatalf("got %d bytes, want %d", got, want)
	}
	if err := tree.Append(refLeaf(0), nil); err == nil {
		t.Errorf("Append to a tree of size 2^64-1: got nil error, want one")
	}
}

func TestUnmarshalTreeRejects(t *testing.T) {
	state := func(size uint64, hashes int) []byte {
		return append(binary.BigEndian.AppendUint64(nil, size), make([]byte, 32*hashes)...)
	}
	for name, b := range map[string][]byte{
		"nil":                 nil,
		"short":               {0, 0, 0},
		"partial hash":        state(1, 1)[:8+31],
		"size 1, no hash":     state(1, 0),
		"size 0, one hash":    state(0, 1),
		"size 3, one hash":    state(3, 1),
		"size 4, two hashes":  state(4, 2),
		"65 hashes":           state(math.MaxUint64, 65),
		"text":                []byte("definitely not a tree state, no"),
		"size 2^64-1, 63 h.s": state(math.MaxUint64, 63),
	} {
		if _, err := audit.UnmarshalTree(b); err == nil {
			t.Errorf("%s: UnmarshalTree(%x): got nil error, want one", name, b)
		}
	}
}

func TestTreeAppendRejectsBadLeaf(t *testing.T) {
	tree := audit.NewTree()
	for _, leaf := range [][]byte{nil, make([]byte, 31), make([]byte, 33)} {
		if err := tree.Append(leaf, nil); err == nil {
			t.Errorf("Append of a %d-byte leaf hash: got nil error, want one", len(leaf))
		}
	}
	if got := tree.Size(); got != 0 {
		t.Errorf("size after rejected appends: got %d, want 0", got)
	}
}

func TestTreeAppendCopiesLeaf(t *testing.T) {
	tree := audit.NewTree()
	buf := make([]byte, 32)
	for i := range 5 {
		copy(buf, refLeaf(i))
		growTree(t, tree, [][]byte{buf}, nil)
	}
	clear(buf)
	if got, want := tree.Root(), refRoot(refLeaves(5)); !bytes.Equal(got, want) {
		t.Errorf("root after reusing the leaf buffer: got %x, want %x", got, want)
	}
}
