package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/backup"
	"github.com/rempart/rempart/blobs"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/internal/blobstore"
	"github.com/rempart/rempart/keys"
)

const backupUsage = `usage: rempart backup create|list|verify|restore [flags]

  create    take a backup now (the server may be running)
  list      list the backups in the backup location and check their manifests
  verify    check a backup end to end: --id ID
  restore   restore a backup into a database: --id ID --to DATABASE [--replace]

Every subcommand takes the storage settings of rempart serve (--data-dir,
--database, --root-key, --backup-location, --attachments-location, their
REMPART_* variables and --config); see docs/backups.md.
`

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, backupUsage)
		return &exitError{code: 2, err: errors.New("a backup subcommand is required")}
	}
	fs := flag.NewFlagSet("rempart backup "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := newOptions(fs)
	so := addStorageOptions(o)
	id := fs.String("id", "", "the backup's ID (verify, restore)")
	to := fs.String("to", "", `restore: the database to restore into, "sqlite:PATH" or a PostgreSQL URL`)
	replace := fs.Bool("replace", false, "restore: replace what the target database holds")
	verifier := fs.String("verifier-key", os.Getenv("REMPART_BACKUP_VERIFIER_KEY"), "the backup verifier key you trust (env REMPART_BACKUP_VERIFIER_KEY); default: the deployment's, or for restore the one the escrow names")
	quiet := fs.Bool("quiet", false, "print no progress")
	if err := o.parse(args[1:]); err != nil {
		return err
	}
	progress := func(what string) func(int64) {
		if *quiet {
			return nil
		}
		start := time.Now()
		return func(n int64) {
			fmt.Fprintf(stderr, "\r%s %s (%.0f MB/s)…", what, bytesString(n), float64(n)/1e6/max(time.Since(start).Seconds(), 1e-3))
		}
	}
	switch args[0] {
	case "create":
		d, err := openDeployment(ctx, so)
		if err != nil {
			return err
		}
		defer d.Close()
		caller := rempart.Caller{Principal: rempart.Principal{ID: "system:cli"}}
		m, err := d.Backups.Create(ctx, caller, backup.CreateOptions{Progress: progress("written")})
		endProgress(stderr, *quiet)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "backup %s: %s encrypted, %d tables, %d attachments, audit log at %d entries, in %s\n",
			m.ID, bytesString(m.Data.Size), len(m.Tables), m.Objects.Count, m.Audit.Size, time.Duration(m.DurationMilli)*time.Millisecond)
		return nil
	case "list":
		d, err := openDeployment(ctx, so)
		if err != nil {
			return err
		}
		defer d.Close()
		key := firstNonEmpty(*verifier, d.Backups.VerifierKey())
		ls, err := d.Backups.List(ctx, key)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "verifier key: %s\n", key)
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tCREATED\tSIZE\tROWS\tATTACHMENTS\tSTATE")
		for _, l := range ls {
			if l.Manifest == nil {
				fmt.Fprintf(tw, "%s\t-\t-\t-\t-\tunusable: %s\n", l.ID, l.Problem)
				continue
			}
			var rows int64
			for _, t := range l.Manifest.Tables {
				rows += t.Rows
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\tmanifest verified\n", l.ID, l.Manifest.CreatedAt.Format(time.RFC3339), bytesString(l.Manifest.Data.Size), rows, l.Manifest.Objects.Count)
		}
		return tw.Flush()
	case "verify":
		if *id == "" {
			return &exitError{code: 2, err: errors.New("--id is required")}
		}
		d, err := openDeployment(ctx, so)
		if err != nil {
			return err
		}
		defer d.Close()
		rep, err := d.Backups.Verify(ctx, *id, *verifier, progress("checked"))
		endProgress(stderr, *quiet)
		if err != nil {
			fmt.Fprintf(stdout, "FAILED: %s\n", rempart.ErrorMessage(err))
			if rempart.ErrorCode(err) == rempart.EINTERNAL {
				fmt.Fprintln(stdout, err)
			}
			return &exitError{code: 1, err: errors.New("backup verification failed")}
		}
		fmt.Fprintf(stdout, "OK: backup %s, %d tables, %d rows, %d attachments, %s, in %s\n", rep.ID, rep.Tables, rep.Rows, rep.Objects, bytesString(rep.DataBytes), rep.Duration.Round(time.Millisecond))
		return nil
	case "restore":
		if *id == "" || *to == "" {
			return &exitError{code: 2, err: errors.New("--id and --to are required")}
		}
		return restoreBackup(ctx, so, *id, *to, *replace, *verifier, progress("restored"), stdout, stderr, *quiet)
	}
	fmt.Fprint(stderr, backupUsage)
	return &exitError{code: 2, err: fmt.Errorf("unknown backup subcommand %q", args[0])}
}

// restoreBackup restores without opening the deployment's own database,
// which may be the target: it needs only the root key source, the backup
// location and the attachments location.
func restoreBackup(ctx context.Context, so *storageOptions, id, to string, replace bool, verifier string, progress func(int64), stdout, stderr io.Writer, quiet bool) error {
	roots, closer, err := openRootKeys(ctx, so)
	if err != nil {
		return err
	}
	if closer != nil {
		defer closer.Close()
	}
	root, err := roots.Latest(ctx)
	if err != nil {
		return fmt.Errorf("root key: %w", err)
	}
	kr := keys.NewKeyring(root, 100)
	kr.SetSource(roots)
	store, err := blobs.Open(ctx, so.path(so.backupLocation, "backups"))
	if err != nil {
		return fmt.Errorf("backup location: %w", err)
	}
	defer store.Close()
	att, err := blobs.Open(ctx, so.path(so.attachmentsLocation, "attachments"))
	if err != nil {
		return fmt.Errorf("attachments location: %w", err)
	}
	defer att.Close()
	svc := backup.New(backup.Config{Objects: blobstore.Objects{Store: store}, Keys: kr, Clock: rempart.SystemClock{}, Version: version})
	if verifier == "" {
		if verifier, err = svc.EscrowVerifierKey(ctx); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "verifier key (named by the escrow; compare it with the one you recorded): %s\n", verifier)
	}
	open := func(ctx context.Context, schema int) (backup.Target, error) {
		return db.OpenRestoreTarget(ctx, to, schema, replace)
	}
	rep, target, err := svc.Restore(ctx, id, verifier, open, backup.RestoreOptions{Attachments: blobstore.Objects{Store: att}, Progress: progress})
	endProgress(stderr, quiet)
	if target != nil {
		defer target.Close()
	}
	if err != nil {
		return err
	}
	e := rempart.AuditEntry{PrincipalID: "system:cli", Action: "backup.restore", Resource: "backups/" + id, Outcome: rempart.OutcomeSuccess,
		Reason: fmt.Sprintf("%d rows, %d attachments", rep.Rows, rep.Objects)}
	if _, err := target.(*db.DB).Audit(ctx, e); err != nil {
		return fmt.Errorf("record the restore in the restored audit log: %w", err)
	}
	fmt.Fprintf(stdout, "restored backup %s into %s: %d tables, %d rows, %d attachments, %s read, in %s\n",
		id, redactDSN(to), rep.Tables, rep.Rows, rep.Objects, bytesString(rep.DataBytes), rep.Duration.Round(time.Millisecond))
	if len(rep.Shredded) > 0 {
		fmt.Fprintf(stdout, "tenants deleted since the backup (their data stays sealed): %s\n", strings.Join(rep.Shredded, ", "))
	}
	return nil
}

func endProgress(w io.Writer, quiet bool) {
	if !quiet {
		fmt.Fprint(w, "\r\033[K")
	}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// redactDSN hides a password in a database URL.
func redactDSN(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		if j := strings.Index(dsn[i+3:], "@"); j >= 0 {
			if k := strings.Index(dsn[i+3:i+3+j], ":"); k >= 0 {
				return dsn[:i+3+k+1] + "***" + dsn[i+3+j:]
			}
		}
	}
	return dsn
}

func bytesString(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
