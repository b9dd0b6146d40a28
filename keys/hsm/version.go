//go:build cgo

package hsm

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/miekg/pkcs11"

	"github.com/rempart/rempart/keys"
)

const (
	ivSize  = 12 // 96-bit GCM IV
	tagSize = 16 // 128-bit GCM tag
)

// version is one root key version: a key object on the token.
type version struct {
	src *Source
	obj *object
	id  string
}

// KeyID returns "pkcs11:<token>/<object>-<n>".
func (v *version) KeyID() string { return v.id }

// Wrap encrypts key with AES-256-GCM inside the HSM, with ad as additional
// authenticated data, and returns IV ‖ ciphertext ‖ tag.
func (v *version) Wrap(ctx context.Context, key, ad []byte) ([]byte, error) {
	iv := make([]byte, ivSize)
	if _, err := rand.Read(iv); err != nil {
		return nil, fmt.Errorf("wrap: %w", err)
	}
	var out []byte
	err := v.with(ctx, func(sh pkcs11.SessionHandle, h pkcs11.ObjectHandle) error {
		params := pkcs11.NewGCMParams(iv, ad, tagSize*8)
		defer params.Free()
		mech := []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, params)}
		if err := v.src.p.EncryptInit(sh, mech, h); err != nil {
			return err
		}
		ct, err := v.src.p.Encrypt(sh, key)
		if err != nil {
			return err
		}
		// Some HSMs choose the IV themselves and write it back.
		used := params.IV()
		if len(used) != ivSize || len(ct) != len(key)+tagSize {
			return errors.New("unexpected AES-GCM output from the HSM")
		}
		out = append(append(make([]byte, 0, ivSize+len(ct)), used...), ct...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("wrap with pkcs11 key %s: %w", v.obj.label, err)
	}
	return out, nil
}

// Unwrap decrypts what Wrap returned inside the HSM. An altered blob or ad,
// or a blob of another version, gives keys.ErrDecrypt.
func (v *version) Unwrap(ctx context.Context, wrapped, ad []byte) ([]byte, error) {
	if len(wrapped) < ivSize+tagSize {
		return nil, keys.ErrDecrypt
	}
	var out []byte
	err := v.with(ctx, func(sh pkcs11.SessionHandle, h pkcs11.ObjectHandle) error {
		params := pkcs11.NewGCMParams(wrapped[:ivSize], ad, tagSize*8)
		defer params.Free()
		mech := []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, params)}
		if err := v.src.p.DecryptInit(sh, mech, h); err != nil {
			return err
		}
		pt, err := v.src.p.Decrypt(sh, wrapped[ivSize:])
		if err != nil {
			return errDecrypt{err}
		}
		out = pt
		return nil
	})
	var de errDecrypt
	if errors.As(err, &de) && !deviceFailure(de.err) {
		return nil, keys.ErrDecrypt
	} else if err != nil {
		return nil, fmt.Errorf("unwrap with pkcs11 key %s: %w", v.obj.label, err)
	}
	return out, nil
}

// errDecrypt marks a failure of C_Decrypt itself, which for AES-GCM means
// that the tag did not verify, unless the device failed. (Tokens differ in
// the code they return for a bad tag: SoftHSM2 says CKR_GENERAL_ERROR.) To
// the pool it stays a PKCS#11 error.
type errDecrypt struct{ err error }

func (e errDecrypt) Error() string { return e.err.Error() }
func (e errDecrypt) Unwrap() error { return e.err }

// with runs f on a session with the key's handle. If the HSM no longer knows
// the handle (after a restart, say), the key is looked up again by label;
// a version that was destroyed gives keys.ErrNoRootKey.
func (v *version) with(ctx context.Context, f func(pkcs11.SessionHandle, pkcs11.ObjectHandle) error) error {
	return v.src.pool.do(ctx, func(sh pkcs11.SessionHandle) error {
		h, ok := v.obj.get()
		if !ok {
			return fmt.Errorf("%w: key %s was destroyed", keys.ErrNoRootKey, v.obj.label)
		}
		err := f(sh, h)
		if !isCode(err, pkcs11.CKR_KEY_HANDLE_INVALID) && !isCode(err, pkcs11.CKR_OBJECT_HANDLE_INVALID) {
			return err
		}
		h, err = v.src.lookup(sh, v.obj.label)
		if errors.Is(err, keys.ErrNoRootKey) {
			v.obj.destroy()
			return err
		} else if err != nil {
			return err
		}
		v.obj.set(h)
		return f(sh, h)
	})
}

// deviceFailure reports errors that say the HSM or the session failed, as
// opposed to the data.
func deviceFailure(err error) bool {
	if staleSession(err) {
		return true
	}
	for _, c := range []uint{pkcs11.CKR_DEVICE_ERROR, pkcs11.CKR_DEVICE_MEMORY, pkcs11.CKR_DEVICE_REMOVED,
		pkcs11.CKR_TOKEN_NOT_PRESENT, pkcs11.CKR_HOST_MEMORY, pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED,
		pkcs11.CKR_FUNCTION_CANCELED, pkcs11.CKR_OPERATION_NOT_INITIALIZED} {
		if isCode(err, c) {
			return true
		}
	}
	return false
}
