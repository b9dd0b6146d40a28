package totp

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Debian's oathtool (liboath) is an independent TOTP implementation: for
// fixed times and secrets, its code must equal ours, and Verify must accept
// it.
func TestAgainstOathtool(t *testing.T) {
	oathtool := needTool(t, "oathtool", "oathtool")
	random, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	secrets := [][]byte{rfcSecret, random, []byte{0}, []byte("a 32-byte secret for HMAC-SHA1!!")}
	times := []string{
		"1970-01-01T00:00:59Z",
		"2005-03-18T01:58:29Z",
		"2009-02-13T23:31:30Z",
		"2026-01-02T03:04:05Z",
		"2026-01-02T03:04:29Z", // last second of a step
		"2026-01-02T03:04:30Z", // first second of the next
		"2033-05-18T03:33:20Z",
	}
	for _, secret := range secrets {
		b32 := EncodeSecret(secret)
		for _, ts := range times {
			at, err := time.Parse(time.RFC3339, ts)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(oathtool, "--totp", "-b", "--now", ts, b32)
			cmd.Env = []string{"TZ=UTC", "LC_ALL=C"}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("oathtool %s at %s: %v: %s", b32, ts, err, out)
			}
			theirs := strings.TrimSpace(string(out))
			if ours := Code(secret, at); ours != theirs {
				t.Errorf("secret %s at %s: got %s, oathtool says %s", b32, ts, ours, theirs)
			}
			v := newVerifier(t, at, DefaultSkew)
			step, err := v.Verify(secret, theirs, 0)
			if err != nil || step != Step(at) {
				t.Errorf("Verify(oathtool's %s) at %s: got (%d, %v), want (%d, nil)", theirs, ts, step, err, Step(at))
			}
		}
	}
}
