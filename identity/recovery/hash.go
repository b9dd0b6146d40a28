package recovery

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"

	"github.com/rempart/rempart"
)

// A stored hash is version || salt || SHA-256(domain || salt || code).
const (
	hashVersion = 1
	saltSize    = 16
	hashSize    = 1 + saltSize + sha256.Size
	domain      = "rempart recovery code v1\x00"
)

// Hash returns the stored form of a code typed or generated earlier, with a
// fresh salt. It normalises the code first.
func Hash(code string) ([]byte, error) {
	plain, err := Normalize(code)
	if err != nil {
		return nil, err
	}
	return hash(plain)
}

func hash(plain string) ([]byte, error) {
	out := make([]byte, 1+saltSize, hashSize)
	out[0] = hashVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, rempart.Errorf(rempart.EINTERNAL, "recovery: random salt: %v", err)
	}
	return append(out, digest(out[1:1+saltSize], plain)...), nil
}

func digest(salt []byte, plain string) []byte {
	h := sha256.New()
	h.Write([]byte(domain))
	h.Write(salt)
	h.Write([]byte(plain))
	return h.Sum(nil)
}

// Match reports whether input is one of the codes behind hashes, and which.
// Entries that are nil (a used code) or not of this package's form are
// skipped. Every entry is checked in constant time, with no early exit, so
// the time taken does not tell which code matched. Malformed input matches
// nothing; call Normalize first to tell the user it is malformed.
func Match(hashes [][]byte, input string) (index int, ok bool) {
	plain, err := Normalize(input)
	if err != nil {
		return -1, false
	}
	found := -1
	for i, h := range hashes {
		if len(h) != hashSize || h[0] != hashVersion {
			continue
		}
		eq := subtle.ConstantTimeCompare(digest(h[1:1+saltSize], plain), h[1+saltSize:])
		// Keep the first match.
		first := eq & subtle.ConstantTimeEq(int32(found), -1)
		found = subtle.ConstantTimeSelect(first, i, found)
	}
	return found, found >= 0
}
