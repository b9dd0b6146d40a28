package httpsrv_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart/httpsrv"
)

func TestServerListeners(t *testing.T) {
	internal := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "healthy") })
	s := start(t,
		httpsrv.Listener{Name: "https", Addr: "127.0.0.1:0", Handler: httpsrv.HSTS(okHandler()), TLS: httpsrv.TLSConfig(newCert(t))},
		httpsrv.Listener{Name: "http-redirect", Addr: "127.0.0.1:0", Handler: httpsrv.RedirectHandler(8443)},
		httpsrv.Listener{Name: "internal", Addr: "127.0.0.1:0", Handler: internal},
	)
	c := insecureClient()
	get := func(url string) (int, string, http.Header) {
		t.Helper()
		resp, err := c.Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), resp.Header
	}
	if st, body, _ := get("https://" + s.Addr("https") + "/"); st != 200 || body != "ok" {
		t.Errorf("https: got %d %q, want 200 \"ok\"", st, body)
	}
	if st, _, h := get("http://" + s.Addr("http-redirect") + "/x?y=1"); st != 308 || h.Get("Location") != "https://127.0.0.1:8443/x?y=1" {
		t.Errorf("http-redirect: got %d %q, want 308 https://127.0.0.1:8443/x?y=1", st, h.Get("Location"))
	}
	if st, body, _ := get("http://" + s.Addr("internal") + "/"); st != 200 || body != "healthy" {
		t.Errorf("internal: got %d %q, want 200 \"healthy\"", st, body)
	}
	if st, _, _ := get("http://" + s.Addr("https") + "/"); st != http.StatusBadRequest {
		t.Errorf("plain HTTP on the HTTPS port: got %d, want 400", st)
	}
	if got := s.Addr("unknown"); got != "" {
		t.Errorf("Addr(unknown): got %q, want \"\"", got)
	}
	if err := s.Start(); err == nil {
		t.Error("second Start: got nil, want an error")
	}
	c.CloseIdleConnections()
}

func TestStartBindErrorClosesBound(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	freeAddr := free.Addr().String()
	free.Close()

	s := httpsrv.New(discardLogger(),
		httpsrv.Listener{Name: "first", Addr: freeAddr, Handler: okHandler()},
		httpsrv.Listener{Name: "second", Addr: busy.Addr().String(), Handler: okHandler()},
	)
	if err := s.Start(); err == nil || !strings.Contains(err.Error(), "second") {
		t.Fatalf("Start: got %v, want a listen error for the second listener", err)
	}
	if got := s.Addr("first"); got != "" {
		t.Errorf("Addr(first) after a failed Start: got %q, want \"\"", got)
	}
	ln, err := net.Listen("tcp", freeAddr)
	if err != nil {
		t.Fatalf("rebinding the first listener's address: got %v, want it released", err)
	}
	ln.Close()
}

func TestStartRejectsBadListeners(t *testing.T) {
	cases := map[string][]httpsrv.Listener{
		"no handler": {{Name: "internal", Addr: "127.0.0.1:0"}},
		"same name":  {{Name: "a", Addr: "127.0.0.1:0", Handler: okHandler()}, {Name: "a", Addr: "127.0.0.1:0", Handler: okHandler()}},
		"no name":    {{Addr: "127.0.0.1:0", Handler: okHandler()}},
	}
	for name, ls := range cases {
		s := httpsrv.New(discardLogger(), ls...)
		if err := s.Start(); err == nil {
			s.Shutdown(context.Background())
			t.Errorf("%s: Start got nil, want an error", name)
		}
	}
}

func TestShutdownDrains(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	s := startHTTPS(t, newCert(t), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "done")
	}))
	addr := s.Addr("https")
	type result struct {
		status int
		body   string
		err    error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := insecureClient().Get("https://" + addr + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		got <- result{resp.StatusCode, string(body), err}
	}()
	<-entered

	done := make(chan error, 1)
	go func() { done <- s.Shutdown(context.Background()) }()
	// The listener closes at once, while the request is still in flight.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("new connections still accepted 5s after Shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v before the in-flight request finished", err)
	default:
	}
	close(release)
	if r := <-got; r.err != nil || r.status != 200 || r.body != "done" {
		t.Fatalf("in-flight request: got %d %q (err %v), want 200 \"done\"", r.status, r.body, r.err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: got %v, want nil", err)
	}
	if _, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true}); err == nil {
		t.Fatal("TLS connection after Shutdown: got success, want refusal")
	}
}

func TestShutdownDeadlineCloses(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	s := startHTTPS(t, newCert(t), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	}))
	failed := make(chan error, 1)
	go func() {
		resp, err := insecureClient().Get("https://" + s.Addr("https") + "/stuck")
		if err == nil {
			resp.Body.Close()
		}
		failed <- err
	}()
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	begin := time.Now()
	if err := s.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown: got %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(begin); d > 3*time.Second {
		t.Errorf("Shutdown took %v, want about 100ms", d)
	}
	select {
	case err := <-failed:
		if err == nil {
			t.Error("stuck request: got a response, want its connection closed")
		}
	case <-time.After(3 * time.Second):
		t.Error("stuck request: still open 3s after Shutdown's deadline, want its connection closed")
	}
}

func TestShutdownBeforeStart(t *testing.T) {
	s := httpsrv.New(nil, httpsrv.Listener{Name: "internal", Addr: "127.0.0.1:0", Handler: okHandler()})
	if err := s.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown before Start: got %v, want nil", err)
	}
	if err := s.Start(); err == nil {
		s.Shutdown(context.Background())
		t.Error("Start after Shutdown: got nil, want an error")
	}
}

func TestErrReportsServeFailure(t *testing.T) {
	// A TLS listener without a certificate cannot serve.
	s := start(t, httpsrv.Listener{Name: "broken", Addr: "127.0.0.1:0", Handler: okHandler(), TLS: &tls.Config{}})
	select {
	case err := <-s.Err():
		if err == nil || !strings.Contains(err.Error(), "broken") {
			t.Errorf("Err: got %v, want an error naming the listener", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Err: nothing received in 5s")
	}
	if c, err := net.Dial("tcp", s.Addr("broken")); err == nil {
		c.Close()
		t.Error("failed listener still accepts connections")
	}
}
