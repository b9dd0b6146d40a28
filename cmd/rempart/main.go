// Command rempart runs the rempart server and its tools. Subcommands:
//
//	rempart serve            run the server (embedded defaults: no flags needed)
//	rempart audit verify     check an audit export offline against a checkpoint key
//	rempart audit export     write the audit log of a local database for verify
//	rempart backup …         take, list, verify and restore backups
//	rempart loadtest         drive a running server and print throughput and latency
//	rempart version          print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "rempart:", err)
		}
		os.Exit(exitCode(err))
	}
}

// exitError carries a specific exit code (e.g. 1 for a failed verification).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

const usage = `rempart — security commitments of a B2B SaaS vendor, as running software.

Usage:
  rempart serve [flags]          run the server (rempart serve --help lists every setting)
  rempart audit verify [flags]   verify an audit export offline
  rempart audit export [flags]   export the audit log of a local database
  rempart backup create|list|verify|restore [flags]
                                 take, check and restore backups
  rempart loadtest [flags]       measure a running server
  rempart version                print the version
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return &exitError{code: 2, err: errors.New("a subcommand is required")}
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "audit":
		return runAudit(ctx, args[1:], stdout, stderr)
	case "backup":
		return runBackup(ctx, args[1:], stdout, stderr)
	case "loadtest":
		return runLoadtest(ctx, args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "rempart", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return &exitError{code: 2, err: fmt.Errorf("unknown subcommand %q", args[0])}
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	m := NewMain(stdout, stderr)
	if err := m.ParseFlags(args); err != nil {
		return err
	}
	if err := m.Run(ctx); err != nil {
		m.Close()
		return err
	}
	select {
	case <-ctx.Done():
	case err := <-m.Err():
		m.Close()
		return err
	}
	return m.Close()
}
