//go:build cgo

package hsm

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/miekg/pkcs11"

	"github.com/rempart/rempart/keys"
)

// object is the token object of one key version. Every version value handed
// out for a label shares it, so that a Destroy is seen by all of them.
type object struct {
	label string

	mu        sync.Mutex
	handle    pkcs11.ObjectHandle
	destroyed bool
}

func (o *object) get() (pkcs11.ObjectHandle, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.handle, !o.destroyed
}

func (o *object) set(h pkcs11.ObjectHandle) {
	o.mu.Lock()
	o.handle, o.destroyed = h, false
	o.mu.Unlock()
}

func (o *object) destroy() {
	o.mu.Lock()
	o.destroyed = true
	o.mu.Unlock()
}

func (s *Source) label(v int) string { return s.cfg.object + "-" + strconv.Itoa(v) }

func (s *Source) keyID(label string) string { return "pkcs11:" + s.cfg.token + "/" + label }

// versionOf returns the version number in a label of this source, or 0.
func (s *Source) versionOf(label string) int {
	n, ok := strings.CutPrefix(label, s.cfg.object+"-")
	if !ok {
		return 0
	}
	v, err := strconv.Atoi(n)
	if err != nil || v < 1 || strconv.Itoa(v) != n {
		return 0
	}
	return v
}

// labelOf returns the label of a KeyID of this source.
func (s *Source) labelOf(id string) (string, bool) {
	label, ok := strings.CutPrefix(id, "pkcs11:"+s.cfg.token+"/")
	return label, ok && s.versionOf(label) > 0
}

func keyTemplate(label string) []*pkcs11.Attribute {
	t := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
	}
	if label != "" {
		t = append(t, pkcs11.NewAttribute(pkcs11.CKA_LABEL, label))
	}
	return t
}

// newKeyTemplate describes a version to generate: an AES-256 token key that
// is private, sensitive, never extractable and only encrypts and decrypts.
func newKeyTemplate(label string) []*pkcs11.Attribute {
	return append(keyTemplate(label),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, true),
		pkcs11.NewAttribute(pkcs11.CKA_WRAP, false),
		pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, false),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN, false),
		pkcs11.NewAttribute(pkcs11.CKA_VERIFY, false),
		pkcs11.NewAttribute(pkcs11.CKA_DERIVE, false),
	)
}

// findAll returns the objects that match template.
func (s *Source) findAll(sh pkcs11.SessionHandle, template []*pkcs11.Attribute) ([]pkcs11.ObjectHandle, error) {
	if err := s.p.FindObjectsInit(sh, template); err != nil {
		return nil, fmt.Errorf("find pkcs11 objects: %w", err)
	}
	var all []pkcs11.ObjectHandle
	for {
		hs, _, err := s.p.FindObjects(sh, 100)
		if err != nil {
			s.p.FindObjectsFinal(sh)
			return nil, fmt.Errorf("find pkcs11 objects: %w", err)
		}
		if len(hs) == 0 {
			break
		}
		all = append(all, hs...)
	}
	if err := s.p.FindObjectsFinal(sh); err != nil {
		return nil, fmt.Errorf("find pkcs11 objects: %w", err)
	}
	return all, nil
}

// versions returns the key objects of this source by version number.
func (s *Source) versions(sh pkcs11.SessionHandle) (map[int][]pkcs11.ObjectHandle, error) {
	hs, err := s.findAll(sh, keyTemplate(""))
	if err != nil {
		return nil, err
	}
	vs := map[int][]pkcs11.ObjectHandle{}
	for _, h := range hs {
		attrs, err := s.p.GetAttributeValue(sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, nil)})
		if isCode(err, pkcs11.CKR_OBJECT_HANDLE_INVALID) {
			continue // destroyed meanwhile
		} else if err != nil {
			return nil, fmt.Errorf("read pkcs11 key label: %w", err)
		}
		if v := s.versionOf(string(attrs[0].Value)); v > 0 {
			vs[v] = append(vs[v], h)
		}
	}
	return vs, nil
}

// lookup returns the one key labelled label, after checking that it is a
// key rempart may use: AES-256, sensitive, not extractable.
func (s *Source) lookup(sh pkcs11.SessionHandle, label string) (pkcs11.ObjectHandle, error) {
	hs, err := s.findAll(sh, keyTemplate(label))
	if err != nil {
		return 0, err
	}
	switch len(hs) {
	case 0:
		return 0, fmt.Errorf("%w: no key %s on pkcs11 token %q", keys.ErrNoRootKey, label, s.cfg.token)
	case 1:
	default:
		return 0, fmt.Errorf("pkcs11 token %q holds %d keys labelled %s: destroy all but one", s.cfg.token, len(hs), label)
	}
	attrs, err := s.p.GetAttributeValue(sh, hs[0], []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, nil),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, nil),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, nil),
	})
	if err != nil {
		return 0, fmt.Errorf("read pkcs11 key %s attributes: %w", label, err)
	}
	if !attrBool(attrs[0].Value) || attrBool(attrs[1].Value) {
		return 0, fmt.Errorf("pkcs11 key %s is extractable or not sensitive: rempart only uses keys that never leave the HSM", label)
	}
	if attrUint(attrs[2].Value) != 32 {
		return 0, fmt.Errorf("pkcs11 key %s is not an AES-256 key", label)
	}
	return hs[0], nil
}

// provider returns the version labelled label, whose object has handle h.
func (s *Source) provider(label string, h pkcs11.ObjectHandle) *version {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.objs[label]
	if o == nil {
		o = &object{label: label}
		s.objs[label] = o
	}
	o.set(h)
	return &version{src: s, obj: o, id: s.keyID(label)}
}

func attrBool(b []byte) bool { return len(b) > 0 && b[0] != 0 }

// attrUint decodes a CK_ULONG attribute, in the platform's byte order.
func attrUint(b []byte) uint64 {
	switch len(b) {
	case 4:
		return uint64(binary.NativeEndian.Uint32(b))
	case 8:
		return binary.NativeEndian.Uint64(b)
	}
	return 0
}
