package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/db"
)

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return &exitError{code: 2, err: errors.New("usage: rempart audit verify|export [flags]")}
	}
	switch args[0] {
	case "verify":
		return runAuditVerify(args[1:], stdout, stderr)
	case "export":
		return runAuditExport(ctx, args[1:], stdout, stderr)
	}
	return &exitError{code: 2, err: fmt.Errorf("unknown audit subcommand %q (want verify or export)", args[0])}
}

// runAuditVerify checks an export offline (AUD-2): it needs only the file and
// the log's verifier key, never the server.
func runAuditVerify(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rempart audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("file", "-", "audit export to verify (JSON Lines; - for standard input)")
	key := fs.String("key", os.Getenv("REMPART_AUDIT_KEY"), "the log's checkpoint verifier key (env REMPART_AUDIT_KEY), as served in verifier_key by GET /api/v1/audit/checkpoint")
	quiet := fs.Bool("quiet", false, "print no progress")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *key == "" {
		return &exitError{code: 2, err: errors.New("--key is required: the verifier key you trust for this log")}
	}
	var r io.Reader = os.Stdin
	if *file != "-" {
		f, err := os.Open(*file)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		defer f.Close()
		r = f
	}
	start := time.Now()
	var progress func(uint64)
	if !*quiet {
		progress = func(n uint64) { fmt.Fprintf(stderr, "\rverified %d entries…", n) }
	}
	rep, err := audit.Verify(bufio.NewReaderSize(r, 1<<20), strings.TrimSpace(*key), progress)
	if progress != nil {
		fmt.Fprint(stderr, "\r")
	}
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if !rep.OK {
		fmt.Fprintf(stdout, "FAILED: %s\n", rep.Problem)
		if rep.FirstBadIndex >= 0 {
			fmt.Fprintf(stdout, "first tampered entry: %d\n", rep.FirstBadIndex)
		} else if rep.BadRangeTo > 0 {
			fmt.Fprintf(stdout, "tampering lies in entries %d to %d\n", rep.BadRangeFrom, rep.BadRangeTo-1)
		}
		return &exitError{code: 1, err: errors.New("audit log verification failed")}
	}
	fmt.Fprintf(stdout, "OK: %d entries, %d checkpoints, verified up to size %d in %s\n", rep.Entries, rep.Checkpoints, rep.VerifiedSize, time.Since(start).Round(time.Millisecond))
	return nil
}

// runAuditExport writes the audit log of a database to a file, for verify.
func runAuditExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rempart audit export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	database := fs.String("database", os.Getenv("REMPART_DATABASE"), `database to read: "sqlite:PATH" or a PostgreSQL URL (env REMPART_DATABASE)`)
	out := fs.String("out", "-", "file to write (- for standard output)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *database == "" {
		*database = "sqlite:rempart-data/rempart.db"
	}
	d, err := db.Open(ctx, db.Config{DSN: *database})
	if err != nil {
		return err
	}
	defer d.Close()
	w := stdout
	if *out != "-" {
		f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	if err := d.ExportAudit(ctx, bw); err != nil {
		return err
	}
	return bw.Flush()
}
