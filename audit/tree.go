package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/rempart/rempart"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
)

// hashSize is the size of every hash in the log: SHA-256.
const hashSize = sha256.Size

// maxTreeState bounds MarshalBinary's output: the size, and at most one hash
// per bit of it.
const maxTreeState = 8 + 64*hashSize

var hasher = rfc6962.DefaultHasher

// factory builds the compact ranges of every Tree. Its hash is RFC 6962's
// HashChildren, computed without the three allocations of the generic one.
var factory = &compact.RangeFactory{Hash: hashChildren}

// emptyRoot is the root of the empty tree: SHA-256 of nothing.
var emptyRoot = hasher.EmptyRoot()

// hashChildren is the RFC 6962 interior node hash SHA-256(0x01 || l || r).
func hashChildren(l, r []byte) []byte {
	if len(l) != hashSize || len(r) != hashSize {
		return hasher.HashChildren(l, r)
	}
	var b [1 + 2*hashSize]byte
	b[0] = rfc6962.RFC6962NodeHashPrefix
	copy(b[1:], l)
	copy(b[1+hashSize:], r)
	h := sha256.Sum256(b[:])
	return h[:]
}

// Encode returns the canonical bytes of an entry: encoding/json of
// rempart.AuditEntry, on one line with no trailing newline. These exact bytes
// are stored, exported and hashed (AUD-2), so they must never change for a
// given entry.
func Encode(e rempart.AuditEntry) ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode audit entry %d: %w", e.Index, err)
	}
	return b, nil
}

// LeafHash is the RFC 6962 leaf hash SHA-256(0x00 || body).
func LeafHash(body []byte) []byte { return hasher.HashLeaf(body) }

// NodeID names a perfect subtree: Level 0 is the leaf hashes, Index counts
// from the left at that level. Node (l, i) covers leaves [i·2^l, (i+1)·2^l).
type NodeID struct {
	Level uint
	Index uint64
}

// Tree is the right edge (compact range) of the log: the roots of its
// perfect subtrees, one per set bit of the size. That is enough to append and
// to compute the root without reading old leaves (AUD-2). Make one with
// NewTree or UnmarshalTree; it is not safe for concurrent use.
type Tree struct {
	r *compact.Range
	// visit is the caller's visitor during one Append; forward, built once,
	// passes it the nodes that compact reports, so Append allocates no closure.
	visit   func(id NodeID, hash []byte)
	forward compact.VisitFn
}

func newTree(r *compact.Range) *Tree {
	t := &Tree{r: r}
	t.forward = func(id compact.NodeID, hash []byte) {
		if id.Level > 0 {
			t.visit(NodeID(id), hash)
		}
	}
	return t
}

// NewTree returns an empty tree.
func NewTree() *Tree { return newTree(factory.NewEmptyRange(0)) }

// UnmarshalTree restores a tree saved with MarshalBinary. It rejects a state
// whose length does not match its size.
func UnmarshalTree(b []byte) (*Tree, error) {
	if len(b) < 8 || len(b) > maxTreeState || (len(b)-8)%hashSize != 0 {
		return nil, fmt.Errorf("audit tree state: bad length %d", len(b))
	}
	size := binary.BigEndian.Uint64(b)
	own := append([]byte(nil), b[8:]...) // the caller may reuse b
	hashes := make([][]byte, len(own)/hashSize)
	for i := range hashes {
		hashes[i] = own[i*hashSize : (i+1)*hashSize : (i+1)*hashSize]
	}
	r, err := factory.NewRange(0, size, hashes)
	if err != nil {
		return nil, fmt.Errorf("audit tree state: %w", err)
	}
	return newTree(r), nil
}

// MarshalBinary encodes the tree as its size (8 bytes, big endian) followed
// by the right-edge hashes, left to right: at most 8 + 64·32 bytes.
func (t *Tree) MarshalBinary() ([]byte, error) {
	hs := t.r.Hashes()
	b := make([]byte, 8, 8+hashSize*len(hs))
	binary.BigEndian.PutUint64(b, t.r.End())
	for _, h := range hs {
		b = append(b, h...)
	}
	return b, nil
}

// Size is the number of leaves.
func (t *Tree) Size() uint64 { return t.r.End() }

// Root is the RFC 6962 root hash; the empty tree's is SHA-256("").
func (t *Tree) Root() []byte {
	if t.r.End() == 0 {
		return append([]byte(nil), emptyRoot...)
	}
	root, err := t.r.GetRootHash(nil)
	if err != nil { // only for a range that does not start at 0
		panic("audit: root of a tree: " + err.Error())
	}
	if len(t.r.Hashes()) == 1 {
		root = append([]byte(nil), root...) // do not hand out the edge itself
	}
	return root
}

// Append adds one leaf hash. visit, if not nil, is called for every perfect
// subtree at Level ≥ 1 that this append completes, lowest first, so that
// storage can keep them and serve proofs with O(log n) reads. The leaf itself
// is not passed to visit. visit must not modify hash.
func (t *Tree) Append(leafHash []byte, visit func(id NodeID, hash []byte)) error {
	if len(leafHash) != hashSize {
		return fmt.Errorf("audit: leaf hash is %d bytes, want %d", len(leafHash), hashSize)
	}
	if t.r.End()%2 == 0 {
		// A leaf at an even index stays on the right edge until its sibling
		// arrives: keep a copy, not the caller's buffer.
		leafHash = append(make([]byte, 0, hashSize), leafHash...)
	}
	return t.append(leafHash, visit)
}

// append is Append without the checks, for leaves the caller never changes.
func (t *Tree) append(leafHash []byte, visit func(id NodeID, hash []byte)) error {
	if t.r.End() == ^uint64(0) {
		return errors.New("audit: tree is full")
	}
	if visit == nil {
		return t.r.Append(leafHash, nil)
	}
	t.visit = visit
	err := t.r.Append(leafHash, t.forward)
	t.visit = nil
	return err
}
