package httpapi

import (
	"math"
	"strconv"
	"strings"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/vault"
)

// maxRanges bounds how many ranges a Range header may list (each is parsed
// before the vault refuses more than one).
const maxRanges = 16

// parseRange parses a Range header (RFC 9110 §14.2): "bytes=" and a list of
// "first-last", "first-" or "-suffix". Another unit is ignored (nil ranges),
// as the RFC requires; a malformed byte range set is EINVALID.
func parseRange(h string) ([]vault.ByteRange, error) {
	unit, set, ok := cut(strings.TrimSpace(h), '=')
	if !ok {
		return nil, errBadRange
	}
	if !strings.EqualFold(strings.TrimSpace(unit), "bytes") {
		return nil, nil
	}
	var out []vault.ByteRange
	for _, spec := range splitList(set) {
		if len(out) == maxRanges {
			return nil, rempart.Errorf(rempart.EINVALID, "A Range header may list at most %d ranges.", maxRanges)
		}
		first, last, ok := cut(spec, '-')
		if !ok {
			return nil, errBadRange
		}
		var r vault.ByteRange
		switch {
		case first == "":
			n, ok := position(last)
			if !ok {
				return nil, errBadRange
			}
			r = vault.ByteRange{IsSuffix: true, SuffixLength: n}
		default:
			f, ok := position(first)
			if !ok {
				return nil, errBadRange
			}
			r = vault.ByteRange{First: f, Last: -1}
			if last != "" {
				l, ok := position(last)
				if !ok || l < f {
					return nil, errBadRange
				}
				r.Last = l
			}
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, errBadRange
	}
	return out, nil
}

var errBadRange = rempart.Errorf(rempart.EINVALID, "Range must be bytes=FIRST-LAST, bytes=FIRST- or bytes=-LENGTH (RFC 9110), with decimal byte positions.")

// position parses a byte position: decimal digits, saturating at the
// largest int64 (a position past any content).
func position(s string) (int64, bool) {
	if s == "" || len(s) > 64 || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return math.MaxInt64, true // all digits: out of range only
	}
	return n, true
}

// splitList splits a comma-separated header list, dropping empty elements
// and the whitespace around each.
func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// cut is strings.Cut on a byte, with the parts trimmed of spaces.
func cut(s string, sep byte) (before, after string, ok bool) {
	i := strings.IndexByte(s, sep)
	if i < 0 {
		return s, "", false
	}
	return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+1:]), true
}
