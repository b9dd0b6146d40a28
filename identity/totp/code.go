package totp

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"time"
)

// The fixed parameters of the codes this package makes and accepts.
const (
	Digits = 6
	Period = 30 * time.Second
)

// Step returns the RFC 6238 time step of t: the number of whole periods since
// the Unix epoch (T0 = 0). Times before the epoch give negative steps, which
// no code matches.
func Step(t time.Time) int64 {
	sec := t.Unix()
	p := int64(Period / time.Second)
	if sec < 0 {
		return (sec - p + 1) / p
	}
	return sec / p
}

// Code returns the 6-digit code of secret at time t.
func Code(secret []byte, t time.Time) string {
	return hotp(secret, uint64(Step(t)), Digits)
}

// hotp is RFC 4226 section 5.3 with HMAC-SHA1: dynamic truncation of the
// HMAC of the big-endian counter, reduced modulo 10^digits and zero-padded.
func hotp(secret []byte, counter uint64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac := hmac.New(sha1.New, secret)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	v := bin % mod
	out := make([]byte, digits)
	for i := digits - 1; i >= 0; i-- {
		out[i] = byte('0' + v%10)
		v /= 10
	}
	return string(out)
}
