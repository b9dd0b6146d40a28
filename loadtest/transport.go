package loadtest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// requestTimeout bounds each request, so that a lost answer cannot stall a
// worker for good.
const requestTimeout = 30 * time.Second

// newHTTPClient returns the one HTTP client of a run, shared by every
// worker so that connections are reused: HTTP/1.1 keeping an idle
// connection per worker, or HTTP/2.
func newHTTPClient(cfg Config) (*http.Client, *protoRecorder, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.InsecureSkipVerify}
	if cfg.CACertFile != "" {
		pem, err := os.ReadFile(cfg.CACertFile)
		if err != nil {
			return nil, nil, fmt.Errorf("ca certificates: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, fmt.Errorf("ca certificates: no PEM certificate in %s", cfg.CACertFile)
		}
		tc.RootCAs = pool
	}
	// Plain http:// (for tests behind a TLS-terminating proxy) speaks
	// HTTP/1.1 only.
	plain := strings.HasPrefix(strings.ToLower(cfg.URL), "http:")
	var protos http.Protocols
	protos.SetHTTP1(!cfg.HTTP2 || plain)
	protos.SetHTTP2(cfg.HTTP2)
	idle := cfg.Concurrency + 8
	t := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tc,
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConns:          idle,
		MaxIdleConnsPerHost:   idle,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		Protocols:             &protos,
	}
	rec := &protoRecorder{next: t}
	return &http.Client{Transport: rec, Timeout: requestTimeout}, rec, nil
}

// protoRecorder remembers the protocol of the answers, to report the one
// actually negotiated.
type protoRecorder struct {
	next  http.RoundTripper
	proto atomic.Pointer[string]
}

func (p *protoRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := p.next.RoundTrip(r)
	if err == nil && p.proto.Load() == nil {
		proto := resp.Proto
		p.proto.Store(&proto)
	}
	return resp, err
}

func (p *protoRecorder) get() string {
	if s := p.proto.Load(); s != nil {
		return *s
	}
	return ""
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// transport.
func (p *protoRecorder) CloseIdleConnections() {
	if c, ok := p.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
