package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/backup"
	"github.com/rempart/rempart/blobs"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/internal/blobstore"
	"github.com/rempart/rempart/keys"
	"github.com/rempart/rempart/keys/hsm"
	"github.com/rempart/rempart/keys/kms"
)

// storageOptions say where a deployment's data and keys are. serve and the
// offline commands (backup) share them, so that both open the same thing.
type storageOptions struct {
	dataDir, database, sync, rootKey, backupLocation, attachmentsLocation *string
}

func addStorageOptions(o *options) *storageOptions {
	return &storageOptions{
		dataDir:             o.add("data-dir", "./rempart-data", "directory for the embedded database, root key, TLS certificate and files (created 0700)"),
		database:            o.add("database", "", `database: "sqlite:PATH" or a PostgreSQL URL "postgres://user@host/db" (default: SQLite in the data directory)`),
		sync:                o.add("sqlite-sync", "full", `SQLite durability: "full" (a committed write survives power loss) or "normal" (survives a crash of rempart; the last commits may be lost on power loss)`),
		rootKey:             o.add("root-key", "", `root key: a file (64 hex characters, mode 0600; later versions FILE.2, FILE.3…), a PKCS#11 URI "pkcs11:token=…;object=…?module-path=…&pin-source=file:…", or a KMS URL (awskms://, gcpkms://, azurekeyvault://, hashivault://) (default: root.key in the data directory, created on first start)`),
		backupLocation:      o.add("backup-location", "", `where backups and the key escrow go: a directory or "s3://bucket?region=…&endpoint=…" (default: backups in the data directory)`),
		attachmentsLocation: o.add("attachments-location", "", `where attachments are stored: a directory or "s3://bucket?…" (default: attachments in the data directory)`),
	}
}

func (s *storageOptions) path(p *string, name string) string {
	if *p != "" {
		return *p
	}
	return filepath.Join(*s.dataDir, name)
}

// deployment is an opened rempart without its listeners: the database, the
// keys, the signing keys and the backup service. serve builds on it; the
// backup commands use it alone.
type deployment struct {
	DB           *db.DB
	Roots        keys.RootKeys
	rootsCloser  io.Closer
	Keyring      *keys.Keyring
	AuditSigner  *audit.Signer
	BackupSigner *backup.Signer
	// ConsoleKey derives the console's CSRF tokens; every node shares it.
	ConsoleKey []byte
	// MFAKey seals TOTP secrets and sign-in challenges (IAM-4).
	MFAKey []byte
	// SecretsKey seals the deployment's other secrets kept in the
	// database, such as single sign-on client secrets (IAM-5).
	SecretsKey  []byte
	BackupStore *blobs.Store
	Attachments *blobs.Store
	Backups     *backup.Service
}

// openDeployment opens (or, for a new data directory, creates) everything
// the storage options name.
func openDeployment(ctx context.Context, so *storageOptions) (_ *deployment, err error) {
	d := &deployment{}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	if err := os.MkdirAll(*so.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	dsn := *so.database
	if dsn == "" {
		dsn = "sqlite:" + filepath.Join(*so.dataDir, "rempart.db")
	}
	if d.DB, err = db.Open(ctx, db.Config{DSN: dsn, Synchronous: *so.sync}); err != nil {
		return nil, err
	}
	if d.Roots, d.rootsCloser, err = openRootKeys(ctx, so); err != nil {
		return nil, err
	}
	root, err := d.openRootKey(ctx)
	if err != nil {
		return nil, err
	}
	d.Keyring = keys.NewKeyring(root, 10000)
	d.Keyring.SetSource(d.Roots)
	skey, err := d.secret(ctx, "audit_signer", "rempart/audit-signer/v1", "key.audit_signer.create", func() (string, error) {
		skey, _, err := audit.GenerateKey("rempart/" + strings.TrimPrefix(rempart.NewID("log"), "log_"))
		return skey, err
	})
	if err != nil {
		return nil, err
	}
	if d.AuditSigner, err = audit.NewSigner(skey); err != nil {
		return nil, err
	}
	bkey, err := d.secret(ctx, "backup_signer", "rempart/backup-signer/v1", "key.backup_signer.create", func() (string, error) {
		skey, _, err := audit.GenerateKey("rempart-backup/" + strings.TrimPrefix(rempart.NewID("bks"), "bks_"))
		return skey, err
	})
	if err != nil {
		return nil, err
	}
	if d.BackupSigner, err = backupSigner(bkey); err != nil {
		return nil, err
	}
	ckey, err := d.secret(ctx, "console_key", "rempart/console-key/v1", "key.console_key.create", func() (string, error) {
		return rempart.RandomSecret(43), nil
	})
	if err != nil {
		return nil, err
	}
	d.ConsoleKey = []byte(ckey)
	mkey, err := d.secret(ctx, "mfa_key", "rempart/mfa-key/v1", "key.mfa_key.create", func() (string, error) {
		k := make([]byte, 32)
		_, err := rand.Read(k)
		return hex.EncodeToString(k), err
	})
	if err != nil {
		return nil, err
	}
	if d.MFAKey, err = hex.DecodeString(mkey); err != nil || len(d.MFAKey) != 32 {
		return nil, errors.New("mfa_key: not a 32-byte key")
	}
	sealKey, err := d.secret(ctx, "secrets_key", "rempart/secrets-key/v1", "key.secrets_key.create", func() (string, error) {
		k := make([]byte, 32)
		_, err := rand.Read(k)
		return hex.EncodeToString(k), err
	})
	if err != nil {
		return nil, err
	}
	if d.SecretsKey, err = hex.DecodeString(sealKey); err != nil || len(d.SecretsKey) != 32 {
		return nil, errors.New("secrets_key: not a 32-byte key")
	}
	if d.BackupStore, err = blobs.Open(ctx, so.path(so.backupLocation, "backups")); err != nil {
		return nil, fmt.Errorf("backup location: %w", err)
	}
	if d.Attachments, err = blobs.Open(ctx, so.path(so.attachmentsLocation, "attachments")); err != nil {
		return nil, fmt.Errorf("attachments location: %w", err)
	}
	d.Backups = backup.New(backup.Config{
		Store: d.DB, Source: d.DB, Objects: blobstore.Objects{Store: d.BackupStore}, Attachments: blobstore.Objects{Store: d.Attachments},
		Keys: d.Keyring, Signer: d.BackupSigner, Clock: rempart.SystemClock{}, Version: version,
		Checkpoint: signCheckpoint(d.AuditSigner),
	})
	return d, nil
}

// Close closes what openDeployment opened.
func (d *deployment) Close() error {
	var errs []error
	for _, s := range []*blobs.Store{d.BackupStore, d.Attachments} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	if d.DB != nil {
		errs = append(errs, d.DB.Close())
	}
	if d.rootsCloser != nil {
		errs = append(errs, d.rootsCloser.Close())
	}
	return errors.Join(errs...)
}

// signCheckpoint signs a checkpoint of the log of the given size and root.
func signCheckpoint(s *audit.Signer) func(uint64, []byte) (string, error) {
	return func(size uint64, root []byte) (string, error) {
		cp, err := s.Sign(size, root)
		return cp.Note, err
	}
}

// deploymentSecrets are the secrets kept in meta wrapped by the root key,
// which a root rotation re-wraps.
var deploymentSecrets = []keys.Secret{
	{Name: "audit_signer", Label: "rempart/audit-signer/v1"},
	{Name: "backup_signer", Label: "rempart/backup-signer/v1"},
	{Name: "console_key", Label: "rempart/console-key/v1"},
	{Name: "mfa_key", Label: "rempart/mfa-key/v1"},
	{Name: "secrets_key", Label: "rempart/secrets-key/v1"},
}

// openRootKey opens the active root key version, creating the first one only
// for a new database. An existing database whose root key version cannot be
// opened refuses to start: rempart never runs on a key it made up (ENC-3).
func (d *deployment) openRootKey(ctx context.Context) (keys.Provider, error) {
	stored, err := d.DB.Meta(ctx, "root_key_id")
	switch {
	case err == nil:
		k, err := d.Roots.Open(ctx, string(stored))
		if err != nil {
			return nil, fmt.Errorf("this database was encrypted under root key %s, which %s cannot give: %w", stored, d.Roots.Describe(), err)
		}
		return k, nil
	case rempart.ErrorCode(err) != rempart.ENOTFOUND:
		return nil, err
	}
	k, err := d.Roots.Latest(ctx)
	if errors.Is(err, keys.ErrNoRootKey) {
		k, err = d.Roots.Create(ctx)
	}
	if err != nil {
		return nil, err
	}
	e := rempart.AuditEntry{Action: "key.root.adopt", Outcome: rempart.OutcomeSuccess, Resource: "keys/root/" + k.KeyID()}
	if err := d.DB.PutMeta(ctx, e, "root_key_id", []byte(k.KeyID())); err != nil {
		return nil, err
	}
	return k, nil
}

// secret loads a signing key kept in meta wrapped by the root key, or makes
// and stores one on first start.
func (d *deployment) secret(ctx context.Context, name, label, action string, generate func() (string, error)) (string, error) {
	ad := keys.AD(label)
	stored, err := d.DB.Meta(ctx, name)
	if rempart.ErrorCode(err) == rempart.ENOTFOUND {
		skey, err := generate()
		if err != nil {
			return "", err
		}
		if stored, err = d.Keyring.WrapSecret(ctx, []byte(skey), ad); err != nil {
			return "", err
		}
		e := rempart.AuditEntry{Action: action, Outcome: rempart.OutcomeSuccess, Resource: "keys/" + strings.ReplaceAll(name, "_", "-")}
		if err := d.DB.PutMeta(ctx, e, name, stored); err != nil {
			return "", err
		}
	} else if err != nil {
		return "", err
	}
	skey, err := d.Keyring.UnwrapSecret(ctx, stored, ad, d.Keyring.RootKeyID())
	if err != nil {
		return "", fmt.Errorf("unwrap %s: %w", name, err)
	}
	return string(skey), nil
}

// backupSigner makes the backup signer of a signed-note signer key.
func backupSigner(skey string) (*backup.Signer, error) {
	as, err := audit.NewSigner(skey) // derives the verifier key
	if err != nil {
		return nil, err
	}
	return backup.NewSigner(skey, as.VerifierKey())
}

// openRootKeys opens the root key source the root-key setting names: a key
// file (the default, in the data directory), a PKCS#11 token
// ("pkcs11:token=…;object=…?module-path=…&pin-source=file:…"), or a KMS key
// (awskms://, gcpkms://, azurekeyvault://, hashivault://; base64key:// for
// tests only). The closer, if not nil, releases it.
func openRootKeys(ctx context.Context, so *storageOptions) (keys.RootKeys, io.Closer, error) {
	v := strings.TrimSpace(*so.rootKey)
	switch {
	case strings.HasPrefix(v, "pkcs11:"):
		src, err := hsm.Open(v)
		if err != nil {
			return nil, nil, fmt.Errorf("root key: %w", err)
		}
		return src, src, nil
	case strings.Contains(v, "://") && !strings.HasPrefix(v, "file://"):
		src, err := kms.Open(ctx, v)
		if err != nil {
			return nil, nil, fmt.Errorf("root key: %w", err)
		}
		return src, src, nil
	}
	return keys.NewLocalKeys(so.path(so.rootKey, "root.key")), nil, nil
}
