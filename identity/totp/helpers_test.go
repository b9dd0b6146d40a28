package totp

import (
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/rempart/rempart"
)

// rfcSecret is the SHA-1 seed of RFC 4226 Appendix D and RFC 6238 Appendix B.
var rfcSecret = []byte("12345678901234567890")

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// atStep returns a time in the middle of step s.
func atStep(s int64) time.Time {
	return time.Unix(s*30+15, 0).UTC()
}

func newVerifier(t *testing.T, now time.Time, skew int) *Verifier {
	t.Helper()
	v, err := NewVerifier(fixedClock{now}, skew)
	if err != nil {
		t.Fatalf("NewVerifier(skew %d): %v", skew, err)
	}
	return v
}

// needTool returns the path of an external program, skipping the test when
// it is absent, or failing it under CI, where everything must be installed.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not found under CI (apt-get install %s): %v", name, pkg, err)
		}
		t.Skipf("%s not found; apt-get install %s to run this test", name, pkg)
	}
	return path
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := rempart.ErrorCode(err); got != code {
		t.Fatalf("error code: got %q (%v), want %q", got, err, code)
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want %v", err, target)
	}
}
