package password

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// argon2CLI returns the path of the reference implementation's CLI (Debian
// package argon2). It skips without it, except under CI, which installs it.
func argon2CLI(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("argon2")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("argon2 CLI not found under CI (apt-get install argon2): %v", err)
		}
		t.Skip("argon2 CLI not installed (apt-get install -y argon2); skipping the cross-check")
	}
	return path
}

// runArgon2 hashes password with the CLI and returns its encoded output.
func runArgon2(t *testing.T, cli string, salt []byte, p Params, password string) string {
	t.Helper()
	cmd := exec.Command(cli, string(salt), "-id",
		"-t", strconv.Itoa(int(p.Time)), "-k", strconv.Itoa(int(p.Memory)),
		"-p", strconv.Itoa(int(p.Threads)), "-l", strconv.Itoa(int(p.KeyLen)), "-e")
	cmd.Stdin = strings.NewReader(password)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("argon2 CLI: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// TestCLIHashVerifiesHere hashes with the reference CLI, at the default and
// at other costs, and verifies with this package.
func TestCLIHashVerifiesHere(t *testing.T) {
	cli := argon2CLI(t)
	h, err := NewHasher(HasherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		params Params
		rehash bool
	}{
		{DefaultParams, false},
		{Params{Memory: 4096, Time: 3, Threads: 2, SaltLen: 16, KeyLen: 24}, true},
	} {
		pw := "Ünïcode pass: 9$"
		enc := runArgon2(t, cli, []byte("cli-salt-16bytes"), tc.params, pw)
		ok, rehash, err := h.Verify(ctx, pw, enc)
		if err != nil || !ok || rehash != tc.rehash {
			t.Errorf("Verify(CLI hash %s) = %v, %v, %v; want true, %v, nil", enc, ok, rehash, err, tc.rehash)
		}
		if ok, _, _ := h.Verify(ctx, pw+"x", enc); ok {
			t.Errorf("Verify(wrong password, CLI hash %s) = true, want false", enc)
		}
	}
}

// TestHashVerifiesWithCLI hashes with this package and recomputes with the
// CLI from the same salt: the encoded strings must be identical.
func TestHashVerifiesWithCLI(t *testing.T) {
	cli := argon2CLI(t)
	h, err := NewHasher(HasherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	pw := "Correct horse, battery staple 7"
	for {
		enc, err := h.Hash(context.Background(), pw)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := parseHash(enc)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.IndexByte(parsed.salt, 0) >= 0 {
			continue // a NUL cannot travel in argv; draw another salt
		}
		if got := runArgon2(t, cli, parsed.salt, DefaultParams, pw); got != enc {
			t.Errorf("CLI encoding = %s, want %s", got, enc)
		}
		return
	}
}
