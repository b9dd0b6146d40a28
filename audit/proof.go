package audit

import (
	"fmt"

	"github.com/transparency-dev/merkle/proof"
)

// NodeReader returns the hashes of the given nodes, in order. Level 0 ids are
// leaf hashes; higher levels are the nodes Tree.Append reported. Storage
// implements it.
type NodeReader func(ids []NodeID) ([][]byte, error)

// fetch reads the nodes a proof needs and folds the ephemeral ones.
func fetch(nodes proof.Nodes, read NodeReader) ([][]byte, error) {
	ids := make([]NodeID, len(nodes.IDs))
	for i, id := range nodes.IDs {
		ids[i] = NodeID(id)
	}
	if len(ids) == 0 {
		return [][]byte{}, nil
	}
	hashes, err := read(ids)
	if err != nil {
		return nil, fmt.Errorf("read audit nodes: %w", err)
	}
	if len(hashes) != len(ids) {
		return nil, fmt.Errorf("read audit nodes: got %d hashes, want %d", len(hashes), len(ids))
	}
	for i, h := range hashes {
		if len(h) != hashSize {
			return nil, fmt.Errorf("read audit nodes: node %v: got %d bytes, want %d", ids[i], len(h), hashSize)
		}
	}
	// Rehash works in place: do not overwrite the reader's slice.
	return nodes.Rehash(append([][]byte(nil), hashes...), hashChildren)
}

// InclusionProof proves that leaf index is in the tree of the given size
// (0 ≤ index < size), reading O(log size) nodes (AUD-2).
func InclusionProof(index, size uint64, read NodeReader) ([][]byte, error) {
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, fmt.Errorf("inclusion proof: %w", err)
	}
	return fetch(nodes, read)
}

// ConsistencyProof proves that the tree of size from is a prefix of the tree
// of size to (0 ≤ from ≤ to), reading O(log to) nodes (AUD-2).
func ConsistencyProof(from, to uint64, read NodeReader) ([][]byte, error) {
	nodes, err := proof.Consistency(from, to)
	if err != nil {
		return nil, fmt.Errorf("consistency proof: %w", err)
	}
	return fetch(nodes, read)
}

// VerifyInclusion checks that leafHash is leaf index of the tree of the given
// size and root.
func VerifyInclusion(index, size uint64, leafHash []byte, p [][]byte, root []byte) error {
	if err := proof.VerifyInclusion(hasher, index, size, leafHash, p, root); err != nil {
		return fmt.Errorf("verify inclusion of %d in %d: %w", index, size, err)
	}
	return nil
}

// VerifyConsistency checks that the tree of size from and root fromRoot is a
// prefix of the tree of size to and root toRoot.
func VerifyConsistency(from, to uint64, p [][]byte, fromRoot, toRoot []byte) error {
	if err := proof.VerifyConsistency(hasher, from, to, p, fromRoot, toRoot); err != nil {
		return fmt.Errorf("verify consistency of %d with %d: %w", from, to, err)
	}
	return nil
}
