//go:build cgo

package hsm

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/miekg/pkcs11"

	"github.com/rempart/rempart/keys"
)

// Open returns the version with this KeyID, or an error wrapping
// keys.ErrNoRootKey when the token holds no such key.
func (s *Source) Open(ctx context.Context, id string) (keys.Provider, error) {
	label, ok := s.labelOf(id)
	if !ok {
		return nil, fmt.Errorf("%w: %q is not a key of pkcs11 token %q with label %s-N", keys.ErrNoRootKey, id, s.cfg.token, s.cfg.object)
	}
	var h pkcs11.ObjectHandle
	err := s.pool.do(ctx, func(sh pkcs11.SessionHandle) error {
		var err error
		h, err = s.lookup(sh, label)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.provider(label, h), nil
}

// Latest returns the version with the highest number, or an error wrapping
// keys.ErrNoRootKey when the token holds none.
func (s *Source) Latest(ctx context.Context) (keys.Provider, error) {
	ns, err := s.numbers(ctx)
	if err != nil {
		return nil, err
	}
	if len(ns) == 0 {
		return nil, fmt.Errorf("%w: no key %s-N on pkcs11 token %q yet", keys.ErrNoRootKey, s.cfg.object, s.cfg.token)
	}
	return s.Open(ctx, s.keyID(s.label(ns[len(ns)-1])))
}

// Versions returns the KeyIDs of the versions on the token, oldest first.
func (s *Source) Versions(ctx context.Context) ([]string, error) {
	ns, err := s.numbers(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(ns))
	for i, n := range ns {
		ids[i] = s.keyID(s.label(n))
	}
	return ids, nil
}

// numbers returns the version numbers on the token, in increasing order.
func (s *Source) numbers(ctx context.Context) ([]int, error) {
	var vs map[int][]pkcs11.ObjectHandle
	err := s.pool.do(ctx, func(sh pkcs11.SessionHandle) error {
		var err error
		vs, err = s.versions(sh)
		return err
	})
	if err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(vs)), nil
}

// Create generates version n+1 inside the HSM, n being the highest version
// the token holds or ever held.
func (s *Source) Create(ctx context.Context) (keys.Provider, error) {
	s.createMu.Lock()
	defer s.createMu.Unlock()
	for attempt := 1; attempt <= 5; attempt++ {
		var v *version
		err := s.pool.do(ctx, func(sh pkcs11.SessionHandle) error {
			var err error
			v, err = s.create(sh)
			return err
		})
		if err != nil {
			return nil, err
		}
		if v != nil {
			return v, nil
		}
		// Another process made the same version at the same time: both
		// drop theirs and try again a little later.
		select {
		case <-time.After(time.Duration(rand.Int64N(int64(attempt) * int64(50*time.Millisecond)))):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return nil, fmt.Errorf("create pkcs11 key: other processes keep creating the same version on token %q", s.cfg.token)
}

// create makes the next version, or returns nil when a clash with another
// process made it destroy its key.
func (s *Source) create(sh pkcs11.SessionHandle) (*version, error) {
	last, counter, err := s.readCounter(sh)
	if err != nil {
		return nil, err
	}
	vs, err := s.versions(sh)
	if err != nil {
		return nil, err
	}
	next := last + 1
	for v := range vs {
		next = max(next, v+1)
	}
	// Record the number before the key exists, so that it is never reused.
	if err := s.writeCounter(sh, counter, next); err != nil {
		return nil, err
	}
	label := s.label(next)
	mech := []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil)}
	h, err := s.p.GenerateKey(sh, mech, newKeyTemplate(label))
	if err != nil {
		return nil, fmt.Errorf("generate pkcs11 key %s: %w", label, err)
	}
	same, err := s.findAll(sh, keyTemplate(label))
	if err != nil {
		return nil, err
	}
	if len(same) > 1 {
		if err := s.p.DestroyObject(sh, h); err != nil {
			return nil, fmt.Errorf("destroy clashing pkcs11 key %s: %w", label, err)
		}
		return nil, nil
	}
	return s.provider(label, h), nil
}

// Destroy destroys the key object of version id (C_DestroyObject): what it
// wrapped can no longer be unwrapped.
func (s *Source) Destroy(ctx context.Context, id string) error {
	label, ok := s.labelOf(id)
	if !ok {
		return fmt.Errorf("%w: %q is not a key of pkcs11 token %q with label %s-N", keys.ErrNoRootKey, id, s.cfg.token, s.cfg.object)
	}
	err := s.pool.do(ctx, func(sh pkcs11.SessionHandle) error {
		hs, err := s.findAll(sh, keyTemplate(label))
		if err != nil {
			return err
		}
		if len(hs) == 0 {
			return fmt.Errorf("%w: no key %s on pkcs11 token %q", keys.ErrNoRootKey, label, s.cfg.token)
		}
		for _, h := range hs {
			if err := s.p.DestroyObject(sh, h); err != nil {
				return fmt.Errorf("destroy pkcs11 key %s: %w", label, err)
			}
		}
		return nil
	})
	if err == nil || errors.Is(err, keys.ErrNoRootKey) {
		s.mu.Lock()
		if o := s.objs[label]; o != nil {
			o.destroy()
		}
		s.mu.Unlock()
	}
	return err
}

// The counter is a private data object labelled <object>-last holding the
// highest version number ever made, in decimal.
func (s *Source) counterTemplate() []*pkcs11.Attribute {
	return []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_DATA),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, s.cfg.object+"-last"),
	}
}

// readCounter returns the counter and its objects (more than one only if a
// write was interrupted: the highest value counts).
func (s *Source) readCounter(sh pkcs11.SessionHandle) (int, []pkcs11.ObjectHandle, error) {
	hs, err := s.findAll(sh, s.counterTemplate())
	if err != nil {
		return 0, nil, err
	}
	last := 0
	for _, h := range hs {
		attrs, err := s.p.GetAttributeValue(sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil)})
		if err != nil {
			return 0, nil, fmt.Errorf("read pkcs11 version counter: %w", err)
		}
		n, err := strconv.Atoi(string(attrs[0].Value))
		if err != nil || n < 0 {
			return 0, nil, errors.New("pkcs11 version counter " + s.cfg.object + "-last is not a number")
		}
		last = max(last, n)
	}
	return last, hs, nil
}

// writeCounter replaces the counter objects old by one holding n. (The
// value of a data object is read-only on some tokens, SoftHSM2 among them.)
func (s *Source) writeCounter(sh pkcs11.SessionHandle, old []pkcs11.ObjectHandle, n int) error {
	_, err := s.p.CreateObject(sh, append(s.counterTemplate(),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_APPLICATION, "rempart root key versions"),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, strconv.Itoa(n))))
	if err != nil {
		return fmt.Errorf("write pkcs11 version counter: %w", err)
	}
	for _, h := range old {
		if err := s.p.DestroyObject(sh, h); err != nil && !isCode(err, pkcs11.CKR_OBJECT_HANDLE_INVALID) {
			return fmt.Errorf("write pkcs11 version counter: %w", err)
		}
	}
	return nil
}
