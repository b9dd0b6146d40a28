package recovery

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
	"unicode"

	"github.com/rempart/rempart"
)

// Counts of codes Generate makes.
const (
	DefaultCount = 10
	MaxCount     = 100
)

// Alphabet is Crockford's base32 alphabet in lower case: digits and letters
// without i, l, o and u.
const Alphabet = "0123456789abcdefghjkmnpqrstvwxyz"

const (
	codeBytes = 10 // 80 bits of entropy
	codeChars = codeBytes * 8 / 5
	groupSize = 4
)

var enc = base32.NewEncoding(Alphabet).WithPadding(base32.NoPadding)

// Generate returns n fresh codes, formatted for display, and their hashes in
// the same order. Show the codes once; store only the hashes.
func Generate(n int) (codes []string, hashes [][]byte, err error) {
	if n < 1 || n > MaxCount {
		return nil, nil, rempart.Errorf(rempart.EINVALID, "The number of recovery codes must be between 1 and %d.", MaxCount)
	}
	codes = make([]string, n)
	hashes = make([][]byte, n)
	var raw [codeBytes]byte
	for i := range n {
		if _, err := rand.Read(raw[:]); err != nil {
			return nil, nil, rempart.Errorf(rempart.EINTERNAL, "recovery: random code: %v", err)
		}
		plain := enc.EncodeToString(raw[:])
		codes[i] = format(plain)
		if hashes[i], err = hash(plain); err != nil {
			return nil, nil, err
		}
	}
	return codes, hashes, nil
}

// format groups a normalised code for display: "xxxx-xxxx-xxxx-xxxx".
func format(plain string) string {
	var b strings.Builder
	for i := 0; i < len(plain); i += groupSize {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(plain[i : i+groupSize])
	}
	return b.String()
}

// Normalize returns the canonical form of a typed code: lower case, without
// dashes or white space, with o, i and l read as 0, 1 and 1. A code of the
// wrong length or with other characters is an EINVALID error.
func Normalize(input string) (string, error) {
	if len(input) > 4*codeChars {
		return "", rempart.Errorf(rempart.EINVALID, "A recovery code has %d characters.", codeChars)
	}
	var b strings.Builder
	for _, r := range strings.ToLower(input) {
		switch {
		case r == '-' || unicode.IsSpace(r):
			continue
		case r == 'o':
			r = '0'
		case r == 'i' || r == 'l':
			r = '1'
		}
		if r > 0x7f || !strings.ContainsRune(Alphabet, r) {
			return "", rempart.Errorf(rempart.EINVALID, "A recovery code uses only digits and the letters a to z without u.")
		}
		b.WriteRune(r)
	}
	if b.Len() != codeChars {
		return "", rempart.Errorf(rempart.EINVALID, "A recovery code has %d characters.", codeChars)
	}
	return b.String(), nil
}
