package httpsrv

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Listener is one address served by a Server. Public and internal traffic
// are separate listeners (TEN-3): the internal one (health, metrics) is given
// its own handler and address, never the API's.
type Listener struct {
	Name    string // "https", "http-redirect", "internal"
	Addr    string // "host:port"; port 0 picks a free port
	Handler http.Handler
	TLS     *tls.Config // nil for plain listeners
}

// Server groups named listeners, starts them together and shuts them down
// together.
type Server struct {
	logger *slog.Logger
	ls     []Listener
	errc   chan error
	wg     sync.WaitGroup // one per serving goroutine

	mu      sync.Mutex
	started bool
	stopped bool
	addrs   map[string]string
	lns     []net.Listener
	srvs    []*http.Server
}

// New returns a server for the listeners; nothing is bound until Start.
func New(logger *slog.Logger, ls ...Listener) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Server{logger: logger, ls: ls, addrs: map[string]string{}, errc: make(chan error, len(ls))}
}

// Start checks the listeners, binds every one of them, then serves each in
// its own goroutine. When Start returns nil, Addr reports the bound
// addresses and connections are accepted. If one cannot bind, those already
// bound are closed and the error is returned. A Listener without a Handler is
// refused rather than falling back to http.DefaultServeMux, which anything in
// the binary may have registered routes on (TEN-3).
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.stopped {
		return errors.New("httpsrv: server already started or shut down")
	}
	seen := map[string]bool{}
	for _, l := range s.ls {
		switch {
		case l.Name == "" || seen[l.Name]:
			return fmt.Errorf("httpsrv: listener name %q is empty or repeated", l.Name)
		case l.Handler == nil:
			return fmt.Errorf("httpsrv: listener %s has no handler", l.Name)
		}
		seen[l.Name] = true
	}
	lns := make([]net.Listener, 0, len(s.ls))
	for _, l := range s.ls {
		ln, err := net.Listen("tcp", l.Addr)
		if err != nil {
			for _, b := range lns {
				b.Close()
			}
			return fmt.Errorf("listen %s on %s: %w", l.Name, l.Addr, err)
		}
		lns = append(lns, ln)
	}
	s.started, s.lns = true, lns
	for i, l := range s.ls {
		ln := lns[i]
		srv := &http.Server{
			Handler:           l.Handler,
			TLSConfig:         l.TLS,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       60 * time.Second,
			WriteTimeout:      120 * time.Second,
			IdleTimeout:       120 * time.Second,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          log.New(errorLogWriter{s.logger, l.Name}, "", 0),
		}
		s.srvs = append(s.srvs, srv)
		s.addrs[l.Name] = ln.Addr().String()
		s.logger.Info("listening", "listener", l.Name, "addr", ln.Addr().String(), "tls", l.TLS != nil)
		s.wg.Add(1)
		go s.serve(l.Name, srv, ln, l.TLS != nil)
	}
	return nil
}

// serve runs until Shutdown; any other end is reported on Err.
func (s *Server) serve(name string, srv *http.Server, ln net.Listener, useTLS bool) {
	defer s.wg.Done()
	defer ln.Close() // ServeTLS can fail before it takes ownership of ln
	var err error
	if useTLS {
		// ServeTLS wraps ln in TLS using srv.TLSConfig and, since that
		// config offers "h2" over ALPN, serves HTTP/2 as well.
		err = srv.ServeTLS(ln, "", "")
	} else {
		err = srv.Serve(ln)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.logger.Error("listener stopped", "listener", name, "err", err)
		select {
		case s.errc <- fmt.Errorf("serve %s: %w", name, err):
		default:
		}
	}
}

// Addr returns the actual address of the named listener after Start (useful
// with port 0), or "" if it is unknown or not bound.
func (s *Server) Addr(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addrs[name]
}

// Err returns a channel that receives a listener's fatal serve error; a
// graceful Shutdown sends nothing.
func (s *Server) Err() <-chan error { return s.errc }

// Shutdown stops every listener from accepting connections at once, then
// lets in-flight requests finish until ctx is done (the graceful stop for
// SIGTERM); connections still open at that point are closed and ctx's error
// is returned. It waits for the serving goroutines to end. It is safe to call
// before Start or more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.stopped = true
	srvs, lns, ls := s.srvs, s.lns, s.ls
	s.mu.Unlock()
	errs := make([]error, len(srvs))
	var wg sync.WaitGroup
	for i, srv := range srvs {
		wg.Go(func() {
			if err := srv.Shutdown(ctx); err != nil {
				srv.Close()
				errs[i] = fmt.Errorf("shut down %s: %w", ls[i].Name, err)
			}
		})
	}
	wg.Wait()
	// A goroutine that had not yet reached Serve when Shutdown ran leaves
	// its listener to us.
	for _, ln := range lns {
		ln.Close()
	}
	s.wg.Wait()
	return errors.Join(errs...)
}

// errorLogWriter sends net/http's own log lines to slog. Failed TLS
// handshakes, common from scanners on a public port, go to debug.
type errorLogWriter struct {
	logger   *slog.Logger
	listener string
}

func (w errorLogWriter) Write(p []byte) (int, error) {
	msg := strings.TrimSpace(string(p))
	level := slog.LevelWarn
	if strings.Contains(msg, "TLS handshake error") {
		level = slog.LevelDebug
	}
	w.logger.Log(context.Background(), level, msg, "listener", w.listener)
	return len(p), nil
}
