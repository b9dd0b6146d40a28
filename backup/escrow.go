package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/rempart/rempart"
)

// The key escrow (ADR 7) is one object, keys/escrow, rewritten whole after
// each backup, each rotation and each tenant deletion: the tenants'
// key-encryption keys and the backup keys, each as stored (wrapped by a root
// key version), in a signed note. It is what a restore needs besides the
// root key source and the backup itself; it has no history, so a deleted
// tenant's key-encryption keys are in no copy of it once it is rewritten:
// backups hold no plaintext key and no KEK (ENC-3), and deleting a tenant
// crypto-shreds its data in every backup (GOV-5).
const escrowKey = "keys/escrow"

// Escrow is the escrow's content.
type Escrow struct {
	Format      string        `json:"format"`
	WrittenAt   time.Time     `json:"written_at"`
	VerifierKey string        `json:"verifier_key"`
	KEKColumns  []string      `json:"kek_columns"`
	KEKs        [][]byte      `json:"keks"` // rows of tenant_keks, encoded as in a backup
	Backups     []EscrowedKey `json:"backups"`
}

// kekRows decodes the escrowed key-encryption keys.
func (e Escrow) kekRows() ([][]any, error) {
	out := make([][]any, len(e.KEKs))
	for i, b := range e.KEKs {
		row, err := decodeRow(b, len(e.KEKColumns))
		if err != nil {
			return nil, fmt.Errorf("escrow: %w", err)
		}
		out[i] = row
	}
	return out, nil
}

// EscrowedKey is one backup's key, wrapped by a root key version.
type EscrowedKey struct {
	ID         string    `json:"id"`
	RootKeyID  string    `json:"root_key_id"`
	WrappedKey []byte    `json:"wrapped_key"`
	CreatedAt  time.Time `json:"created_at"`
}

const escrowFormat = "rempart-escrow/1"

// RefreshEscrow writes the escrow from the database's current keys and
// backups. After writing it reads the database again and, if the keys
// changed meanwhile (another node deleted a tenant, say), writes again: the
// last write of any node is thus checked against the database after it, and
// the escrow never keeps a deleted tenant's keys once everyone is done.
func (s *Service) RefreshEscrow(ctx context.Context) error {
	e, err := s.escrowNow(ctx)
	if err != nil {
		return err
	}
	for range 5 {
		signed, err := s.signer.sign(e)
		if err != nil {
			return fmt.Errorf("escrow: %w", err)
		}
		if _, err := s.objects.Put(ctx, escrowKey, bytesReader(signed)); err != nil {
			return fmt.Errorf("write escrow: %w", err)
		}
		again, err := s.escrowNow(ctx)
		if err != nil {
			return err
		}
		if again.sameKeys(e) {
			return nil
		}
		e = again
	}
	return fmt.Errorf("escrow: the keys kept changing while it was written; it will be written again")
}

func (e Escrow) sameKeys(o Escrow) bool {
	a, _ := json.Marshal([]any{e.KEKColumns, e.KEKs, e.Backups})
	b, _ := json.Marshal([]any{o.KEKColumns, o.KEKs, o.Backups})
	return bytes.Equal(a, b)
}

// escrowNow reads the escrow's content from the database.
func (s *Service) escrowNow(ctx context.Context) (Escrow, error) {
	t, keks, err := s.store.EscrowKEKs(ctx)
	if err != nil {
		return Escrow{}, fmt.Errorf("escrow: %w", err)
	}
	recs, err := s.store.Backups(ctx)
	if err != nil {
		return Escrow{}, fmt.Errorf("escrow: %w", err)
	}
	e := Escrow{Format: escrowFormat, WrittenAt: s.clock.Now(), VerifierKey: s.signer.VerifierKey(), KEKColumns: t.Columns, KEKs: make([][]byte, len(keks)), Backups: []EscrowedKey{}}
	for i, row := range keks {
		var b []byte
		for _, v := range row {
			if b, err = appendValue(b, v); err != nil {
				return Escrow{}, fmt.Errorf("escrow: %w", err)
			}
		}
		e.KEKs[i] = b
	}
	for _, r := range recs {
		if r.Status == StatusComplete || r.Status == StatusRunning {
			e.Backups = append(e.Backups, EscrowedKey{ID: r.ID, RootKeyID: r.RootKeyID, WrappedKey: r.WrappedKey, CreatedAt: r.CreatedAt})
		}
	}
	return e, nil
}

// ReadEscrow reads and verifies the escrow with verifierKey.
func (s *Service) ReadEscrow(ctx context.Context, verifierKey string) (Escrow, error) {
	rc, err := s.objects.Get(ctx, escrowKey)
	if notFound(err) {
		return Escrow{}, rempart.Errorf(rempart.ENOTFOUND, "The backup location holds no key escrow: no backup there can be restored.")
	} else if err != nil {
		return Escrow{}, fmt.Errorf("read escrow: %w", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 64<<20))
	if err != nil {
		return Escrow{}, fmt.Errorf("read escrow: %w", err)
	}
	var e Escrow
	if err := open(b, verifierKey, &e); err != nil {
		return Escrow{}, err
	}
	if e.Format != escrowFormat {
		return Escrow{}, rempart.Errorf(rempart.EINVALID, "The key escrow's format is %q; this rempart reads %q.", e.Format, escrowFormat)
	}
	return e, nil
}

// EscrowVerifierKey returns the verifier key the escrow names, after checking
// that the escrow verifies with it. It is what an operator restoring on a new
// machine has if they did not record the key: it proves the escrow intact,
// not who wrote it, so it is printed for them to compare.
func (s *Service) EscrowVerifierKey(ctx context.Context) (string, error) {
	rc, err := s.objects.Get(ctx, escrowKey)
	if notFound(err) {
		return "", rempart.Errorf(rempart.ENOTFOUND, "The backup location holds no key escrow: no backup there can be restored.")
	} else if err != nil {
		return "", fmt.Errorf("read escrow: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(rc, 64<<20))
	rc.Close()
	if err != nil {
		return "", fmt.Errorf("read escrow: %w", err)
	}
	text, _, ok := strings.Cut(string(b), "\n\n")
	var e Escrow
	if !ok || json.Unmarshal([]byte(text), &e) != nil || e.VerifierKey == "" {
		return "", rempart.Errorf(rempart.EINVALID, "The key escrow is malformed.")
	}
	if _, err := s.ReadEscrow(ctx, e.VerifierKey); err != nil {
		return "", err
	}
	return e.VerifierKey, nil
}
