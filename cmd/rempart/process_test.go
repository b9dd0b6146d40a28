package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds rempart once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "rempart-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "rempart")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// proc is a rempart serve process.
type proc struct {
	cmd       *exec.Cmd
	url       string
	bootstrap string
	stderr    *bytes.Buffer
}

var (
	servingRE   = regexp.MustCompile(`serving (https://\S+) `)
	bootstrapRE = regexp.MustCompile(`^\s+(rb_\S+)\s*$`)
)

// startServer runs `rempart serve` on free ports in dir and waits until it
// says where it serves.
func startServer(t *testing.T, dir string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--http-listen", "", "--internal-listen", "127.0.0.1:0"}, extra...)
	cmd := exec.Command(binary(t), args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, stderr: &bytes.Buffer{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(30 * time.Second)
	drain := func() {
		go func() {
			for range lines {
			}
		}()
	}
	sawHealth, wantToken := false, false
	for {
		var idle <-chan time.Time
		if sawHealth && !wantToken {
			idle = time.After(300 * time.Millisecond)
		}
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("server exited before serving: %s", p.stderr)
			}
			if m := servingRE.FindStringSubmatch(line); m != nil {
				p.url = m[1]
			}
			sawHealth = sawHealth || strings.HasPrefix(line, "health")
			wantToken = wantToken || strings.HasPrefix(line, "No administrator")
			if m := bootstrapRE.FindStringSubmatch(line); m != nil {
				p.bootstrap = m[1]
			}
			if p.bootstrap != "" && strings.Contains(line, "/api/v1/bootstrap") {
				drain()
				return p
			}
		case <-idle:
			drain()
			return p
		case <-deadline:
			t.Fatalf("server did not start in 30 s: %s", p.stderr)
		}
	}
}

// api is a minimal HTTPS client for process tests (self-signed server).
type api struct {
	t   testing.TB
	url string
	key string
	hc  *http.Client
}

func newAPI(t testing.TB, url, key string) *api {
	return &api{t: t, url: url, key: key, hc: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, MaxIdleConnsPerHost: 64,
	}}}
}

// do sends a request and decodes a JSON answer into out (if not nil); it
// returns the status.
func (a *api) do(method, path, body string, out any) (int, error) {
	req, err := http.NewRequest(method, a.url+path, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.key != "" {
		req.Header.Set("Authorization", "Bearer "+a.key)
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil && resp.StatusCode < 300 {
		if w, ok := out.(io.Writer); ok {
			w.Write(b)
		} else if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode %s: %w", b, err)
		}
	}
	return resp.StatusCode, nil
}

// must is do that fails the test unless the status is want.
func (a *api) must(want int, method, path, body string, out any) {
	a.t.Helper()
	got, err := a.do(method, path, body, out)
	if err != nil || got != want {
		a.t.Fatalf("%s %s: got %d (%v), want %d", method, path, got, err, want)
	}
}
