//go:build cgo

package hsm_test

import (
	"context"
	"strings"
	"testing"

	"github.com/miekg/pkcs11"

	"github.com/rempart/rempart/internal/softhsm"
	"github.com/rempart/rempart/keys/hsm"
)

// session is a plain PKCS#11 session on the test token, outside package
// hsm, to look at the token as any other client would. It must be used
// while no hsm.Source is open (SoftHSM2 is initialised once per process).
type session struct {
	p  *pkcs11.Ctx
	sh pkcs11.SessionHandle
}

func rawSession(t *testing.T, tk *softhsm.Token) *session {
	t.Helper()
	p := pkcs11.New(tk.Module)
	if p == nil {
		t.Fatalf("load %s", tk.Module)
	}
	if err := p.Initialize(); err != nil {
		p.Destroy()
		t.Fatalf("initialize: %v", err)
	}
	t.Cleanup(func() {
		p.Finalize()
		p.Destroy()
	})
	slots, err := p.GetSlotList(true)
	if err != nil {
		t.Fatal(err)
	}
	for _, slot := range slots {
		if ti, err := p.GetTokenInfo(slot); err != nil || ti.Label != tk.Label {
			continue
		}
		sh, err := p.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Login(sh, pkcs11.CKU_USER, tk.PIN); err != nil {
			t.Fatal(err)
		}
		return &session{p: p, sh: sh}
	}
	t.Fatalf("token %q not found", tk.Label)
	return nil
}

func (s *session) find(t *testing.T, label string) pkcs11.ObjectHandle {
	t.Helper()
	if err := s.p.FindObjectsInit(s.sh, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, label)}); err != nil {
		t.Fatal(err)
	}
	hs, _, err := s.p.FindObjects(s.sh, 10)
	s.p.FindObjectsFinal(s.sh)
	if err != nil || len(hs) != 1 {
		t.Fatalf("find %s: got %d objects, %v, want 1", label, len(hs), err)
	}
	return hs[0]
}

func TestKeyNeverLeavesHSM(t *testing.T) {
	s, tk := open(t)
	if _, err := s.Create(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	raw := rawSession(t, tk)
	h := raw.find(t, "rempart-root-1")
	if _, err := raw.p.GetAttributeValue(raw.sh, h, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil)}); err == nil {
		t.Fatal("read CKA_VALUE of the root key: got nil error, want CKR_ATTRIBUTE_SENSITIVE")
	}
	want := map[uint]bool{
		pkcs11.CKA_TOKEN: true, pkcs11.CKA_PRIVATE: true, pkcs11.CKA_LOCAL: true,
		pkcs11.CKA_SENSITIVE: true, pkcs11.CKA_ALWAYS_SENSITIVE: true,
		pkcs11.CKA_EXTRACTABLE: false, pkcs11.CKA_NEVER_EXTRACTABLE: true,
		pkcs11.CKA_ENCRYPT: true, pkcs11.CKA_DECRYPT: true,
		pkcs11.CKA_WRAP: false, pkcs11.CKA_UNWRAP: false, pkcs11.CKA_SIGN: false, pkcs11.CKA_DERIVE: false,
	}
	var template []*pkcs11.Attribute
	for a := range want {
		template = append(template, pkcs11.NewAttribute(a, nil))
	}
	attrs, err := raw.p.GetAttributeValue(raw.sh, h, template)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range attrs {
		if got := len(a.Value) > 0 && a.Value[0] != 0; got != want[a.Type] {
			t.Errorf("attribute %#x: got %v, want %v", a.Type, got, want[a.Type])
		}
	}

	// Nor can it be exported wrapped under a key of the attacker's choosing.
	wrapper, err := raw.p.GenerateKey(raw.sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil)}, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
		pkcs11.NewAttribute(pkcs11.CKA_WRAP, true),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.p.WrapKey(raw.sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_WRAP, nil)}, wrapper, h); err == nil {
		t.Fatal("wrap the root key out of the HSM: got nil error, want CKR_KEY_UNEXTRACTABLE")
	}
}

func TestRefusesExtractableKey(t *testing.T) {
	tk := softhsm.New(t)
	raw := rawSession(t, tk)
	_, err := raw.p.GenerateKey(raw.sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil)}, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, false),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, "rempart-root-1"),
	})
	if err != nil {
		t.Fatal(err)
	}
	raw.p.Logout(raw.sh)
	raw.p.CloseSession(raw.sh)
	raw.p.Finalize()

	s, err := hsm.Open(tk.URI)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Latest(context.Background()); err == nil || !strings.Contains(err.Error(), "extractable") {
		t.Fatalf("latest with an extractable key: got %v, want a refusal", err)
	}
}
