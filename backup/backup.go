// Package backup takes, verifies and restores rempart's backups (BCK-1,
// BCK-2, ENC-2, ENC-4, GOV-5; ADR 7).
//
// A backup is everything rempart holds — every table of the database but
// the tenants' key-encryption keys, and every attachment — read from one
// consistent snapshot while writes go on, streamed through AES-256-GCM
// (keys.NewEncryptWriter) under a fresh backup key, and stored as two
// objects: backups/<id>/data and backups/<id>/manifest. The manifest is a
// signed note (Ed25519) holding the counts and SHA-256 of every table, of
// the objects and of the encrypted data, the schema version and the audit
// log's signed checkpoint at the snapshot: a receiver can check the origin
// and integrity of a backup without being able to read it.
//
// The backup key, wrapped by the root key, is kept in the database and in
// the key escrow (escrow.go), with the tenants' key-encryption keys: a
// restore needs the root key source, the escrow and the backup. A tenant
// deleted since a backup is in no escrow, so its data in that backup stays
// sealed.
//
// The format is the same whatever the database, so a backup of an SQLite
// deployment restores into PostgreSQL and the reverse: that is also how a
// deployment moves from one to the other.
package backup

import (
	"context"
	"io"

	"github.com/rempart/rempart"
)

// Table is a table to back up: its name and columns, in the order rows list
// their values.
type Table struct {
	Name    string
	Columns []string
}

// Snapshot is a consistent view of the database.
type Snapshot interface {
	// Dialect is "sqlite" or "postgres"; SchemaVersion the migration the
	// database is at.
	Dialect() string
	SchemaVersion() int
	// Tables lists what to back up, in an order that loads without
	// breaking a foreign key.
	Tables(ctx context.Context) ([]Table, error)
	// Rows calls fn with each row of t, in primary-key order; fn must not
	// keep the slice.
	Rows(ctx context.Context, t Table, fn func([]any) error) error
	// Objects calls fn with the key of each object (attachment) the
	// snapshot refers to.
	Objects(ctx context.Context, fn func(key string) error) error
	// AuditTree is the audit log's size and root hash in the snapshot.
	AuditTree(ctx context.Context) (uint64, []byte, error)
}

// Source is the live database.
type Source interface {
	// Snapshot calls fn with a consistent snapshot, valid until fn returns.
	Snapshot(ctx context.Context, fn func(Snapshot) error) error
}

// Target is an empty database that a backup is restored into, at the schema
// version of the backup.
type Target interface {
	// Empty reports whether the database holds no data.
	Empty(ctx context.Context) (bool, error)
	// BeginLoad prepares the empty database for the load: until EndLoad it
	// may defer index maintenance and relax its durability, since it
	// serves no one and a restore that fails leaves it to be discarded.
	BeginLoad(ctx context.Context) error
	// Insert loads rows into table, in one transaction.
	Insert(ctx context.Context, table string, columns []string, rows [][]any) error
	// EndLoad ends the load: it completes what BeginLoad deferred and
	// leaves the database fully durable before it returns.
	EndLoad(ctx context.Context) error
	// Migrate migrates the database to this binary's schema.
	Migrate(ctx context.Context) error
	// AuditTree is the loaded audit log's size and root.
	AuditTree(ctx context.Context) (uint64, []byte, error)
	// SaveCheckpoint keeps a signed checkpoint of the loaded audit log.
	SaveCheckpoint(ctx context.Context, cp rempart.Checkpoint) error
	// ExportAudit writes the loaded audit log for the offline verifier.
	ExportAudit(ctx context.Context, w io.Writer) error
	Close() error
}

// Objects is where backups (and, separately, attachments) are stored.
type Objects interface {
	// Put stores r under key; the object is visible only once complete.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// Get returns the object; a missing one is ENOTFOUND.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	Delete(ctx context.Context, key string) error
	// Keys lists the keys under prefix.
	Keys(ctx context.Context, prefix string) ([]string, error)
}

// Record is what the database keeps of a backup.
type Record = rempart.Backup

// Record statuses.
const (
	StatusRunning  = "running"
	StatusComplete = "complete"
	StatusFailed   = "failed"
	StatusDeleted  = "deleted"
)

// Store keeps the records of backups and restore tests and reads what the
// escrow holds.
type Store interface {
	// BackupStarted records a backup as running, with its wrapped key,
	// before anything is written (so that the key of a backup that exists
	// is never lost).
	BackupStarted(ctx context.Context, e rempart.AuditEntry, r Record) error
	// BackupFinished records its end.
	BackupFinished(ctx context.Context, e rempart.AuditEntry, r Record) error
	Backups(ctx context.Context) ([]Record, error)
	// EscrowKEKs returns every tenant key-encryption key, as stored
	// (wrapped), in the columns of table tenant_keks.
	EscrowKEKs(ctx context.Context) (Table, [][]any, error)
	// RestoreTestRecorded keeps the evidence of a restore test.
	RestoreTestRecorded(ctx context.Context, e rempart.AuditEntry, t RestoreTest) error
	RestoreTests(ctx context.Context, limit int) ([]RestoreTest, error)
	Audit(ctx context.Context, e rempart.AuditEntry) (rempart.AuditEntry, error)
}

// notFound reports Objects.Get's answer for a missing object.
func notFound(err error) bool { return rempart.ErrorCode(err) == rempart.ENOTFOUND }

// Excluded are the tables a backup never copies: the tenants' key-encryption
// keys (ADR 7: they go to the escrow only), the migration bookkeeping (a
// restore recreates it), jobs (a restored job would run again) and the
// backups' own records (a restore rebuilds them from the escrow).
var Excluded = map[string]bool{"tenant_keks": true, "schema_migrations": true, "jobs": true, "backups": true}

func dataKey(id string) string     { return "backups/" + id + "/data" }
func manifestKey(id string) string { return "backups/" + id + "/manifest" }
