//go:build cgo

package hsm_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rempart/rempart/internal/softhsm"
	"github.com/rempart/rempart/keys/hsm"
)

// openFails opens uri, expecting an error that contains want and none of
// the secrets.
func openFails(t *testing.T, uri, want string, secrets ...string) {
	t.Helper()
	s, err := hsm.Open(uri)
	if err == nil {
		s.Close()
		t.Fatalf("open: got nil error, want %q", want)
	}
	t.Logf("open: %v", err)
	if !strings.Contains(err.Error(), want) {
		t.Errorf("open: got %q, want it to contain %q", err, want)
	}
	for _, secret := range secrets {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("open: error %q contains the secret %q", err, secret)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	tk := softhsm.New(t)
	const wrong = "wrong-pin-4242"
	secrets := []string{tk.PIN, wrong}

	t.Run("wrong PIN", func(t *testing.T) {
		openFails(t, tk.URIWith(tk.Object, "pin-value="+wrong), "wrong PIN", secrets...)
	})
	t.Run("missing module", func(t *testing.T) {
		uri := strings.Replace(tk.URIWith(tk.Object, "pin-value="+tk.PIN), tk.Module, "/nonexistent/libpkcs11.so", 1)
		openFails(t, uri, "/nonexistent/libpkcs11.so not found", secrets...)
	})
	t.Run("not a library", func(t *testing.T) {
		lib := filepath.Join(t.TempDir(), "lib.so")
		os.WriteFile(lib, []byte("not a library"), 0o644)
		uri := strings.Replace(tk.URIWith(tk.Object, "pin-value="+tk.PIN), tk.Module, lib, 1)
		openFails(t, uri, "could not be loaded", secrets...)
	})
	t.Run("unknown token", func(t *testing.T) {
		uri := strings.Replace(tk.URIWith(tk.Object, "pin-value="+tk.PIN), "token=rempart", "token=nope", 1)
		openFails(t, uri, `token "nope" not found`, secrets...)
		openFails(t, uri, `tokens: "rempart"`, secrets...)
	})
	t.Run("serial mismatch", func(t *testing.T) {
		uri := strings.Replace(tk.URIWith(tk.Object, "pin-value="+tk.PIN), ";object=", ";serial=0000;object=", 1)
		openFails(t, uri, `token "rempart" not found`, secrets...)
	})
	t.Run("PIN file readable by others", func(t *testing.T) {
		pin := filepath.Join(t.TempDir(), "pin")
		os.WriteFile(pin, []byte(tk.PIN), 0o644)
		openFails(t, tk.URIWith(tk.Object, "pin-source=file:"+pin), "others must not access it", secrets...)
	})
	t.Run("PIN file missing", func(t *testing.T) {
		openFails(t, tk.URIWith(tk.Object, "pin-source=file:/nonexistent/pin"), "pin-source", secrets...)
	})
	t.Run("wrong PIN while logged in", func(t *testing.T) {
		// The token's login is shared by the whole process: a second
		// source must still give the right PIN.
		s := openURI(t, tk.URI)
		openFails(t, tk.URIWith(tk.Object, "pin-value="+wrong), "wrong PIN", secrets...)
		s2 := openURI(t, tk.URIWith(tk.Object, "pin-value="+tk.PIN))
		if s2.Describe() != s.Describe() {
			t.Fatalf("describe: got %q, want %q", s2.Describe(), s.Describe())
		}
	})
	t.Run("one module under two paths", func(t *testing.T) {
		// Debian's /usr/lib/softhsm/libsofthsm2.so is a symbolic link: both
		// names must share one initialised module.
		resolved, err := filepath.EvalSymlinks(tk.Module)
		if err != nil {
			t.Fatal(err)
		}
		s1 := openURI(t, tk.URI)
		s2 := openURI(t, strings.Replace(tk.URI, tk.Module, resolved, 1))
		if _, err := s1.Create(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := s2.Latest(context.Background()); err != nil {
			t.Fatalf("latest through the other path: %v", err)
		}
	})
	// After every failure above the module was released: opening works.
	t.Run("right PIN", func(t *testing.T) {
		openURI(t, tk.URIWith(tk.Object, "pin-value="+tk.PIN))
	})
}
