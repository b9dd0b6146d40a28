// Package audit is the tamper-evident audit log (AUD-1, AUD-2, AUD-4):
//
//   - tree.go: the canonical encoding of entries, RFC 6962 leaf and node
//     hashing, and Tree, the compact right edge that appends without reading
//     old leaves and reports the nodes storage keeps;
//   - proof.go: inclusion and consistency proofs built from stored nodes, and
//     their verification;
//   - checkpoint.go: C2SP tlog-checkpoints signed as Ed25519 signed notes;
//   - export.go, verify.go: the JSON Lines export and its offline verifier,
//     which needs only the file and the log's public key (AUD-2);
//   - log.go: the Log service that serves trails, checkpoints and proofs to
//     authorised callers.
//
// Appending happens in storage, inside the same transaction as the action an
// entry records (see db/commit.go), through Encode, LeafHash and Tree.Append.
package audit
