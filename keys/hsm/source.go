//go:build cgo

package hsm

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/miekg/pkcs11"

	"github.com/rempart/rempart/keys"
)

// Source is the root key versions on one PKCS#11 token. It implements
// keys.RootKeys; its versions implement keys.Provider.
type Source struct {
	cfg  config
	mod  *module
	p    *pkcs11.Ctx
	slot uint
	desc string
	pin  string // kept to log in again if the HSM drops the login
	pool *pool

	createMu sync.Mutex // one Create at a time in this process

	mu   sync.Mutex
	objs map[string]*object // by label: the objects versions refer to
}

var _ keys.RootKeys = (*Source)(nil)

// Open connects to the token that uri names (see the package documentation
// for its form) and logs in. Its errors never contain the PIN.
func Open(uri string) (*Source, error) {
	cfg, err := parseURI(uri)
	if err != nil {
		return nil, err
	}
	pin, err := cfg.readPIN()
	if err != nil {
		return nil, err
	}
	mod, err := loadModule(cfg.module)
	if err != nil {
		return nil, err
	}
	s, err := connect(cfg, mod, pin)
	if err != nil {
		mod.release()
		return nil, err
	}
	return s, nil
}

func connect(cfg config, mod *module, pin string) (*Source, error) {
	p := mod.ctx
	slot, info, err := findToken(p, cfg)
	if err != nil {
		return nil, err
	}
	if info.Flags&pkcs11.CKF_USER_PIN_INITIALIZED == 0 {
		return nil, fmt.Errorf("pkcs11 token %q has no user PIN yet: initialise it first", cfg.token)
	}
	if err := checkMechanisms(p, slot, cfg.token); err != nil {
		return nil, err
	}
	s := &Source{
		cfg: cfg, mod: mod, p: p, slot: slot, pin: pin, objs: map[string]*object{},
		desc: fmt.Sprintf("PKCS#11 token %q (serial %s, slot %d, %s %s), keys %s-N, module %s",
			cfg.token, info.SerialNumber, slot, info.ManufacturerID, info.Model, cfg.object, cfg.module),
	}
	sh, err := p.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return nil, fmt.Errorf("open pkcs11 session: %w", err)
	}
	if err := mod.login(sh, slot, cfg.token, pin); err != nil {
		p.CloseSession(sh)
		return nil, err
	}
	s.pool = newPool(p, cfg.maxSessions, s.openSession)
	s.pool.idle = append(s.pool.idle, sh)
	return s, nil
}

// openSession opens a pool session and makes sure the token is logged in.
func (s *Source) openSession() (pkcs11.SessionHandle, error) {
	sh, err := s.p.OpenSession(s.slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return 0, fmt.Errorf("open pkcs11 session: %w", err)
	}
	if err := s.p.Login(sh, pkcs11.CKU_USER, s.pin); err != nil && !isCode(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
		s.p.CloseSession(sh)
		return 0, loginError(s.cfg.token, err)
	}
	return sh, nil
}

// findToken returns the slot of the one token that cfg describes.
func findToken(p *pkcs11.Ctx, cfg config) (uint, pkcs11.TokenInfo, error) {
	slots, err := p.GetSlotList(true)
	if err != nil {
		return 0, pkcs11.TokenInfo{}, fmt.Errorf("list pkcs11 slots: %w", err)
	}
	var (
		labels []string
		found  []uint
		info   pkcs11.TokenInfo
	)
	for _, slot := range slots {
		ti, err := p.GetTokenInfo(slot)
		if err != nil || ti.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 {
			continue
		}
		labels = append(labels, fmt.Sprintf("%q", ti.Label))
		if ti.Label != cfg.token ||
			(cfg.serial != "" && ti.SerialNumber != cfg.serial) ||
			(cfg.manufacturer != "" && ti.ManufacturerID != cfg.manufacturer) ||
			(cfg.model != "" && ti.Model != cfg.model) ||
			(cfg.slotID != nil && slot != *cfg.slotID) {
			continue
		}
		found = append(found, slot)
		info = ti
	}
	switch len(found) {
	case 0:
		have := "none"
		if len(labels) > 0 {
			have = strings.Join(labels, ", ")
		}
		return 0, info, fmt.Errorf("pkcs11 token %q not found in module %s (tokens: %s)", cfg.token, cfg.module, have)
	case 1:
		return found[0], info, nil
	}
	return 0, info, fmt.Errorf("%d pkcs11 tokens match %q: add serial=… to the URI", len(found), cfg.token)
}

func checkMechanisms(p *pkcs11.Ctx, slot uint, token string) error {
	ms, err := p.GetMechanismList(slot)
	if err != nil {
		return fmt.Errorf("list pkcs11 mechanisms: %w", err)
	}
	need := map[uint]string{pkcs11.CKM_AES_KEY_GEN: "CKM_AES_KEY_GEN", pkcs11.CKM_AES_GCM: "CKM_AES_GCM"}
	for _, m := range ms {
		delete(need, m.Mechanism)
	}
	for _, name := range need {
		return fmt.Errorf("pkcs11 token %q does not offer %s, which rempart needs", token, name)
	}
	return nil
}

// Describe names the token, its module and the key labels, without the PIN.
func (s *Source) Describe() string { return s.desc }

// Close waits for calls in flight, closes the sessions, logs out and
// finalises the module (once no other Source of the process uses it).
func (s *Source) Close() error {
	err := s.pool.close(func(sh pkcs11.SessionHandle) error { return s.mod.logout(sh, s.slot) })
	if errors.Is(err, errClosed) {
		return nil
	}
	return errors.Join(err, s.mod.release())
}
