package s3test_test

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rempart/rempart/internal/s3test"
)

func TestStartStopRestart(t *testing.T) {
	srv := s3test.Start(t)
	if !strings.HasPrefix(srv.Location, "s3://"+srv.Bucket+"?") || os.Getenv("AWS_ACCESS_KEY_ID") == "" {
		t.Fatalf("start: got location %s and no credentials, want s3://%s?… and credentials", srv.Location, srv.Bucket)
	}
	health := func() error {
		resp, err := http.Get(srv.Endpoint + "/health")
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := health(); err != nil {
		t.Fatalf("health after start: %v", err)
	}
	srv.Stop(t)
	if err := health(); err == nil {
		t.Fatal("health after stop: got an answer, want none")
	}
	srv.Restart(t)
	if err := health(); err != nil {
		t.Fatalf("health after restart: %v", err)
	}
}

// TestMissingServer runs Start in a child process that cannot find
// versitygw: it skips, saying how to install it, unless CI is set, in which
// case it fails.
func TestMissingServer(t *testing.T) {
	if os.Getenv("S3TEST_CHILD") != "" {
		s3test.Start(t)
		return
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not on PATH")
	}
	empty := t.TempDir()
	for _, tc := range []struct{ ci, want string }{{"", "--- SKIP"}, {"true", "--- FAIL"}} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMissingServer$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(),
			"S3TEST_CHILD=1",
			"CI="+tc.ci,
			"PATH="+filepath.Dir(goBin), // go, but no versitygw
			"GOPATH="+empty,
			"GOBIN=",
		)
		out, _ := cmd.CombinedOutput()
		if !strings.Contains(string(out), tc.want) || !strings.Contains(string(out), s3test.Install) {
			t.Errorf("CI=%q: got\n%s\nwant %s and the install command", tc.ci, out, tc.want)
		}
	}
}
