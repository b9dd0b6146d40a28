package password

import (
	"strings"
	"testing"
)

func TestDefaultBlocklistMatchesProvenance(t *testing.T) {
	b := DefaultBlocklist()
	if got, want := b.Len(), b.DeclaredLen(); got != want {
		t.Errorf("Len() = %d, want %d as the header declares", got, want)
	}
	if b.Len() < 40000 {
		t.Errorf("Len() = %d, want the full list (tens of thousands)", b.Len())
	}
	for _, want := range []string{"# package: @zxcvbn-ts/language-common@", "# licence: MIT", "# integrity: sha512-"} {
		if !strings.Contains(b.Provenance(), want) {
			t.Errorf("provenance lacks %q:\n%s", want, b.Provenance())
		}
	}
}

func TestBlocklistContains(t *testing.T) {
	b := DefaultBlocklist()
	for _, tc := range []struct{ pw, base string }{
		{"password1", "password1"},
		{"qwerty123", "qwerty123"},
		{"PASSWORD1", "password1"},
		{"Password123!", "password123"},
		{"Password2024!!", "password"},
		{"!!Dragon", "dragon"},
		{"2024Monkey#", "monkey"},
		{"P@ssw0rd1!", "p@ssw0rd"},
		{"Sh@d0w!!", "shadow"},
		{"L3tm3in!", "letmein"},
		{"Qwertyuiop1!", "qwertyuiop1"},
		{"Qwertyuiop2024!", "qwertyuiop"},
	} {
		got, ok := b.Contains(tc.pw)
		if !ok || got != tc.base {
			t.Errorf("Contains(%q) = %q, %v; want %q, true", tc.pw, got, ok, tc.base)
		}
	}
	for _, pw := range []string{
		"Xk9!vR2#mQ7$", "correct horse battery staple", "Gl4cier-Otter-Hum!", "ab1!", "",
		"Zq!0", "My dog is 12!", // short cores are not looked up
		"P@ssw0rd_Dr@gon", // two listed words: not a trivial variation
	} {
		if got, ok := b.Contains(pw); ok {
			t.Errorf("Contains(%q) = %q, true; want false", pw, got)
		}
	}
}

func TestParseBlocklistRejectsUnsorted(t *testing.T) {
	for _, in := range []string{"b\na\n", "a\na\n", "A\n", "a\n\nb\n"} {
		if _, err := ParseBlocklist(strings.NewReader(in)); err == nil {
			t.Errorf("ParseBlocklist(%q) = nil error, want rejection", in)
		}
	}
	b, err := ParseBlocklist(strings.NewReader("# entries: 2\nabc\nabd\n"))
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() != 2 || b.DeclaredLen() != 2 || !b.has("abd") || b.has("abe") || b.has("ab") {
		t.Errorf("parsed list: Len %d, DeclaredLen %d, lookups wrong", b.Len(), b.DeclaredLen())
	}
}
