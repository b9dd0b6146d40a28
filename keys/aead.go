package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
)

// ErrDecrypt reports a ciphertext that does not open: wrong key, altered bytes
// or altered associated data. It says nothing more, on purpose.
var ErrDecrypt = errors.New("decryption failed: wrong key or altered data")

// NewAEAD returns AES-256-GCM for a 32-byte key.
func NewAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, errors.New("AES-256 needs a 32-byte key")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Seal encrypts plaintext with a fresh random 96-bit nonce and returns
// nonce || ciphertext || tag.
func Seal(aead cipher.AEAD, plaintext, ad []byte) []byte {
	out := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		panic("keys: crypto/rand failed: " + err.Error())
	}
	return aead.Seal(out, out, plaintext, ad)
}

// Open reverses Seal.
func Open(aead cipher.AEAD, sealed, ad []byte) ([]byte, error) {
	n := aead.NonceSize()
	if len(sealed) < n+aead.Overhead() {
		return nil, ErrDecrypt
	}
	pt, err := aead.Open(nil, sealed[:n], sealed[n:], ad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// AD builds unambiguous associated data from parts: each part is preceded by
// its length, so ("ab","c") and ("a","bc") differ.
func AD(parts ...string) []byte {
	n := 0
	for _, p := range parts {
		n += 4 + len(p)
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

func randomKey() []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic("keys: crypto/rand failed: " + err.Error())
	}
	return k
}
