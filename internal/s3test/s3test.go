// Package s3test runs a real S3 server for tests: versitygw
// (github.com/versity/versitygw) with its POSIX backend, on a free loopback
// port over a temporary directory.
//
// Install the server with
//
//	go install github.com/versity/versitygw/cmd/versitygw@latest
//
// Tests that need it skip when it is absent, except under CI (the environment
// variable CI is non-empty), where its absence fails them.
package s3test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Install is the command that installs the server.
const Install = "go install github.com/versity/versitygw/cmd/versitygw@latest"

const (
	bucket = "rempart-test"
	region = "us-east-1"
)

// Server is a running versitygw.
type Server struct {
	// Location is the blobs location of the test bucket:
	// s3://BUCKET?region=…&endpoint=…&use_path_style=true.
	Location string
	Endpoint string // http://127.0.0.1:PORT, or https:// with StartTLS
	Bucket   string

	bin, root, addr   string
	access, secret    string
	certFile, keyFile string
	client            *http.Client // trusts the server's certificate, if any

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has exited
}

// Start starts a server over plain HTTP and a fresh temporary directory,
// creates its bucket and points the AWS SDK's environment (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_REGION; shared config files and instance
// metadata disabled) at it with t.Setenv, so the test cannot be parallel. The
// server stops and its directory is removed when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t, false)
}

// StartTLS is Start over HTTPS, with a fresh self-signed certificate for
// 127.0.0.1 that AWS_CA_BUNDLE makes the SDK trust.
func StartTLS(t testing.TB) *Server {
	t.Helper()
	return start(t, true)
}

func start(t testing.TB, useTLS bool) *Server {
	t.Helper()
	bin := find(t)
	root := t.TempDir()
	s := &Server{bin: bin, root: root, Bucket: bucket, access: randomHex(t, 10), secret: randomHex(t, 20)}
	t.Setenv("AWS_ACCESS_KEY_ID", s.access)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s.secret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", region)
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(root, "no-aws-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(root, "no-aws-credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CA_BUNDLE", "")

	if err := os.Mkdir(filepath.Join(root, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	s.client = &http.Client{Timeout: 15 * time.Second}
	scheme := "http"
	if useTLS {
		cert, certFile, keyFile, err := writeCert(root)
		if err != nil {
			t.Fatal(err)
		}
		s.certFile, s.keyFile = certFile, keyFile
		t.Setenv("AWS_CA_BUNDLE", certFile)
		pool := x509.NewCertPool()
		pool.AddCert(cert)
		s.client.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
		scheme = "https"
	}
	t.Cleanup(func() { s.stop() })
	var err error
	for range 3 { // another process may take the free port before the server binds it
		s.addr = freeAddr(t)
		s.Endpoint = scheme + "://" + s.addr
		if err = s.start(); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("start versitygw: %v", err)
	}
	s.Location = fmt.Sprintf("s3://%s?region=%s&endpoint=%s&use_path_style=true", bucket, region, url.QueryEscape(s.Endpoint))
	if err := s.createBucket(); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	return s
}

// Dir is the directory where the server keeps its buckets' objects, for
// tests that look at what reached the disk.
func (s *Server) Dir() string { return filepath.Join(s.root, "data") }

// Stop stops the server, keeping its data, so that tests can see how clients
// fail when the store is unreachable.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	s.stop()
}

// Restart starts a stopped server again, on the same address and data.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if err := s.start(); err != nil {
		t.Fatalf("restart versitygw: %v", err)
	}
}

// find returns the path of versitygw, from PATH or Go's install directory, or
// skips the test (fails it under CI).
func find(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	for _, dir := range goBinDirs() {
		p := filepath.Join(dir, "versitygw")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	msg := "versitygw (S3 server) not found on PATH or in $(go env GOPATH)/bin; install it with: " + Install
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI must not skip this test)")
	}
	t.Skip(msg)
	return ""
}

// goBinDirs lists where `go install` puts binaries: GOBIN, else the bin
// directory of the first GOPATH entry.
func goBinDirs() []string {
	out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output()
	if err != nil {
		return nil
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var dirs []string
	if len(lines) > 0 && strings.TrimSpace(lines[0]) != "" {
		dirs = append(dirs, strings.TrimSpace(lines[0]))
	}
	if len(lines) > 1 {
		if gopath := filepath.SplitList(strings.TrimSpace(lines[1])); len(gopath) > 0 && gopath[0] != "" {
			dirs = append(dirs, filepath.Join(gopath[0], "bin"))
		}
	}
	return dirs
}

// start runs the server and waits until it answers its health check.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("already running")
	}
	args := []string{"--port", s.addr, "--health", "/health", "--quiet"}
	if s.certFile != "" {
		args = append(args, "--cert", s.certFile, "--key", s.keyFile)
	}
	args = append(args, "posix", filepath.Join(s.root, "data"))
	cmd := exec.Command(s.bin, args...)
	// The root credentials go through the environment, not the command line
	// that other users of the machine can read.
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID="+s.access, "ROOT_SECRET_ACCESS_KEY="+s.secret)
	out := &bytes.Buffer{}
	cmd.Stdout = &limitedWriter{w: out, n: 64 << 10}
	cmd.Stderr = cmd.Stdout
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()

	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-exited:
			return fmt.Errorf("versitygw exited: %s", strings.TrimSpace(out.String()))
		default:
		}
		if resp, err := s.client.Get(s.Endpoint + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			return fmt.Errorf("versitygw did not answer on %s: %s", s.addr, strings.TrimSpace(out.String()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.cmd, s.exited = cmd, exited
	return nil
}

// stop terminates the server: SIGTERM, then SIGKILL after five seconds.
func (s *Server) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	cmd, exited := s.cmd, s.exited
	s.cmd, s.exited = nil, nil
	if err := cmd.Process.Signal(terminate); err != nil {
		cmd.Process.Kill()
	}
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-exited
	}
}

func (s *Server) createBucket() error {
	client := s3.New(s3.Options{
		HTTPClient:   s.client,
		Region:       region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.access, s.secret, ""),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s.Bucket)})
	return err
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// limitedWriter keeps the first n bytes of the server's output, for error
// messages, and drops the rest.
type limitedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
	n  int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.n - l.w.Len(); room > 0 {
		l.w.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
