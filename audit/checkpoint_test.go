package audit_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"golang.org/x/mod/sumdb/note"
)

const origin = "rempart.example/audit"

// newSigner returns a signer for a fresh key of origin, and its signer key.
func newSigner(t testing.TB, origin string) (*audit.Signer, string) {
	t.Helper()
	skey, vkey, err := audit.GenerateKey(origin)
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	s, err := audit.NewSigner(skey)
	if err != nil {
		t.Fatalf("NewSigner: %v", err)
	}
	if got := s.VerifierKey(); got != vkey {
		t.Fatalf("VerifierKey: got %s, want %s", got, vkey)
	}
	return s, skey
}

// signBody signs an arbitrary note body with a signer key, bypassing Sign.
func signBody(t *testing.T, skey, body string) string {
	t.Helper()
	ns, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := note.Sign(&note.Note{Text: body}, ns)
	if err != nil {
		t.Fatal(err)
	}
	return string(msg)
}

func TestCheckpointRoundTrip(t *testing.T) {
	s, skey := newSigner(t, origin)
	if got := s.Origin(); got != origin {
		t.Errorf("Origin: got %q, want %q", got, origin)
	}
	root := refRoot(refLeaves(42))
	cp, err := s.Sign(42, root)
	if err != nil {
		t.Fatal(err)
	}
	want := rempart.Checkpoint{Origin: origin, Size: 42, RootHash: root, Note: cp.Note, VerifierKey: s.VerifierKey()}
	if diff := cmp.Diff(want, cp); diff != "" {
		t.Errorf("Sign (-want +got):\n%s", diff)
	}
	body := origin + "\n42\n" + base64.StdEncoding.EncodeToString(root) + "\n\n— " + origin + " "
	if !strings.HasPrefix(cp.Note, body) {
		t.Errorf("note: got %q, want it to start with %q", cp.Note, body)
	}
	got, err := audit.OpenCheckpoint(cp.Note, s.VerifierKey())
	if err != nil {
		t.Fatalf("OpenCheckpoint: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("OpenCheckpoint (-want +got):\n%s", diff)
	}
	// C2SP extension lines after the root are allowed.
	ext := signBody(t, skey, origin+"\n42\n"+base64.StdEncoding.EncodeToString(root)+"\nextension line\n")
	if got, err := audit.OpenCheckpoint(ext, s.VerifierKey()); err != nil || got.Size != 42 {
		t.Errorf("OpenCheckpoint with an extension line: got size %d, %v; want 42, nil", got.Size, err)
	}
	// An empty tree is a valid checkpoint too.
	if cp, err := s.Sign(0, refRoot(nil)); err != nil {
		t.Errorf("Sign(0): %v", err)
	} else if _, err := audit.OpenCheckpoint(cp.Note, s.VerifierKey()); err != nil {
		t.Errorf("OpenCheckpoint of size 0: %v", err)
	}
}

func TestOpenCheckpointRejects(t *testing.T) {
	s, skey := newSigner(t, origin)
	other, _ := newSigner(t, origin)
	stranger, strangerKey := newSigner(t, "other.example/log")
	root := refRoot(refLeaves(42))
	cp, err := s.Sign(42, root)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(root)
	otherRoot := base64.StdEncoding.EncodeToString(refRoot(refLeaves(41)))
	sig := cp.Note[strings.LastIndex(cp.Note, " ")+1 : len(cp.Note)-1]
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-1] ^= 1 // the key hash is first, the Ed25519 signature after
	tests := []struct {
		name, note, key string
	}{
		{"other key, same origin", cp.Note, other.VerifierKey()},
		{"other origin's key", cp.Note, stranger.VerifierKey()},
		{"malformed key", cp.Note, "not a key"},
		{"edited size", strings.Replace(cp.Note, "\n42\n", "\n43\n", 1), s.VerifierKey()},
		{"edited root", strings.Replace(cp.Note, b64, otherRoot, 1), s.VerifierKey()},
		{"edited origin", strings.Replace(cp.Note, origin+"\n42", "rempart.example/other\n42", 1), s.VerifierKey()},
		{"flipped signature", strings.Replace(cp.Note, sig, base64.StdEncoding.EncodeToString(raw), 1), s.VerifierKey()},
		{"no signature", cp.Note[:strings.Index(cp.Note, "\n\n")+2], s.VerifierKey()},
		{"empty", "", s.VerifierKey()},
		{"garbage", "hello\n\n— " + origin + " AAAA\n", s.VerifierKey()},
		{"signed, origin is not the key's", signBody(t, strangerKey, origin+"\n42\n"+b64+"\n"), stranger.VerifierKey()},
		{"signed, no root line", signBody(t, skey, origin+"\n42\n"), s.VerifierKey()},
		{"signed, size with leading zero", signBody(t, skey, origin+"\n042\n"+b64+"\n"), s.VerifierKey()},
		{"signed, negative size", signBody(t, skey, origin+"\n-1\n"+b64+"\n"), s.VerifierKey()},
		{"signed, short root", signBody(t, skey, origin+"\n42\n"+base64.StdEncoding.EncodeToString(root[:31])+"\n"), s.VerifierKey()},
		{"signed, root not base64", signBody(t, skey, origin+"\n42\n"+strings.Repeat("!", 44)+"\n"), s.VerifierKey()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := audit.OpenCheckpoint(tt.note, tt.key)
			if code := rempart.ErrorCode(err); code != rempart.EINVALID {
				t.Fatalf("OpenCheckpoint: got %+v, %v; want error code %s", got, err, rempart.EINVALID)
			}
		})
	}
}

func TestSignRejectsBadRoot(t *testing.T) {
	s, _ := newSigner(t, origin)
	for _, root := range [][]byte{nil, make([]byte, 31), make([]byte, 33)} {
		if _, err := s.Sign(1, root); err == nil {
			t.Errorf("Sign with a %d-byte root: got nil error, want one", len(root))
		}
	}
}

func TestGenerateKeyRejectsBadOrigin(t *testing.T) {
	for _, o := range []string{"", "two words", "a+b", "tab\there"} {
		if _, _, err := audit.GenerateKey(o); rempart.ErrorCode(err) != rempart.EINVALID {
			t.Errorf("GenerateKey(%q): got %v, want error code %s", o, err, rempart.EINVALID)
		}
	}
}

func TestNewSignerRejects(t *testing.T) {
	s, skey := newSigner(t, origin)
	parts := strings.SplitN(skey, "+", 5) // PRIVATE, KEY, name, hash, key
	parts[3] = "00000000"
	for name, key := range map[string]string{
		"empty":        "",
		"verifier key": s.VerifierKey(),
		"garbage":      "PRIVATE+KEY+x",
		"wrong hash":   strings.Join(parts, "+"),
	} {
		if _, err := audit.NewSigner(key); err == nil {
			t.Errorf("NewSigner(%s): got nil error, want one", name)
		}
	}
}
