//go:build cgo

package hsm

import (
	"context"
	"errors"
	"sync"

	"github.com/miekg/pkcs11"
)

var errClosed = errors.New("pkcs11 root key source is closed")

// pool lends PKCS#11 sessions one caller at a time. At most cap(sem)
// sessions exist; they are opened on demand and kept until close.
type pool struct {
	p    *pkcs11.Ctx
	open func() (pkcs11.SessionHandle, error)
	sem  chan struct{}
	done chan struct{} // closed by close

	mu     sync.Mutex
	idle   []pkcs11.SessionHandle
	closed bool
}

func newPool(p *pkcs11.Ctx, max int, open func() (pkcs11.SessionHandle, error)) *pool {
	return &pool{p: p, open: open, sem: make(chan struct{}, max), done: make(chan struct{})}
}

// get waits for a free session, or ctx.
func (l *pool) get(ctx context.Context) (pkcs11.SessionHandle, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return 0, errClosed
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		<-l.sem
		return 0, errClosed
	}
	if n := len(l.idle); n > 0 {
		sh := l.idle[n-1]
		l.idle = l.idle[:n-1]
		l.mu.Unlock()
		return sh, nil
	}
	l.mu.Unlock()
	sh, err := l.open()
	if err != nil {
		<-l.sem
		return 0, err
	}
	return sh, nil
}

// put returns a session; a broken one is closed instead.
func (l *pool) put(sh pkcs11.SessionHandle, broken bool) {
	if broken {
		l.p.CloseSession(sh)
	} else {
		l.mu.Lock()
		l.idle = append(l.idle, sh)
		l.mu.Unlock()
	}
	<-l.sem
}

// do runs f on a session. When the session turns out to be unusable (the
// HSM restarted, the login was lost) it is dropped and f runs once more on a
// fresh one.
func (l *pool) do(ctx context.Context, f func(pkcs11.SessionHandle) error) error {
	for attempt := 0; ; attempt++ {
		sh, err := l.get(ctx)
		if err != nil {
			return err
		}
		err = f(sh)
		l.put(sh, breaksSession(err))
		if attempt == 0 && staleSession(err) {
			continue
		}
		return err
	}
}

// close waits for sessions in use, then lets last run on one session (to log
// out; 0 when none could be opened) and closes them all.
func (l *pool) close(last func(pkcs11.SessionHandle) error) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return errClosed
	}
	l.closed = true
	close(l.done)
	l.mu.Unlock()
	for range cap(l.sem) {
		l.sem <- struct{}{}
	}
	l.mu.Lock()
	idle := l.idle
	l.idle = nil
	l.mu.Unlock()
	if len(idle) == 0 {
		if sh, err := l.open(); err == nil {
			idle = append(idle, sh)
		}
	}
	var sh pkcs11.SessionHandle // 0 is CK_INVALID_HANDLE: no session
	if len(idle) > 0 {
		sh = idle[0]
	}
	err := last(sh)
	for _, sh := range idle {
		l.p.CloseSession(sh)
	}
	return err
}

// staleSession reports errors after which a new session may succeed.
func staleSession(err error) bool {
	for _, c := range []uint{pkcs11.CKR_SESSION_HANDLE_INVALID, pkcs11.CKR_SESSION_CLOSED, pkcs11.CKR_USER_NOT_LOGGED_IN} {
		if isCode(err, c) {
			return true
		}
	}
	return false
}

// breaksSession reports whether a session should be dropped after err: any
// PKCS#11 error except those that leave the session as it was.
func breaksSession(err error) bool {
	var e pkcs11.Error
	if !errors.As(err, &e) {
		return false
	}
	switch uint(e) {
	case pkcs11.CKR_ENCRYPTED_DATA_INVALID, pkcs11.CKR_ENCRYPTED_DATA_LEN_RANGE,
		pkcs11.CKR_KEY_HANDLE_INVALID, pkcs11.CKR_OBJECT_HANDLE_INVALID,
		pkcs11.CKR_ATTRIBUTE_SENSITIVE, pkcs11.CKR_ATTRIBUTE_TYPE_INVALID:
		return false
	}
	return true
}
