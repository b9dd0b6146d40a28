package backup

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/keys"
)

// Report is what a verification or a restore found and did.
type Report struct {
	ID        string        `json:"id"`
	Manifest  Manifest      `json:"manifest"`
	Tables    int           `json:"tables"`
	Rows      int64         `json:"rows"`
	Objects   int64         `json:"objects"`
	DataBytes int64         `json:"data_bytes"` // encrypted bytes read
	Duration  time.Duration `json:"duration_ns"`
	// Shredded lists the tenants of the backup whose keys are in no escrow
	// (deleted since): their data was restored sealed and cannot be read
	// (GOV-5: crypto-shredding reaches backups).
	Shredded []string `json:"shredded,omitempty"`
}

// OpenTarget opens the database to restore into, migrated to the given
// schema version (the backup's).
type OpenTarget func(ctx context.Context, schema int) (Target, error)

// RestoreOptions tune a restore.
type RestoreOptions struct {
	// Attachments receives the backup's attachments; nil checks their
	// hashes without storing them (a restore test must not touch the live
	// attachments).
	Attachments Objects
	// Progress, if set, is called with the encrypted bytes read so far.
	Progress func(int64)
}

// backupKey finds and unwraps the key of backup id in the escrow.
func (s *Service) backupKey(ctx context.Context, esc Escrow, id string) (keys.DataKey, error) {
	for _, k := range esc.Backups {
		if k.ID != id {
			continue
		}
		root, err := s.keys.Root(ctx, k.RootKeyID)
		if err != nil {
			return keys.DataKey{}, fmt.Errorf("backup %s was sealed under root key %s, which cannot be opened: %w", id, k.RootKeyID, err)
		}
		raw, err := root.Unwrap(ctx, k.WrappedKey, backupKeyAD(id))
		if err != nil {
			return keys.DataKey{}, rempart.Errorf(rempart.EINVALID, "The escrowed key of backup %s does not unwrap: the escrow was altered.", id)
		}
		defer clear(raw) // the cipher keeps its own expanded copy
		return dataKeyFor(id, raw)
	}
	return keys.DataKey{}, rempart.Errorf(rempart.ENOTFOUND, "The key escrow holds no key for backup %s: it was deleted by retention, or taken by another deployment.", id)
}

// Verify checks a backup end to end: the manifest's signature, the
// encrypted data's size and SHA-256, and, decrypting it with the escrowed
// key, every frame, every table's row count and hash and every attachment's
// hash. A backup that passes restores.
func (s *Service) Verify(ctx context.Context, id, verifierKey string, progress func(int64)) (Report, error) {
	if verifierKey == "" {
		verifierKey = s.signer.VerifierKey()
	}
	m, err := s.manifest(ctx, id, verifierKey)
	if err != nil {
		return Report{}, err
	}
	return s.scan(ctx, m, verifierKey, nil, RestoreOptions{Progress: progress})
}

// Restore loads backup id into the database open opens at the backup's
// schema version, which must be empty: it loads every table, then the
// key-encryption keys and backup keys from the escrow (only those of tenants
// in the backup), copies the attachments back, migrates to this binary's
// schema and checks that the restored audit log has the root the manifest's
// checkpoint signed. It returns the opened target (nil on failure before
// opening).
func (s *Service) Restore(ctx context.Context, id, verifierKey string, open OpenTarget, opts RestoreOptions) (Report, Target, error) {
	if verifierKey == "" {
		verifierKey = s.signer.VerifierKey()
	}
	m, err := s.manifest(ctx, id, verifierKey)
	if err != nil {
		return Report{}, nil, err
	}
	target, err := open(ctx, m.Schema)
	if err != nil {
		return Report{}, nil, err
	}
	empty, err := target.Empty(ctx)
	if err != nil {
		return Report{}, target, err
	}
	if !empty {
		return Report{}, target, rempart.Errorf(rempart.ECONFLICT, "The target database is not empty; restoring would replace what it holds. Ask for it explicitly (--replace).")
	}
	if err := target.BeginLoad(ctx); err != nil {
		return Report{}, target, fmt.Errorf("prepare the target: %w", err)
	}
	rep, err := s.scan(ctx, m, verifierKey, target, opts)
	return rep, target, err
}

// scan reads the backup of the verified manifest m, checking everything,
// and loads it into target when one is given.
func (s *Service) scan(ctx context.Context, m Manifest, verifierKey string, target Target, opts RestoreOptions) (Report, error) {
	progress := opts.Progress
	start := time.Now()
	id := m.ID
	esc, err := s.ReadEscrow(ctx, verifierKey)
	if err != nil {
		return Report{}, err
	}
	dk, err := s.backupKey(ctx, esc, id)
	if err != nil {
		return Report{}, err
	}
	rc, err := s.objects.Get(ctx, m.Data.Key)
	if notFound(err) {
		return Report{}, rempart.Errorf(rempart.ENOTFOUND, "Backup %s's data is missing from the backup location.", id)
	} else if err != nil {
		return Report{}, fmt.Errorf("read backup data: %w", err)
	}
	defer rc.Close()
	hr := &hashingReader{r: rc, h: sha256.New()}
	var src io.Reader = hr
	if progress != nil {
		src = &progressReader{r: hr, fn: progress}
	}
	plain, err := keys.NewDecryptReader(src, dk, backupDataAD(id))
	if err != nil {
		return Report{}, damaged(id, err)
	}
	l := &loader{s: s, ctx: ctx, m: m, target: target, attachments: opts.Attachments, tenants: map[string]bool{}}
	rep := Report{ID: id, Manifest: m}
	err = l.run(newFrameReader(plain), &rep)
	if werr := l.wait(); err == nil {
		err = werr
	}
	if err != nil {
		return rep, damaged(id, err)
	}
	// The data was read to its authenticated end; its stored bytes must
	// also be exactly those the manifest names.
	if _, err := io.Copy(io.Discard, hr); err != nil {
		return rep, fmt.Errorf("read backup data: %w", err)
	}
	if got := hex.EncodeToString(hr.h.Sum(nil)); got != m.Data.SHA256 || hr.n != m.Data.Size {
		return rep, rempart.Errorf(rempart.EINVALID, "Backup %s's data is %d bytes with SHA-256 %s; its manifest says %d bytes, %s.", id, hr.n, got, m.Data.Size, m.Data.SHA256)
	}
	rep.DataBytes = hr.n
	if target != nil {
		if err := l.finish(esc, &rep); err != nil {
			return rep, err
		}
	}
	rep.Duration = time.Since(start)
	return rep, nil
}

// damaged turns a read failure into a clear answer: a backup whose bytes do
// not authenticate or parse is rejected as damaged or tampered with.
func damaged(id string, err error) error {
	var re *rempart.Error
	if errors.As(err, &re) {
		return err
	}
	if errors.Is(err, keys.ErrDecrypt) || errors.Is(err, errFormat) {
		return rempart.Errorf(rempart.EINVALID, "Backup %s is damaged or was tampered with: %s.", id, strings.TrimSuffix(err.Error(), "."))
	}
	return fmt.Errorf("backup %s: %w", id, err)
}

type progressReader struct {
	r    io.Reader
	n    int64
	last int64
	fn   func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if p.n-p.last >= 16<<20 || err == io.EOF {
		p.last = p.n
		p.fn(p.n)
	}
	return n, err
}

// loader walks a backup's frames, checks them against the manifest and, with
// a target, loads them.
type loader struct {
	s           *Service
	ctx         context.Context
	m           Manifest
	target      Target
	attachments Objects         // where restored attachments go (nil: hash only)
	tenants     map[string]bool // tenant IDs in the backup

	table   *tableHeader
	tenCol  int // index of "id" in tenants
	rows    [][]any
	size    int // bytes of the encoded rows in rows
	count   int64
	h       hash.Hash
	objects int64
	puts    []chan error // attachment uploads still finishing, oldest first
}

// A table's rows are loaded in transactions of insertBatch rows or
// insertBytes of encoded rows, whichever comes first: few commits, and a
// bounded batch in memory.
const (
	insertBatch = 20000
	insertBytes = 8 << 20
)

func (l *loader) run(fr *frameReader, rep *Report) error {
	want := map[string]TableInfo{}
	for _, t := range l.m.Tables {
		want[t.Name] = t
	}
	seen := 0
	for {
		typ, p, err := fr.next()
		if err != nil {
			return err
		}
		switch typ {
		case frameTable:
			var th tableHeader
			if err := json.Unmarshal(p, &th); err != nil || l.table != nil {
				return fmt.Errorf("%w: bad table header", errFormat)
			}
			if _, ok := want[th.Name]; !ok {
				return fmt.Errorf("%w: table %s is not in the manifest", errFormat, th.Name)
			}
			l.table, l.count, l.h, l.rows, l.tenCol = &th, 0, sha256.New(), l.rows[:0], -1
			if th.Name == "tenants" {
				for i, c := range th.Columns {
					if c == "id" {
						l.tenCol = i
					}
				}
			}
		case frameRow:
			if l.table == nil {
				return fmt.Errorf("%w: a row outside a table", errFormat)
			}
			l.h.Write(p)
			l.count++
			row, err := decodeRow(p, len(l.table.Columns))
			if err != nil {
				return err
			}
			if l.tenCol >= 0 {
				if id, ok := row[l.tenCol].(string); ok {
					l.tenants[id] = true
				}
			}
			if l.target != nil {
				l.rows = append(l.rows, row)
				l.size += len(p)
				if len(l.rows) == insertBatch || l.size >= insertBytes {
					if err := l.flush(); err != nil {
						return err
					}
				}
			}
		case frameTableEnd:
			if l.table == nil {
				return fmt.Errorf("%w: a table end outside a table", errFormat)
			}
			if err := l.flush(); err != nil {
				return err
			}
			w := want[l.table.Name]
			sum := hex.EncodeToString(l.h.Sum(nil))
			if l.count != w.Rows || sum != w.SHA256 {
				return rempart.Errorf(rempart.EINVALID, "Table %s holds %d rows (SHA-256 %s); the manifest says %d rows (%s).", l.table.Name, l.count, sum, w.Rows, w.SHA256)
			}
			rep.Tables++
			rep.Rows += l.count
			seen++
			l.table = nil
		case frameObject:
			var oh objectHeader
			if err := json.Unmarshal(p, &oh); err != nil {
				return fmt.Errorf("%w: bad object header", errFormat)
			}
			if err := l.object(fr, oh.Key); err != nil {
				return err
			}
			rep.Objects++
		case frameEnd:
			if l.table != nil || seen != len(l.m.Tables) || rep.Objects != l.m.Objects.Count {
				return rempart.Errorf(rempart.EINVALID, "The backup holds %d tables and %d attachments; its manifest says %d and %d.", seen, rep.Objects, len(l.m.Tables), l.m.Objects.Count)
			}
			// Nothing may follow the end.
			if _, _, err := fr.next(); !errors.Is(err, errNoEnd) {
				return fmt.Errorf("%w: data after the end", errFormat)
			}
			return nil
		default:
			return fmt.Errorf("%w: unknown frame %q", errFormat, typ)
		}
	}
}

func (l *loader) flush() error {
	if l.target == nil || len(l.rows) == 0 {
		return nil
	}
	err := l.target.Insert(l.ctx, l.table.Name, l.table.Columns, l.rows)
	clear(l.rows)
	l.rows, l.size = l.rows[:0], 0
	if err != nil {
		return fmt.Errorf("load %s: %w", l.table.Name, err)
	}
	return nil
}

// maxPuts bounds the attachments being stored at once: an attachment's
// upload ends with the store making it durable (an fsync, or S3 completing
// the upload), and the next one streams meanwhile.
const maxPuts = 4

// object reads one attachment's frames, hashing them and, when restoring,
// storing them back under their key. The upload may still be finishing when
// it returns: wait collects it.
func (l *loader) object(fr *frameReader, key string) error {
	h := sha256.New()
	var pw *io.PipeWriter
	var putDone chan error
	if l.target != nil && l.attachments != nil {
		if len(l.puts) == maxPuts {
			if err := l.waitOne(); err != nil {
				return err
			}
		}
		var pr *io.PipeReader
		pr, pw = io.Pipe()
		putDone = make(chan error, 1)
		go func() {
			_, err := l.attachments.Put(l.ctx, key, pr)
			pr.CloseWithError(err)
			if err != nil {
				err = fmt.Errorf("restore attachment %s: %w", key, err)
			}
			putDone <- err
		}()
	}
	fail := func(err error) error {
		if pw != nil {
			pw.CloseWithError(err)
			<-putDone
		}
		return err
	}
	for {
		typ, p, err := fr.next()
		if err != nil {
			return fail(err)
		}
		switch typ {
		case frameData:
			h.Write(p)
			if pw != nil {
				if _, err := pw.Write(p); err != nil {
					return fail(fmt.Errorf("restore attachment %s: %w", key, err))
				}
			}
		case frameObjectEnd:
			var oe objectEnd
			if err := json.Unmarshal(p, &oe); err != nil {
				return fail(fmt.Errorf("%w: bad object end", errFormat))
			}
			if got := hex.EncodeToString(h.Sum(nil)); got != oe.SHA256 {
				return fail(rempart.Errorf(rempart.EINVALID, "Attachment %s's bytes do not match their hash.", key))
			}
			if pw != nil {
				pw.Close()
				l.puts = append(l.puts, putDone)
			}
			return nil
		default:
			return fail(fmt.Errorf("%w: frame %q inside an object", errFormat, typ))
		}
	}
}

// waitOne waits for the oldest attachment upload.
func (l *loader) waitOne() error {
	err := <-l.puts[0]
	l.puts = l.puts[1:]
	return err
}

// wait waits for every attachment upload and returns the first error.
func (l *loader) wait() error {
	var first error
	for len(l.puts) > 0 {
		if err := l.waitOne(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// finish loads the escrowed keys of the backup's tenants — a tenant deleted
// since has none, and stays shredded (GOV-5) — and the backup records,
// migrates, and checks the audit log.
func (l *loader) finish(esc Escrow, rep *Report) error {
	rows, err := esc.kekRows()
	if err != nil {
		return err
	}
	tenantCol := -1
	for i, c := range esc.KEKColumns {
		if c == "tenant_id" {
			tenantCol = i
		}
	}
	if tenantCol < 0 && len(rows) > 0 {
		return rempart.Errorf(rempart.EINVALID, "The key escrow's keys name no tenant.")
	}
	keyed := map[string]bool{}
	var keep [][]any
	for _, r := range rows {
		if t, _ := r[tenantCol].(string); l.tenants[t] {
			keep = append(keep, r)
			keyed[t] = true
		}
	}
	if len(keep) > 0 {
		if err := l.target.Insert(l.ctx, "tenant_keks", esc.KEKColumns, keep); err != nil {
			return fmt.Errorf("load key-encryption keys: %w", err)
		}
	}
	for t := range l.tenants {
		if !keyed[t] {
			rep.Shredded = append(rep.Shredded, t)
		}
	}
	var recs [][]any
	for _, k := range esc.Backups {
		recs = append(recs, []any{k.ID, StatusComplete, k.RootKeyID, k.WrappedKey, k.CreatedAt.UnixNano()})
	}
	if len(recs) > 0 {
		if err := l.target.Insert(l.ctx, "backups", []string{"id", "status", "root_key_id", "wrapped_key", "created_at"}, recs); err != nil {
			return fmt.Errorf("load backup records: %w", err)
		}
	}
	if err := l.target.EndLoad(l.ctx); err != nil {
		return fmt.Errorf("end the load: %w", err)
	}
	if err := l.target.Migrate(l.ctx); err != nil {
		return fmt.Errorf("migrate the restored database: %w", err)
	}
	size, root, err := l.target.AuditTree(l.ctx)
	if err != nil {
		return err
	}
	if l.m.Audit.Size == 0 {
		return nil
	}
	wantSize, wantRoot, err := checkpointBody(l.m.Audit.Checkpoint)
	if err != nil {
		return err
	}
	if size != wantSize || !bytes.Equal(root, wantRoot) || size != l.m.Audit.Size {
		return rempart.Errorf(rempart.EINVALID, "The restored audit log (%d entries) does not match the checkpoint in the manifest (%d entries).", size, wantSize)
	}
	// The checkpoint covers exactly the restored entries: keep it, so that
	// the restored log verifies offline to its last entry.
	return l.target.SaveCheckpoint(l.ctx, rempart.Checkpoint{Size: size, RootHash: root, Note: l.m.Audit.Checkpoint})
}

// checkpointBody reads the size and root of a signed checkpoint. Its
// signature is the audit log's; the manifest that carries it is signed too.
func checkpointBody(note string) (uint64, []byte, error) {
	lines := strings.SplitN(note, "\n", 4)
	if len(lines) < 4 {
		return 0, nil, rempart.Errorf(rempart.EINVALID, "The manifest's audit checkpoint is malformed.")
	}
	size, err1 := strconv.ParseUint(lines[1], 10, 64)
	root, err2 := base64.StdEncoding.DecodeString(lines[2])
	if err1 != nil || err2 != nil {
		return 0, nil, rempart.Errorf(rempart.EINVALID, "The manifest's audit checkpoint is malformed.")
	}
	return size, root, nil
}
