package recovery

import (
	"bytes"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"

	"github.com/rempart/rempart"
)

var codeFormat = regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}$`)

func generate(t *testing.T, n int) ([]string, [][]byte) {
	t.Helper()
	codes, hashes, err := Generate(n)
	if err != nil {
		t.Fatalf("Generate(%d): %v", n, err)
	}
	if len(codes) != n || len(hashes) != n {
		t.Fatalf("Generate(%d): got %d codes and %d hashes", n, len(codes), len(hashes))
	}
	return codes, hashes
}

func TestGenerateFormat(t *testing.T) {
	codes, hashes := generate(t, DefaultCount)
	seen := map[string]bool{}
	for i, c := range codes {
		if !codeFormat.MatchString(c) {
			t.Errorf("code %q: want xxxx-xxxx-xxxx-xxxx over %s", c, Alphabet)
		}
		if seen[c] {
			t.Errorf("code %q generated twice", c)
		}
		seen[c] = true
		if bytes.Contains(hashes[i], []byte(strings.ReplaceAll(c, "-", ""))) {
			t.Errorf("hash %d holds its code in clear", i)
		}
	}
}

// 16 symbols of a 32-symbol alphabet carry 80 bits, and every symbol occurs.
func TestGenerateEntropy(t *testing.T) {
	if n := len(Alphabet); n != 32 {
		t.Fatalf("alphabet size: got %d, want 32", n)
	}
	if bits := codeChars * 5; bits < 80 {
		t.Errorf("entropy: got %d bits, want at least 80", bits)
	}
	codes, _ := generate(t, MaxCount)
	counts := map[rune]int{}
	for _, c := range codes {
		for _, r := range strings.ReplaceAll(c, "-", "") {
			counts[r]++
		}
	}
	// 1600 symbols, 50 of each expected: a missing one means a broken encoder.
	for _, r := range Alphabet {
		if counts[r] == 0 {
			t.Errorf("symbol %q never occurs in %d codes", r, len(codes))
		}
	}
}

func TestGenerateCount(t *testing.T) {
	for _, n := range []int{0, -1, MaxCount + 1} {
		_, _, err := Generate(n)
		if got := rempart.ErrorCode(err); got != rempart.EINVALID {
			t.Errorf("Generate(%d): got %q, want %q", n, got, rempart.EINVALID)
		}
	}
}

func TestMatchEachCode(t *testing.T) {
	codes, hashes := generate(t, DefaultCount)
	for i, c := range codes {
		if got, ok := Match(hashes, c); !ok || got != i {
			t.Errorf("Match(%q): got (%d, %v), want (%d, true)", c, got, ok, i)
		}
	}
}

func TestMatchNormalises(t *testing.T) {
	codes, hashes := generate(t, 3)
	c := codes[1]
	plain := strings.ReplaceAll(c, "-", "")
	variants := []string{
		strings.ToUpper(c),
		plain,
		" " + strings.ReplaceAll(c, "-", " ") + "\n",
		plain[:8] + "--" + plain[8:],
		strings.NewReplacer("0", "O", "1", "l").Replace(c),
		strings.NewReplacer("0", "o", "1", "I").Replace(c),
	}
	for _, in := range variants {
		if got, ok := Match(hashes, in); !ok || got != 1 {
			t.Errorf("Match(%q) for %q: got (%d, %v), want (1, true)", in, c, got, ok)
		}
	}
}

func TestMatchRefuses(t *testing.T) {
	codes, hashes := generate(t, DefaultCount)
	plain := strings.ReplaceAll(codes[0], "-", "")
	flip := "0"
	if plain[15] == '0' {
		flip = "1"
	}
	tests := map[string]string{
		"one symbol changed": plain[:15] + flip,
		"too short":          plain[:15],
		"too long":           plain + "0",
		"letter u":           plain[:15] + "u",
		"punctuation":        plain[:15] + "!",
		"non-ASCII":          plain[:15] + "é",
		"empty":              "",
		"huge":               strings.Repeat(plain, 100),
	}
	for name, in := range tests {
		if got, ok := Match(hashes, in); ok || got != -1 {
			t.Errorf("%s: Match(%q): got (%d, %v), want (-1, false)", name, in, got, ok)
		}
	}
}

// A used code is removed by setting its hash to nil; the others keep their
// indexes.
func TestMatchSkipsUsed(t *testing.T) {
	codes, hashes := generate(t, 4)
	hashes[2] = nil
	if got, ok := Match(hashes, codes[2]); ok {
		t.Errorf("used code: got (%d, true), want (-1, false)", got)
	}
	if got, ok := Match(hashes, codes[3]); !ok || got != 3 {
		t.Errorf("next code: got (%d, %v), want (3, true)", got, ok)
	}
	hashes[1] = []byte("garbage")
	if got, ok := Match(hashes, codes[1]); ok {
		t.Errorf("malformed entry: got (%d, true), want (-1, false)", got)
	}
}

// Hashing the same code twice gives different salts, and both match.
func TestHashSalted(t *testing.T) {
	codes, _ := generate(t, 1)
	a, err := Hash(codes[0])
	if err != nil {
		t.Fatal(err)
	}
	b, err := Hash(strings.ToUpper(codes[0]))
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != hashSize {
		t.Errorf("len: got %d, want %d", len(a), hashSize)
	}
	if bytes.Equal(a, b) {
		t.Error("two hashes of one code are equal; want distinct salts")
	}
	if got, ok := Match([][]byte{a, b}, codes[0]); !ok || got != 0 {
		t.Errorf("got (%d, %v), want (0, true)", got, ok)
	}
	if _, err := Hash("short"); rempart.ErrorCode(err) != rempart.EINVALID {
		t.Errorf("Hash(short): got %v, want %s", err, rempart.EINVALID)
	}
}

// The stored form is fixed: a known salt and code give a known digest
// (computed with sha256sum), so a change of format cannot slip in unnoticed.
func TestDigestStable(t *testing.T) {
	salt := bytes.Repeat([]byte{0xab}, saltSize)
	got := hex.EncodeToString(digest(salt, "0123456789abcdef"))
	const want = "54f44696eff19a416dfb038c85529b0b75d39a277206c04a65a1a9d9b770df9c"
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestNormalize(t *testing.T) {
	got, err := Normalize(" 7M2K-Q9XD-OA4E-HV3T ")
	if err != nil {
		t.Fatal(err)
	}
	if want := "7m2kq9xd0a4ehv3t"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	_, err = Normalize("7m2k-q9xd-0a4e-hv3")
	if got, want := rempart.ErrorMessage(err), "A recovery code has 16 characters."; got != want {
		t.Errorf("short: got %q, want %q", got, want)
	}
}
