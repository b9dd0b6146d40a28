package blobs

import (
	"fmt"
	"strings"
)

// Bounds on keys. A segment stays well under the 255-byte file name limit of
// common filesystems even with the suffix of the local store's temporary
// files, and a key well under S3's 1024-byte limit.
const (
	MaxKeyLen     = 512
	MaxSegmentLen = 128
)

// Suffixes reserved by the local store: its temporary files end in ".tmp",
// and gocloud's fileblob treats ".attrs" files as metadata sidecars.
var reservedSuffixes = []string{".tmp", ".attrs"}

// ValidateKey reports whether key is acceptable, with an error wrapping
// ErrInvalidKey that says why if not.
//
// A key is relative and made of segments separated by "/": no leading or
// trailing "/", no empty segment. Each segment holds only lowercase ASCII
// letters, digits, ".", "_" and "-", starts with a letter or digit, and does
// not end in ".tmp" or ".attrs". ".." appears nowhere. Keys are lowercase so
// that two keys never collide on a case-insensitive filesystem. A key is at
// most MaxKeyLen bytes and a segment at most MaxSegmentLen.
//
// Keys should be identifiers (tenant and object IDs), never personal data:
// they appear in error messages and in the store's listings.
func ValidateKey(key string) error {
	if err := checkChars(key, false); err != nil {
		return fmt.Errorf("%w %s: %s", ErrInvalidKey, quote(key), err)
	}
	return nil
}

// validatePrefix accepts the prefixes of valid keys: "" or a string of the
// key alphabet whose complete segments are valid; the last segment may be
// partial, and a trailing "/" is allowed.
func validatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	partial := !strings.HasSuffix(prefix, "/")
	if err := checkChars(strings.TrimSuffix(prefix, "/"), partial); err != nil {
		return fmt.Errorf("%w prefix %s: %s", ErrInvalidKey, quote(prefix), err)
	}
	return nil
}

// checkChars checks s as a key; with partial, its last segment may be the
// start of a segment, which need not avoid the reserved suffixes.
func checkChars(s string, partial bool) error {
	switch {
	case s == "":
		return fmt.Errorf("empty")
	case len(s) > MaxKeyLen:
		return fmt.Errorf("longer than %d bytes", MaxKeyLen)
	case strings.Contains(s, ".."):
		return fmt.Errorf(`contains ".."`)
	}
	segments := strings.Split(s, "/")
	for i, seg := range segments {
		if seg == "" {
			return fmt.Errorf(`empty segment (leading, trailing or double "/")`)
		}
		if len(seg) > MaxSegmentLen {
			return fmt.Errorf("segment longer than %d bytes", MaxSegmentLen)
		}
		if !isAlnum(seg[0]) {
			return fmt.Errorf("segment must start with a lowercase letter or digit")
		}
		for j := 0; j < len(seg); j++ {
			if c := seg[j]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
				return fmt.Errorf("byte %q not allowed (want a-z, 0-9, '.', '_', '-', '/')", c)
			}
		}
		if partial && i == len(segments)-1 {
			continue
		}
		for _, suffix := range reservedSuffixes {
			if strings.HasSuffix(seg, suffix) {
				return fmt.Errorf("segment ends in reserved suffix %q", suffix)
			}
		}
	}
	return nil
}

func isAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// quote quotes s for an error message, shortened so that an oversized key
// does not flood logs.
func quote(s string) string {
	const max = 80
	if len(s) > max {
		return fmt.Sprintf("%q…", s[:max])
	}
	return fmt.Sprintf("%q", s)
}
