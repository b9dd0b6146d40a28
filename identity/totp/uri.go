package totp

import (
	"strconv"
	"strings"

	"github.com/rempart/rempart"
)

// KeyURI returns the otpauth:// URI that authenticator apps import, in the
// de facto "Key Uri Format":
//
//	otpauth://totp/Issuer:account?secret=…&issuer=Issuer&algorithm=SHA1&digits=6&period=30
//
// The issuer appears both in the label and as a parameter, as the format
// recommends. Every byte outside RFC 3986's unreserved set is
// percent-encoded, so spaces become %20 (never '+', which some apps show
// literally) and '@', '&', '=', '?', '#' and '/' cannot break the URI. Neither
// issuer nor account may be empty or contain a colon, which separates them
// in the label.
func KeyURI(issuer, account string, secret []byte) (string, error) {
	if err := checkLabelPart("issuer", issuer); err != nil {
		return "", err
	}
	if err := checkLabelPart("account", account); err != nil {
		return "", err
	}
	if len(secret) == 0 {
		return "", rempart.Errorf(rempart.EINVALID, "The secret is empty.")
	}
	var b strings.Builder
	b.WriteString("otpauth://totp/")
	b.WriteString(escape(issuer))
	b.WriteString(":")
	b.WriteString(escape(account))
	b.WriteString("?secret=")
	b.WriteString(EncodeSecret(secret))
	b.WriteString("&issuer=")
	b.WriteString(escape(issuer))
	b.WriteString("&algorithm=SHA1&digits=")
	b.WriteString(strconv.Itoa(Digits))
	b.WriteString("&period=")
	b.WriteString(strconv.Itoa(int(Period.Seconds())))
	return b.String(), nil
}

func checkLabelPart(what, s string) error {
	switch {
	case s == "":
		return rempart.Errorf(rempart.EINVALID, "The %s is empty.", what)
	case strings.Contains(s, ":"):
		return rempart.Errorf(rempart.EINVALID, "The %s must not contain a colon.", what)
	case len(s) > 256:
		return rempart.Errorf(rempart.EINVALID, "The %s is longer than 256 bytes.", what)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return rempart.Errorf(rempart.EINVALID, "The %s contains a control character.", what)
		}
	}
	return nil
}

// escape percent-encodes every byte outside RFC 3986's unreserved set.
func escape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
