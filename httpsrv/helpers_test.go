package httpsrv_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rempart/rempart/httpsrv"
)

// fakeClock is a rempart.Clock moved by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// newCert creates a self-signed ECDSA certificate in a temporary directory.
func newCert(t *testing.T) tls.Certificate {
	t.Helper()
	dir := t.TempDir()
	cert, _, created, err := httpsrv.LoadOrCreateCertificate(filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"), nil, time.Now())
	if err != nil || !created {
		t.Fatalf("LoadOrCreateCertificate: got created=%v err=%v, want a new certificate", created, err)
	}
	return cert
}

// newRSACert returns an in-memory self-signed RSA certificate, to exercise
// the ECDHE-RSA suites.
func newRSACert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// start starts a Server with the listeners and shuts it down at the end of
// the test.
func start(t *testing.T, ls ...httpsrv.Listener) *httpsrv.Server {
	t.Helper()
	s := httpsrv.New(discardLogger(), ls...)
	if err := s.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s
}

// startHTTPS starts a single "https" listener on 127.0.0.1:0 serving h
// behind HSTS.
func startHTTPS(t *testing.T, cert tls.Certificate, h http.Handler) *httpsrv.Server {
	t.Helper()
	return start(t, httpsrv.Listener{Name: "https", Addr: "127.0.0.1:0", Handler: httpsrv.HSTS(h), TLS: httpsrv.TLSConfig(cert)})
}

func okHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
}

// insecureClient trusts any certificate and does not follow redirects.
func insecureClient() *http.Client {
	return &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}
}
