// Package softhsm gives tests a real PKCS#11 token: a private SoftHSM2
// configuration and token store in a temporary directory, with a token
// initialised by softhsm2-util (ENC-3: the HSM root key source is tested
// against a real PKCS#11 module, not a fake).
//
// SoftHSM2 comes from Debian's softhsm2 package (apt-get install softhsm2).
// When it is missing, tests skip with that hint, except when the environment
// variable CI is non-empty: CI installs it and must not skip. The variable
// REMPART_SOFTHSM2_MODULE may name the library when it is not in a standard
// place.
//
// SoftHSM2 reads SOFTHSM2_CONF when the module is initialised, and New sets it
// with t.Setenv, so tests that use a token cannot run in parallel and must
// close every session on the module (finalising it) before the next test.
package softhsm

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Token is an initialised SoftHSM2 token.
type Token struct {
	Module  string // path of libsofthsm2.so
	Label   string // token label
	PIN     string // user PIN
	SOPIN   string // security officer PIN
	PINFile string // file holding PIN, mode 0600
	Object  string // object label that URI names
	URI     string // RFC 7512 URI of the token, reading the PIN from PINFile
}

// Label, PINs and object of the token New makes.
const (
	DefaultLabel  = "rempart"
	DefaultPIN    = "1234-user-pin"
	DefaultSOPIN  = "5678-so-pin"
	DefaultObject = "rempart-root"
)

// modulePaths are where distributions install the SoftHSM2 library.
var modulePaths = []string{
	"/usr/lib/softhsm/libsofthsm2.so",
	"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
	"/usr/lib64/pkcs11/libsofthsm2.so",
	"/usr/local/lib/softhsm/libsofthsm2.so",
	"/opt/homebrew/lib/softhsm/libsofthsm2.so",
}

// Module returns the path of the SoftHSM2 library, or skips the test (fails
// it under CI) when SoftHSM2 is not installed.
func Module(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("REMPART_SOFTHSM2_MODULE"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("REMPART_SOFTHSM2_MODULE: %v", err)
		}
		return p
	}
	for _, p := range modulePaths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	absent(t, "libsofthsm2.so not found")
	return ""
}

func absent(t testing.TB, what string) {
	t.Helper()
	msg := what + ": install SoftHSM2 to run this test (apt-get install softhsm2)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + "; CI must not skip it")
	}
	t.Skip(msg)
}

// New creates a private SoftHSM2 configuration in a temporary directory,
// points SOFTHSM2_CONF at it and initialises one token labelled DefaultLabel.
func New(t testing.TB) *Token {
	t.Helper()
	module := Module(t)
	util, err := exec.LookPath("softhsm2-util")
	if err != nil {
		absent(t, "softhsm2-util not found")
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	body := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", tokens)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)

	tk := &Token{Module: module, Label: DefaultLabel, PIN: DefaultPIN, SOPIN: DefaultSOPIN, Object: DefaultObject}
	cmd := exec.Command(util, "--init-token", "--free", "--label", tk.Label, "--pin", tk.PIN, "--so-pin", tk.SOPIN)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("softhsm2-util --init-token: %v\n%s", err, out)
	}
	tk.PINFile = filepath.Join(dir, "hsm.pin")
	if err := os.WriteFile(tk.PINFile, []byte(tk.PIN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tk.URI = tk.URIWith(tk.Object, "pin-source=file:"+escape(tk.PINFile))
	return tk
}

// URIWith returns the token's URI for object with extra query attributes
// (already encoded), for example "pin-value=0000".
func (tk *Token) URIWith(object string, query ...string) string {
	u := "pkcs11:token=" + url.PathEscape(tk.Label) + ";object=" + url.PathEscape(object) + "?module-path=" + escape(tk.Module)
	for _, q := range query {
		u += "&" + q
	}
	return u
}

// escape percent-encodes s for an RFC 7512 attribute value, keeping
// unreserved characters and "/" (legal in query attributes) as they are.
func escape(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), "%2F", "/")
}
