package blobs_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rempart/rempart/blobs"
)

// TestLocalTargetFull makes the kernel refuse a local store's writes midway,
// as a full disk would: a child process runs Put under a file size limit
// (RLIMIT_FSIZE), so that its write(2) fails with EFBIG after 1 MiB of a 4 MiB
// object. The limit is set in a child so that it does not touch other tests.
// The Put must fail, saying why, and leave nothing behind.
func TestLocalTargetFull(t *testing.T) {
	if dir := os.Getenv("BLOBS_TEST_FSIZE_CHILD"); dir != "" {
		fullChild(t, dir)
		return
	}
	dir := filepath.Join(t.TempDir(), "blobs")
	cmd := exec.Command(os.Args[0], "-test.run=^TestLocalTargetFull$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "BLOBS_TEST_FSIZE_CHILD="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("child did not pass:\n%s", out)
	}
	t.Logf("child:\n%s", out)
	s := open(t, dir)
	assertAbsent(t, s, "t/full")
}

func fullChild(t *testing.T, dir string) {
	s := open(t, dir)
	signal.Ignore(syscall.SIGXFSZ) // get EFBIG from write(2) rather than die
	lim := syscall.Rlimit{Cur: 1 << 20, Max: 1 << 20}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Fatalf("limit file size: %v", err)
	}
	_, err := s.Put(context.Background(), "t/full", newPattern(4*MiB))
	t.Logf("put under a 1 MiB file size limit: %v", err)
	if !errors.Is(err, syscall.EFBIG) || !strings.Contains(err.Error(), "not stored") {
		t.Errorf("put: got %v, want EFBIG and not stored", err)
	}
	if _, err := s.Stat(context.Background(), "t/full"); !errors.Is(err, blobs.ErrNotFound) {
		t.Errorf("stat: got %v, want ErrNotFound", err)
	}
}
