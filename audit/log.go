package audit

import (
	"context"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
)

// Query selects audit entries: Index >= Start, at most Limit, optionally of
// one action.
type Query struct {
	Start     uint64
	Limit     int
	Action    string
	Principal string // who acted: a user, a service account or system:<task>
}

// CheckPrincipal validates a principal filter: empty, or an ID such as
// usr_…, sa_… or system:jobs.
func CheckPrincipal(p string) error {
	if len(p) > 64 || strings.ContainsFunc(p, func(r rune) bool {
		return !(r == '_' || r == ':' || r == '.' || r == '-' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) {
		return rempart.Errorf(rempart.EINVALID, "A principal is an ID such as usr_… or sa_….")
	}
	return nil
}

// Store is what the log service reads from storage. Appending is not here: it
// happens inside the storage's write transactions (AUD-1).
type Store interface {
	Tenant(ctx context.Context, id string) (rempart.Tenant, error)
	Audit(ctx context.Context, e rempart.AuditEntry) (rempart.AuditEntry, error)
	TenantAudit(ctx context.Context, s guard.Scope, q Query) ([]rempart.AuditEntry, error)
	AuditLog(ctx context.Context, q Query) ([]rempart.AuditEntry, error)
	AuditTree(ctx context.Context) (size uint64, root []byte, err error)
	AuditNodes(ctx context.Context) NodeReader
	SaveCheckpoint(ctx context.Context, cp rempart.Checkpoint) error
	LatestCheckpoint(ctx context.Context) (string, error)
	ExportAudit(ctx context.Context, w io.Writer) error
}

// Log serves the audit log to callers: tenant trails (AUD-4), the whole log
// and its export for system principals, and signed checkpoints with proofs
// for anyone authenticated (AUD-2).
type Log struct {
	store  Store
	signer *Signer
}

// NewLog returns the log service; signer signs its checkpoints.
func NewLog(store Store, signer *Signer) *Log { return &Log{store: store, signer: signer} }

// VerifierKey is the public key that checks this log's checkpoints.
func (l *Log) VerifierKey() string { return l.signer.VerifierKey() }

// SignCheckpoint signs the current tree head if it grew since the last
// checkpoint, and returns the latest checkpoint either way.
func (l *Log) SignCheckpoint(ctx context.Context) (rempart.Checkpoint, error) {
	size, root, err := l.store.AuditTree(ctx)
	if err != nil {
		return rempart.Checkpoint{}, err
	}
	if note, err := l.store.LatestCheckpoint(ctx); err == nil {
		cp, err := OpenCheckpoint(note, l.signer.VerifierKey())
		if err != nil {
			return rempart.Checkpoint{}, err
		}
		if cp.Size >= size {
			return cp, nil
		}
	} else if rempart.ErrorCode(err) != rempart.ENOTFOUND {
		return rempart.Checkpoint{}, err
	}
	cp, err := l.signer.Sign(size, root)
	if err != nil {
		return rempart.Checkpoint{}, err
	}
	return cp, l.store.SaveCheckpoint(ctx, cp)
}

// Run signs a checkpoint every interval until ctx ends, and once more then.
func (l *Log) Run(ctx context.Context, interval time.Duration, onError func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if _, err := l.SignCheckpoint(context.Background()); err != nil {
				onError(err)
			}
			return
		case <-t.C:
			if _, err := l.SignCheckpoint(ctx); err != nil && ctx.Err() == nil {
				onError(err)
			}
		}
	}
}

func (l *Log) deny(ctx context.Context, e rempart.AuditEntry, err error) error {
	e.Outcome, e.Reason = rempart.OutcomeDenied, rempart.ErrorCode(err)
	if _, aerr := l.store.Audit(ctx, e); aerr != nil {
		return aerr
	}
	return err
}

func page(entries []rempart.AuditEntry, limit int) rempart.AuditList {
	out := rempart.AuditList{Entries: entries}
	if len(entries) == limit && limit > 0 {
		out.NextCursor = strconv.FormatUint(entries[len(entries)-1].Index+1, 10)
	}
	return out
}

// TenantEntries returns a tenant's own audit trail (AUD-4). Reading it is
// itself recorded.
func (l *Log) TenantEntries(ctx context.Context, c rempart.Caller, tenant string, start uint64, limit int, action, principal string) (rempart.AuditList, error) {
	e := c.Entry(tenant, "audit.read", "tenants/"+tenant+"/audit")
	t, err := l.store.Tenant(ctx, tenant)
	if err != nil {
		if rempart.ErrorCode(err) == rempart.ENOTFOUND {
			return rempart.AuditList{}, l.deny(ctx, e, err)
		}
		return rempart.AuditList{}, err
	}
	scope, err := guard.Authorize(c, t, guard.TenantAudit)
	if err != nil {
		return rempart.AuditList{}, l.deny(ctx, e, err)
	}
	entries, err := l.store.TenantAudit(ctx, scope, Query{Start: start, Limit: limit, Action: action, Principal: principal})
	if err != nil {
		return rempart.AuditList{}, err
	}
	if _, err := l.store.Audit(ctx, e); err != nil {
		return rempart.AuditList{}, err
	}
	return page(entries, limit), nil
}

// Entries returns entries of the whole log, for system principals.
func (l *Log) Entries(ctx context.Context, c rempart.Caller, start uint64, limit int, action, principal string) (rempart.AuditList, error) {
	e := c.Entry("", "audit.read", "audit/entries")
	if err := guard.AuthorizeSystem(c, guard.AuditLog); err != nil {
		return rempart.AuditList{}, l.deny(ctx, e, err)
	}
	entries, err := l.store.AuditLog(ctx, Query{Start: start, Limit: limit, Action: action, Principal: principal})
	if err != nil {
		return rempart.AuditList{}, err
	}
	if _, err := l.store.Audit(ctx, e); err != nil {
		return rempart.AuditList{}, err
	}
	return page(entries, limit), nil
}

// Checkpoint returns the latest signed checkpoint, signing one first if the
// log grew.
func (l *Log) Checkpoint(ctx context.Context, c rempart.Caller) (rempart.Checkpoint, error) {
	if err := guard.AuthorizeSystem(c, guard.AuditProof); err != nil {
		return rempart.Checkpoint{}, l.deny(ctx, c.Entry("", "audit.checkpoint", "audit/checkpoint"), err)
	}
	return l.SignCheckpoint(ctx)
}

func (l *Log) checkSize(ctx context.Context, size uint64) error {
	cur, _, err := l.store.AuditTree(ctx)
	if err != nil {
		return err
	}
	if size == 0 || size > cur {
		return rempart.Errorf(rempart.EINVALID, "size must be between 1 and the log's size (%d).", cur)
	}
	return nil
}

// InclusionProof proves that entry index is in the tree of the given size.
func (l *Log) InclusionProof(ctx context.Context, c rempart.Caller, index, size uint64) (rempart.Proof, error) {
	if err := guard.AuthorizeSystem(c, guard.AuditProof); err != nil {
		return rempart.Proof{}, l.deny(ctx, c.Entry("", "audit.proof", "audit/proofs/inclusion"), err)
	}
	if err := l.checkSize(ctx, size); err != nil {
		return rempart.Proof{}, err
	}
	if index >= size {
		return rempart.Proof{}, rempart.Errorf(rempart.EINVALID, "index must be below size.")
	}
	read := l.store.AuditNodes(ctx)
	leaf, err := read([]NodeID{{Level: 0, Index: index}})
	if err != nil {
		return rempart.Proof{}, err
	}
	hashes, err := InclusionProof(index, size, read)
	if err != nil {
		return rempart.Proof{}, err
	}
	return rempart.Proof{Index: index, Size: size, LeafHash: leaf[0], Hashes: hashes}, nil
}

// ConsistencyProof proves that the tree of size from is a prefix of the tree
// of size to.
func (l *Log) ConsistencyProof(ctx context.Context, c rempart.Caller, from, to uint64) (rempart.Proof, error) {
	if err := guard.AuthorizeSystem(c, guard.AuditProof); err != nil {
		return rempart.Proof{}, l.deny(ctx, c.Entry("", "audit.proof", "audit/proofs/consistency"), err)
	}
	if err := l.checkSize(ctx, to); err != nil {
		return rempart.Proof{}, err
	}
	if from == 0 || from > to {
		return rempart.Proof{}, rempart.Errorf(rempart.EINVALID, "from must be between 1 and to.")
	}
	hashes, err := ConsistencyProof(from, to, l.store.AuditNodes(ctx))
	if err != nil {
		return rempart.Proof{}, err
	}
	return rempart.Proof{From: from, Size: to, Hashes: hashes}, nil
}

// Export writes the whole log for the offline verifier, for system
// principals. A checkpoint is signed first so that the export ends on one.
func (l *Log) Export(ctx context.Context, c rempart.Caller, w io.Writer) error {
	e := c.Entry("", "audit.export", "audit/export")
	if err := guard.AuthorizeSystem(c, guard.AuditLog); err != nil {
		return l.deny(ctx, e, err)
	}
	if _, err := l.store.Audit(ctx, e); err != nil {
		return err
	}
	if _, err := l.SignCheckpoint(ctx); err != nil {
		return err
	}
	return l.store.ExportAudit(ctx, w)
}
