package backup

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/keys"
)

// Keys is the part of the keyring backups use: the active root key version
// wraps each backup key, any version unwraps.
type Keys interface {
	RootKeyID() string
	Root(ctx context.Context, id string) (keys.Provider, error)
}

// Config wires a Service.
type Config struct {
	Store       Store
	Source      Source
	Objects     Objects // where backups and the escrow go
	Attachments Objects // where attachments live (nil: none to back up)
	Keys        Keys
	Signer      *Signer
	// Checkpoint signs an audit checkpoint of the log of the given size and
	// root (the audit log's signer).
	Checkpoint func(size uint64, root []byte) (string, error)
	Clock      rempart.Clock
	Version    string // rempart's version, recorded in manifests
}

// Service takes, lists, verifies and restores backups.
type Service struct {
	store       Store
	src         Source
	objects     Objects
	attachments Objects
	keys        Keys
	signer      *Signer
	checkpoint  func(uint64, []byte) (string, error)
	clock       rempart.Clock
	version     string
	jobs        Enqueuer
}

// New returns the backup service.
func New(cfg Config) *Service {
	return &Service{store: cfg.Store, src: cfg.Source, objects: cfg.Objects, attachments: cfg.Attachments, keys: cfg.Keys,
		signer: cfg.Signer, checkpoint: cfg.Checkpoint, clock: cfg.Clock, version: cfg.Version}
}

// VerifierKey is the public key that checks this deployment's manifests
// and escrow.
func (s *Service) VerifierKey() string { return s.signer.VerifierKey() }

func backupKeyAD(id string) []byte  { return keys.AD("rempart/backup-key/v1", id) }
func backupDataAD(id string) []byte { return keys.AD("rempart/backup-data/v1", id) }

func dataKeyFor(id string, raw []byte) (keys.DataKey, error) {
	aead, err := keys.NewAEAD(raw)
	if err != nil {
		return keys.DataKey{}, err
	}
	return keys.DataKey{ID: id, AEAD: aead}, nil
}

// CreateOptions tune a backup.
type CreateOptions struct {
	// Started, if set, is told the backup's ID once it is recorded, before
	// anything is written (a job saves it, to abandon the backup cleanly
	// if its node dies).
	Started func(id string) error
	// Progress, if set, is called with the bytes of plaintext written.
	Progress func(bytes int64)
}

// Create takes a backup. A backup that fails leaves no manifest, so it never
// looks valid, and its data object is deleted.
func (s *Service) Create(ctx context.Context, c rempart.Caller, opts CreateOptions) (Manifest, error) {
	progress := opts.Progress
	start := s.clock.Now()
	id := rempart.NewID("bk")
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return Manifest{}, err
	}
	defer clear(raw) // wrapped and expanded into the cipher below: not needed after
	rootID := s.keys.RootKeyID()
	root, err := s.keys.Root(ctx, rootID)
	if err != nil {
		return Manifest{}, err
	}
	wrapped, err := root.Wrap(ctx, raw, backupKeyAD(id))
	if err != nil {
		return Manifest{}, fmt.Errorf("wrap backup key: %w", err)
	}
	dk, err := dataKeyFor(id, raw)
	if err != nil {
		return Manifest{}, err
	}
	rec := Record{ID: id, Status: StatusRunning, RootKeyID: rootID, WrappedKey: wrapped, CreatedAt: start}
	if err := s.store.BackupStarted(ctx, c.Entry("", "backup.start", "backups/"+id), rec); err != nil {
		return Manifest{}, err
	}
	var m Manifest
	if opts.Started != nil {
		err = opts.Started(id)
	}
	if err == nil {
		m, err = s.write(ctx, id, dk, progress)
	}
	now := s.clock.Now()
	rec.FinishedAt = &now
	e := c.Entry("", "backup.create", "backups/"+id)
	if err != nil {
		s.objects.Delete(context.WithoutCancel(ctx), dataKey(id)) // a partial data object is garbage
		rec.Status, rec.Error = StatusFailed, truncate(err.Error(), 500)
		e.Outcome, e.Reason = rempart.OutcomeFailure, truncate(err.Error(), 200)
		if ferr := s.store.BackupFinished(context.WithoutCancel(ctx), e, rec); ferr != nil {
			err = errors.Join(err, ferr)
		}
		return Manifest{}, fmt.Errorf("backup %s failed: %w", id, err)
	}
	m.DurationMilli = now.Sub(start).Milliseconds()
	signed, err := s.signer.sign(m)
	if err == nil {
		_, err = s.objects.Put(ctx, manifestKey(id), bytesReader(signed))
	}
	if err != nil {
		s.objects.Delete(context.WithoutCancel(ctx), dataKey(id))
		rec.Status, rec.Error = StatusFailed, "manifest: "+truncate(err.Error(), 500)
		e.Outcome, e.Reason = rempart.OutcomeFailure, "manifest"
		s.store.BackupFinished(context.WithoutCancel(ctx), e, rec)
		return Manifest{}, fmt.Errorf("backup %s: write manifest: %w", id, err)
	}
	rec.Status, rec.DataBytes, rec.Objects = StatusComplete, m.Data.Size, m.Objects.Count
	for _, t := range m.Tables {
		rec.Rows += t.Rows
	}
	e.Reason = fmt.Sprintf("%d rows, %d objects, %d bytes", rec.Rows, rec.Objects, rec.DataBytes)
	if err := s.store.BackupFinished(ctx, e, rec); err != nil {
		return Manifest{}, err
	}
	// The backup can be restored once its key is in the escrow.
	if err := s.RefreshEscrow(ctx); err != nil {
		return m, fmt.Errorf("backup %s is written but its key is not escrowed yet: %w", id, err)
	}
	return m, nil
}

// write streams the snapshot, encrypted, to the data object and returns the
// manifest (unsigned).
func (s *Service) write(ctx context.Context, id string, dk keys.DataKey, progress func(int64)) (Manifest, error) {
	m := Manifest{Format: Format, ID: id, CreatedAt: s.clock.Now(), Version: s.version, Data: DataInfo{Key: dataKey(id)}}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := s.src.Snapshot(ctx, func(snap Snapshot) error {
			m.Dialect, m.Schema = snap.Dialect(), snap.SchemaVersion()
			return s.dump(ctx, snap, dk, pw, &m, progress)
		})
		pw.CloseWithError(err)
		done <- err
	}()
	h := sha256.New()
	n, perr := s.objects.Put(ctx, dataKey(id), io.TeeReader(pr, h))
	pr.CloseWithError(errors.New("backup: the upload stopped"))
	werr := <-done
	if perr != nil { // the target's error is the cause; the writer's follows from it
		return m, fmt.Errorf("store backup data: %w", perr)
	}
	if werr != nil {
		return m, werr
	}
	m.Data.Size, m.Data.SHA256 = n, hex.EncodeToString(h.Sum(nil))
	return m, nil
}

// counter counts the bytes written through it.
type counter struct {
	w        io.Writer
	n        atomic.Int64
	progress func(int64)
	last     int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	total := c.n.Add(int64(n))
	if c.progress != nil && total-c.last >= 16<<20 {
		c.last = total
		c.progress(total)
	}
	return n, err
}

// dump writes the snapshot's frames through the encryption to w.
func (s *Service) dump(ctx context.Context, snap Snapshot, dk keys.DataKey, w io.Writer, m *Manifest, progress func(int64)) error {
	size, root, err := snap.AuditTree(ctx)
	if err != nil {
		return fmt.Errorf("audit tree: %w", err)
	}
	if size > 0 {
		cp, err := s.checkpoint(size, root)
		if err != nil {
			return fmt.Errorf("sign audit checkpoint: %w", err)
		}
		m.Audit = AuditInfo{Size: size, Checkpoint: cp}
	}
	enc, err := keys.NewEncryptWriter(w, dk, backupDataAD(m.ID))
	if err != nil {
		return err
	}
	cnt := &counter{w: enc, progress: progress}
	fw := newFrameWriter(cnt)
	tables, err := snap.Tables(ctx)
	if err != nil {
		return err
	}
	var row []byte
	for _, t := range tables {
		if Excluded[t.Name] {
			continue
		}
		hdr, _ := json.Marshal(tableHeader{Name: t.Name, Columns: t.Columns})
		if err := fw.frame(frameTable, hdr); err != nil {
			return err
		}
		h := sha256.New()
		var rows int64
		err := snap.Rows(ctx, t, func(vals []any) error {
			row = row[:0]
			for _, v := range vals {
				if row, err = appendValue(row, v); err != nil {
					return fmt.Errorf("table %s: %w", t.Name, err)
				}
			}
			h.Write(row)
			rows++
			return fw.frame(frameRow, row)
		})
		if err != nil {
			return fmt.Errorf("table %s: %w", t.Name, err)
		}
		sum := hex.EncodeToString(h.Sum(nil))
		end, _ := json.Marshal(tableEnd{Rows: rows, SHA256: sum})
		if err := fw.frame(frameTableEnd, end); err != nil {
			return err
		}
		m.Tables = append(m.Tables, TableInfo{Name: t.Name, Rows: rows, SHA256: sum})
	}
	if s.attachments != nil {
		chunk := make([]byte, chunkSize)
		err := snap.Objects(ctx, func(key string) error {
			// An attachment purged (past its retention, or with its
			// deleted tenant) between the snapshot and now is gone: it is
			// named in the manifest, not copied, and the backup goes on.
			n, err := s.copyObject(ctx, fw, key, chunk)
			if errors.Is(err, errObjectGone) {
				m.Objects.Missing = append(m.Objects.Missing, key)
				return nil
			}
			m.Objects.Count++
			m.Objects.Bytes += n
			return err
		})
		if err != nil {
			return err
		}
	}
	end, _ := json.Marshal(backupEnd{Tables: len(m.Tables), Objects: m.Objects.Count})
	if err := fw.frame(frameEnd, end); err != nil {
		return err
	}
	if err := fw.flush(); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	if progress != nil {
		progress(cnt.n.Load())
	}
	return nil
}

// errObjectGone reports an attachment purged after the snapshot.
var errObjectGone = errors.New("attachment gone since the snapshot")

// copyObject writes one attachment's frames, or nothing and errObjectGone.
func (s *Service) copyObject(ctx context.Context, fw *frameWriter, key string, chunk []byte) (int64, error) {
	rc, err := s.attachments.Get(ctx, key)
	if notFound(err) {
		return 0, errObjectGone
	} else if err != nil {
		return 0, fmt.Errorf("attachment %s: %w", key, err)
	}
	defer rc.Close()
	// The size is known only at the end; the header says -1 and the end
	// frame's hash covers the bytes.
	hdr, _ := json.Marshal(objectHeader{Key: key, Size: -1})
	if err := fw.frame(frameObject, hdr); err != nil {
		return 0, err
	}
	h := sha256.New()
	var n int64
	for {
		k, rerr := io.ReadFull(rc, chunk)
		if k > 0 {
			h.Write(chunk[:k])
			n += int64(k)
			if err := fw.frame(frameData, chunk[:k]); err != nil {
				return n, err
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		} else if rerr != nil {
			return n, fmt.Errorf("attachment %s: %w", key, rerr)
		}
	}
	end, _ := json.Marshal(objectEnd{SHA256: hex.EncodeToString(h.Sum(nil))})
	return n, fw.frame(frameObjectEnd, end)
}

// Abandon ends a backup that its process left running (its node died): its
// objects are deleted and it is recorded as failed.
func (s *Service) Abandon(ctx context.Context, c rempart.Caller, id string) error {
	recs, err := s.store.Backups(ctx)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if r.ID != id || r.Status != StatusRunning {
			continue
		}
		for _, k := range []string{manifestKey(id), dataKey(id)} {
			if err := s.objects.Delete(ctx, k); err != nil && !notFound(err) {
				return err
			}
		}
		now := s.clock.Now()
		r.Status, r.Error, r.FinishedAt = StatusFailed, "interrupted: its process stopped", &now
		e := c.Entry("", "backup.create", "backups/"+id)
		e.Outcome, e.Reason = rempart.OutcomeFailure, "interrupted"
		return s.store.BackupFinished(ctx, e, r)
	}
	return nil
}

// Prune deletes the complete backups older than retention, always keeping
// the newest complete one, then rewrites the escrow without their keys: a
// copy of a pruned backup kept elsewhere can no longer be decrypted either.
func (s *Service) Prune(ctx context.Context, c rempart.Caller, retention time.Duration) (int, error) {
	recs, err := s.store.Backups(ctx) // newest first
	if err != nil {
		return 0, err
	}
	cutoff := s.clock.Now().Add(-retention)
	kept, n := false, 0
	for _, r := range recs {
		if r.Status != StatusComplete {
			continue
		}
		if !kept || !r.CreatedAt.Before(cutoff) {
			kept = true
			continue
		}
		for _, k := range []string{manifestKey(r.ID), dataKey(r.ID)} {
			if err := s.objects.Delete(ctx, k); err != nil && !notFound(err) {
				return n, fmt.Errorf("prune backup %s: %w", r.ID, err)
			}
		}
		r.Status = StatusDeleted
		e := c.Entry("", "backup.delete", "backups/"+r.ID)
		e.Reason = "retention " + retention.String()
		if err := s.store.BackupFinished(ctx, e, r); err != nil {
			return n, err
		}
		n++
	}
	if n > 0 {
		return n, s.RefreshEscrow(ctx)
	}
	return 0, nil
}

// Listed is a backup found in the backup location.
type Listed struct {
	ID       string    `json:"id"`
	Manifest *Manifest `json:"manifest,omitempty"`
	// Problem says why a backup is not usable: no manifest (it did not
	// finish), or a manifest that does not verify.
	Problem string `json:"problem,omitempty"`
}

// List lists the backups in the backup location, newest first, verifying
// each manifest with verifierKey.
func (s *Service) List(ctx context.Context, verifierKey string) ([]Listed, error) {
	if verifierKey == "" {
		verifierKey = s.signer.VerifierKey()
	}
	ks, err := s.objects.Keys(ctx, "backups/")
	if err != nil {
		return nil, fmt.Errorf("list backups: %w", err)
	}
	ids := map[string]bool{}
	for _, k := range ks {
		if id, _, ok := strings.Cut(strings.TrimPrefix(k, "backups/"), "/"); ok {
			ids[id] = true
		}
	}
	var out []Listed
	for id := range ids {
		l := Listed{ID: id}
		m, err := s.manifest(ctx, id, verifierKey)
		if err != nil {
			l.Problem = rempart.ErrorMessage(err)
			if rempart.ErrorCode(err) == rempart.EINTERNAL {
				l.Problem = err.Error()
			}
		} else {
			l.Manifest = &m
		}
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	sort.SliceStable(out, func(i, j int) bool { return created(out[i]).After(created(out[j])) })
	return out, nil
}

func created(l Listed) time.Time {
	if l.Manifest == nil {
		return time.Time{}
	}
	return l.Manifest.CreatedAt
}

// manifest reads and verifies one backup's manifest.
func (s *Service) manifest(ctx context.Context, id, verifierKey string) (Manifest, error) {
	if !validID(id) {
		return Manifest{}, rempart.Errorf(rempart.EINVALID, "%q is not a backup ID.", id)
	}
	rc, err := s.objects.Get(ctx, manifestKey(id))
	if notFound(err) {
		return Manifest{}, rempart.Errorf(rempart.ENOTFOUND, "Backup %s has no manifest: it did not finish, and cannot be restored.", id)
	} else if err != nil {
		return Manifest{}, fmt.Errorf("read manifest: %w", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 16<<20))
	if err != nil {
		return Manifest{}, fmt.Errorf("read manifest: %w", err)
	}
	m, err := OpenManifest(b, verifierKey)
	if err != nil {
		return Manifest{}, err
	}
	if m.ID != id || m.Data.Key != dataKey(id) {
		return Manifest{}, rempart.Errorf(rempart.EINVALID, "Backup %s's manifest describes another backup.", id)
	}
	return m, nil
}

func validID(id string) bool {
	if !strings.HasPrefix(id, "bk_") || len(id) > 64 {
		return false
	}
	for _, c := range id[3:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return len(id) > 3
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// hashingReader hashes what is read through it.
type hashingReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	return n, err
}
