package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/rempart/rempart"
	"golang.org/x/mod/sumdb/note"
)

// Checkpoints (AUD-2) are C2SP tlog-checkpoint bodies
//
//	<origin>\n<size>\n<base64 root>\n
//
// signed as golang.org/x/mod/sumdb/note signed notes with an Ed25519 key whose
// name is the origin.

// GenerateKey makes an Ed25519 signer key and its verifier key for a log
// named origin, in the signed-note key formats
// ("PRIVATE+KEY+<origin>+<hash>+<key>" and "<origin>+<hash>+<key>").
func GenerateKey(origin string) (signerKey, verifierKey string, err error) {
	skey, vkey, err := note.GenerateKey(rand.Reader, origin)
	if err != nil {
		return "", "", fmt.Errorf("generate checkpoint key: %w", err)
	}
	if _, err := note.NewSigner(skey); err != nil { // the origin is not a valid key name
		return "", "", rempart.Errorf(rempart.EINVALID, "Log origin %q is not a valid key name: it must be non-empty, without spaces or '+'.", origin)
	}
	return skey, vkey, nil
}

// Signer signs checkpoints of one log.
type Signer struct {
	s        note.Signer
	verifier string
}

// NewSigner returns a signer for a signer key from GenerateKey.
func NewSigner(signerKey string) (*Signer, error) {
	s, err := note.NewSigner(signerKey)
	if err != nil {
		return nil, fmt.Errorf("checkpoint signer: %w", err)
	}
	// note.NewSigner accepted "PRIVATE+KEY+<name>+<hash>+<base64(1 || seed)>";
	// the verifier key is derived from the seed's public half.
	parts := strings.SplitN(signerKey, "+", 5) // the name and hash hold no '+'; the key may
	key, err := base64.StdEncoding.DecodeString(parts[len(parts)-1])
	if err != nil || len(key) != 1+ed25519.SeedSize {
		return nil, fmt.Errorf("checkpoint signer: malformed key")
	}
	pub := ed25519.NewKeyFromSeed(key[1:]).Public().(ed25519.PublicKey)
	vkey, err := note.NewEd25519VerifierKey(s.Name(), pub)
	if err != nil {
		return nil, fmt.Errorf("checkpoint signer: %w", err)
	}
	if v, err := note.NewVerifier(vkey); err != nil || v.KeyHash() != s.KeyHash() {
		return nil, fmt.Errorf("checkpoint signer: derived verifier key does not match")
	}
	return &Signer{s: s, verifier: vkey}, nil
}

// VerifierKey is the public key that checks this signer's checkpoints.
func (s *Signer) VerifierKey() string { return s.verifier }

// Origin is the log's name: the first line of every checkpoint.
func (s *Signer) Origin() string { return s.s.Name() }

// Sign signs a checkpoint of the tree of the given size and root, and returns
// it with every field filled.
func (s *Signer) Sign(size uint64, root []byte) (rempart.Checkpoint, error) {
	if len(root) != hashSize {
		return rempart.Checkpoint{}, fmt.Errorf("sign checkpoint: root is %d bytes, want %d", len(root), hashSize)
	}
	body := s.s.Name() + "\n" + strconv.FormatUint(size, 10) + "\n" + base64.StdEncoding.EncodeToString(root) + "\n"
	msg, err := note.Sign(&note.Note{Text: body}, s.s)
	if err != nil {
		return rempart.Checkpoint{}, fmt.Errorf("sign checkpoint: %w", err)
	}
	return rempart.Checkpoint{
		Origin:      s.s.Name(),
		Size:        size,
		RootHash:    append([]byte(nil), root...),
		Note:        string(msg),
		VerifierKey: s.verifier,
	}, nil
}

// OpenCheckpoint verifies a signed checkpoint with verifierKey and parses it.
// Any failure (malformed key, bad or missing signature, malformed body, an
// origin other than the key's name) is a rempart.Error with code EINVALID.
// Extension lines after the root are allowed and ignored.
func OpenCheckpoint(noteText, verifierKey string) (rempart.Checkpoint, error) {
	bad := func(what string) (rempart.Checkpoint, error) {
		return rempart.Checkpoint{}, rempart.Errorf(rempart.EINVALID, "Checkpoint %s.", what)
	}
	v, err := note.NewVerifier(verifierKey)
	if err != nil {
		return bad("verifier key is malformed")
	}
	n, err := note.Open([]byte(noteText), note.VerifierList(v))
	if err != nil {
		return bad("signature does not verify with the given key")
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 {
		return bad("body is malformed")
	}
	if lines[0] != v.Name() {
		return bad("origin does not match the key's name")
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil || strconv.FormatUint(size, 10) != lines[1] {
		return bad("size is malformed")
	}
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != hashSize {
		return bad("root hash is malformed")
	}
	return rempart.Checkpoint{Origin: lines[0], Size: size, RootHash: root, Note: noteText, VerifierKey: verifierKey}, nil
}
