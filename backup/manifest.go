package backup

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/rempart/rempart"
	"golang.org/x/mod/sumdb/note"
)

// Format names this version of the backup format.
const Format = "rempart-backup/1"

// Manifest describes one backup. It is stored as a signed note whose text is
// its JSON on one line.
type Manifest struct {
	Format        string          `json:"format"`
	ID            string          `json:"id"`
	CreatedAt     time.Time       `json:"created_at"`
	Version       string          `json:"rempart_version"`
	Dialect       string          `json:"dialect"`
	Schema        int             `json:"schema"`
	Data          DataInfo        `json:"data"`
	Tables        []TableInfo     `json:"tables"`
	Objects       ObjectsInfo     `json:"objects"`
	Audit         AuditInfo       `json:"audit"`
	DurationMilli int64           `json:"duration_ms"`
	Extra         json.RawMessage `json:"extra,omitempty"`
}

// DataInfo is the encrypted data object.
type DataInfo struct {
	Key    string `json:"key"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // of the encrypted bytes, as stored
}

// TableInfo is one table's row count and the SHA-256 of its encoded rows.
type TableInfo struct {
	Name   string `json:"name"`
	Rows   int64  `json:"rows"`
	SHA256 string `json:"sha256"`
}

// ObjectsInfo counts the attachments.
type ObjectsInfo struct {
	Count int64 `json:"count"`
	Bytes int64 `json:"bytes"`
	// Missing are attachments the snapshot lists but that were purged
	// before they could be copied (a restore keeps their rows, whose
	// content is then gone, as it was on the primary).
	Missing []string `json:"missing,omitempty"`
}

// AuditInfo is the audit log at the snapshot, with a checkpoint signed by
// the log's key that covers exactly those entries.
type AuditInfo struct {
	Size       uint64 `json:"size"`
	Checkpoint string `json:"checkpoint"`
}

// Signer signs manifests and escrows with the deployment's backup key pair
// (signed-note Ed25519 keys, as made by audit.GenerateKey), so that whoever
// holds an off-site copy can check its origin and integrity (ENC-4).
type Signer struct {
	s        note.Signer
	verifier string
}

// NewSigner returns a signer for signerKey whose public half is verifierKey.
func NewSigner(signerKey, verifierKey string) (*Signer, error) {
	s, err := note.NewSigner(signerKey)
	if err != nil {
		return nil, fmt.Errorf("backup signer: %w", err)
	}
	v, err := note.NewVerifier(verifierKey)
	if err != nil || v.KeyHash() != s.KeyHash() || v.Name() != s.Name() {
		return nil, fmt.Errorf("backup signer: the verifier key does not match")
	}
	return &Signer{s: s, verifier: verifierKey}, nil
}

// VerifierKey is the public key that checks what this signer signs.
func (s *Signer) VerifierKey() string { return s.verifier }

func (s *Signer) sign(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return note.Sign(&note.Note{Text: string(b) + "\n"}, s.s)
}

// open verifies a signed note with verifierKey and decodes its JSON into v.
func open(signed []byte, verifierKey string, v any) error {
	bad := func(what string) error {
		return rempart.Errorf(rempart.EINVALID, "The %s.", what)
	}
	ver, err := note.NewVerifier(verifierKey)
	if err != nil {
		return bad("verifier key is malformed")
	}
	n, err := note.Open(signed, note.VerifierList(ver))
	if err != nil {
		return bad("signature does not verify with the backup verifier key: the manifest or escrow was altered, or signed by another deployment")
	}
	dec := json.NewDecoder(strings.NewReader(n.Text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bad("signed document is malformed")
	}
	return nil
}

// OpenManifest verifies a stored manifest with verifierKey and parses it.
func OpenManifest(signed []byte, verifierKey string) (Manifest, error) {
	var m Manifest
	if err := open(signed, verifierKey, &m); err != nil {
		return Manifest{}, err
	}
	if m.Format != Format {
		return Manifest{}, rempart.Errorf(rempart.EINVALID, "The backup's format is %q; this rempart reads %q.", m.Format, Format)
	}
	return m, nil
}
