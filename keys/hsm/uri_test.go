package hsm

import (
	"strings"
	"testing"
)

const secretPIN = "s3cret-PIN"

func TestParseURI(t *testing.T) {
	c, err := parseURI("pkcs11:token=my%20token;object=rempart-root;serial=abc;slot-id=3;type=secret-key" +
		"?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/rempart/hsm.pin&x-max-sessions=2")
	if err != nil {
		t.Fatal(err)
	}
	if c.token != "my token" || c.object != "rempart-root" || c.serial != "abc" || c.slotID == nil || *c.slotID != 3 ||
		c.module != "/usr/lib/softhsm/libsofthsm2.so" || c.pinFile != "/etc/rempart/hsm.pin" || c.maxSessions != 2 {
		t.Fatalf("parse: got %+v", c)
	}
	c, err = parseURI("pkcs11:token=t;object=o?module-path=/m.so&pin-value=" + secretPIN)
	if err != nil {
		t.Fatal(err)
	}
	if c.pinValue != secretPIN || c.maxSessions != defaultMaxSessions {
		t.Fatalf("pin-value: got %+v", c)
	}
	for _, src := range []string{"file:///etc/pin", "/etc/pin"} {
		c, err = parseURI("pkcs11:token=t;object=o?module-path=/m.so&pin-source=" + src)
		if err != nil || c.pinFile != "/etc/pin" {
			t.Fatalf("pin-source=%s: got %q, %v, want /etc/pin", src, c.pinFile, err)
		}
	}
}

func TestParseURIErrors(t *testing.T) {
	const mod = "module-path=/m.so"
	for _, c := range []struct{ uri, want string }{
		{"", `must start with "pkcs11:"`},
		{"http://x", `must start with "pkcs11:"`},
		{"pkcs11:object=o?" + mod + "&pin-value=" + secretPIN, "token=<label> is required"},
		{"pkcs11:token=t?" + mod + "&pin-value=" + secretPIN, "object=<label> is required"},
		{"pkcs11:token=t;object=o?pin-value=" + secretPIN, "module-path"},
		{"pkcs11:token=t;object=o?module-path=lib.so&pin-value=" + secretPIN, "absolute path"},
		{"pkcs11:token=t;object=o?" + mod, "no PIN"},
		{"pkcs11:token=t;object=o?" + mod + "&pin-value=", "pin-value is empty"},
		{"pkcs11:token=t;object=o?" + mod + "&pin-value=" + secretPIN + "&pin-source=file:/p", "not both"},
		{"pkcs11:token=t;object=o?" + mod + "&pin-source=http://x/" + secretPIN, "pin-source must be file:"},
		{"pkcs11:token=t;object=o?" + mod + "&pin-source=file:relative", "pin-source must be file:"},
		{"pkcs11:token=t;object=o?" + mod + "&pin-value=" + secretPIN + "%zz", `"pin-value" is not properly percent-encoded`},
		{"pkcs11:token=t;object=o?" + mod + "&pin-value" + secretPIN, "not name=value"},
		{"pkcs11:token=t;object=o?" + mod + "&pin-valeu=" + secretPIN, `unknown attribute "pin-valeu"`},
		{"pkcs11:token=t;object=o;pin-value=" + secretPIN + "?" + mod, `unknown attribute "pin-value"`},
		{"pkcs11:token=t;token=u;object=o?" + mod + "&pin-value=" + secretPIN, "given twice"},
		{"pkcs11:token=t;object=o;type=private?" + mod + "&pin-value=" + secretPIN, "type must be secret-key"},
		{"pkcs11:token=t;object=o;slot-id=x?" + mod + "&pin-value=" + secretPIN, "slot-id"},
		{"pkcs11:token=t;object=o?" + mod + "&pin-value=" + secretPIN + "&x-max-sessions=0", "x-max-sessions"},
		{"pkcs11:token=t;object=o?" + mod + "&pin-value=" + secretPIN + "#frag", "fragment"},
	} {
		_, err := parseURI(c.uri)
		if err == nil {
			t.Errorf("parse %q: got nil error, want %q", c.uri, c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("parse %q: got %q, want it to contain %q", c.uri, err, c.want)
		}
		if strings.Contains(err.Error(), secretPIN) {
			t.Errorf("parse %q: error %q contains the PIN", c.uri, err)
		}
	}
}
