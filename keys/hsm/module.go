//go:build cgo

package hsm

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/miekg/pkcs11"
)

// A PKCS#11 library is initialised once per process, and a token's login is
// shared by every session the process has on it. modules counts the Sources
// that use each library and each token, so that the last one out logs out and
// finalises, and so that a second Source on a logged-in token must still
// present the right PIN.
var modules = struct {
	sync.Mutex
	m map[string]*module
}{m: map[string]*module{}}

type module struct {
	path   string
	ctx    *pkcs11.Ctx
	refs   int
	owned  bool // rempart initialised the library, so it finalises it
	logins map[uint]*login
}

type login struct {
	pin  [32]byte // SHA-256 of the PIN that logged in
	refs int
}

// loadModule loads and initialises the library at path, or shares the one
// already loaded (under this or another name: the key is the real path).
func loadModule(path string) (*module, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("pkcs11 module %s not found: install the HSM's PKCS#11 library or fix module-path", path)
	} else if err != nil {
		return nil, fmt.Errorf("pkcs11 module: %w", err)
	}
	resolved, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, fmt.Errorf("pkcs11 module: %w", err)
	}
	modules.Lock()
	defer modules.Unlock()
	if m := modules.m[resolved]; m != nil {
		m.refs++
		return m, nil
	}
	ctx := pkcs11.New(path)
	if ctx == nil {
		return nil, fmt.Errorf("pkcs11 module %s could not be loaded: not a PKCS#11 library for this platform", path)
	}
	owned := true
	if err := ctx.Initialize(); err != nil {
		if !isCode(err, pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
			ctx.Destroy()
			return nil, fmt.Errorf("initialise pkcs11 module %s: %w", path, err)
		}
		owned = false
	}
	m := &module{path: resolved, ctx: ctx, refs: 1, owned: owned, logins: map[uint]*login{}}
	modules.m[resolved] = m
	return m, nil
}

// release undoes loadModule.
func (m *module) release() error {
	modules.Lock()
	defer modules.Unlock()
	if m.refs--; m.refs > 0 {
		return nil
	}
	delete(modules.m, m.path)
	var err error
	if m.owned {
		if err = m.ctx.Finalize(); err != nil {
			err = fmt.Errorf("finalise pkcs11 module: %w", err)
		}
	}
	m.ctx.Destroy()
	return err
}

// login logs the user in to the token in slot through session sh, or, when a
// Source of this process already did, checks that pin is the same PIN.
func (m *module) login(sh pkcs11.SessionHandle, slot uint, token, pin string) error {
	modules.Lock()
	defer modules.Unlock()
	sum := sha256.Sum256([]byte(pin))
	if l := m.logins[slot]; l != nil {
		if subtle.ConstantTimeCompare(l.pin[:], sum[:]) != 1 {
			return fmt.Errorf("log in to pkcs11 token %q: wrong PIN", token)
		}
		l.refs++
		return nil
	}
	if err := m.ctx.Login(sh, pkcs11.CKU_USER, pin); err != nil && !isCode(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
		return loginError(token, err)
	}
	m.logins[slot] = &login{pin: sum, refs: 1}
	return nil
}

// logout undoes login; the last Source on the token logs out, through sh
// unless it is 0 (closing every session logs out too).
func (m *module) logout(sh pkcs11.SessionHandle, slot uint) error {
	modules.Lock()
	defer modules.Unlock()
	l := m.logins[slot]
	if l == nil {
		return nil
	}
	if l.refs--; l.refs > 0 {
		return nil
	}
	delete(m.logins, slot)
	if sh == 0 {
		return nil
	}
	if err := m.ctx.Logout(sh); err != nil && !isCode(err, pkcs11.CKR_USER_NOT_LOGGED_IN) {
		return fmt.Errorf("log out of pkcs11 token: %w", err)
	}
	return nil
}

func loginError(token string, err error) error {
	switch {
	case isCode(err, pkcs11.CKR_PIN_INCORRECT):
		return fmt.Errorf("log in to pkcs11 token %q: wrong PIN (%w)", token, err)
	case isCode(err, pkcs11.CKR_PIN_LOCKED):
		return fmt.Errorf("log in to pkcs11 token %q: the user PIN is locked, unlock it with the security officer PIN (%w)", token, err)
	case isCode(err, pkcs11.CKR_PIN_EXPIRED):
		return fmt.Errorf("log in to pkcs11 token %q: the user PIN has expired (%w)", token, err)
	case isCode(err, pkcs11.CKR_PIN_LEN_RANGE):
		return fmt.Errorf("log in to pkcs11 token %q: wrong PIN length (%w)", token, err)
	}
	return fmt.Errorf("log in to pkcs11 token %q: %w", token, err)
}

// isCode reports whether err is the PKCS#11 return value code.
func isCode(err error, code uint) bool {
	var e pkcs11.Error
	return errors.As(err, &e) && uint(e) == code
}
