package audit

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
)

// The export (AUD-2) is one JSON Lines file, written by the server's
// GET /api/v1/audit/export and by `rempart audit export`, read by
// `rempart audit verify`:
//
//	{"leaf_hash":"<std base64 of 32 bytes>","entry":<canonical entry bytes, verbatim>}
//	{"checkpoint":"<signed note text as a JSON string>"}
//
// Entry lines come in index order from 0; checkpoint lines may come anywhere,
// any number of them. The layout of entry lines is fixed so that the verifier
// can read them without a JSON decoder.
const (
	entryPrefix      = `{"leaf_hash":"`
	entryMiddle      = `","entry":`
	checkpointPrefix = `{"checkpoint":`
	leafBase64Len    = 44 // base64 of 32 bytes, padded
)

var strictBase64 = base64.StdEncoding.Strict()

// WriteEntryLine writes one entry line: the leaf hash and the entry's stored
// canonical bytes, verbatim. It writes what storage holds, even if damaged,
// so that the verifier (not the exporter) reports the damage.
func WriteEntryLine(w io.Writer, leafHash, body []byte) error {
	line := make([]byte, 0, len(entryPrefix)+leafBase64Len+len(entryMiddle)+len(body)+2)
	line = append(line, entryPrefix...)
	line = base64.StdEncoding.AppendEncode(line, leafHash)
	line = append(line, entryMiddle...)
	line = append(line, body...)
	line = append(line, '}', '\n')
	if _, err := w.Write(line); err != nil {
		return fmt.Errorf("write audit export: %w", err)
	}
	return nil
}

// WriteCheckpointLine writes one checkpoint line holding a signed note.
func WriteCheckpointLine(w io.Writer, noteText string) error {
	s, err := json.Marshal(noteText)
	if err != nil {
		return fmt.Errorf("write audit export: %w", err)
	}
	line := make([]byte, 0, len(checkpointPrefix)+len(s)+2)
	line = append(append(append(line, checkpointPrefix...), s...), '}', '\n')
	if _, err := w.Write(line); err != nil {
		return fmt.Errorf("write audit export: %w", err)
	}
	return nil
}

// parseEntryLine splits an entry line (without its newline) into the
// recorded leaf hash and the entry bytes. It reports false if the line does
// not have the fixed layout.
func parseEntryLine(line []byte, leaf *[hashSize]byte) (body []byte, ok bool) {
	if len(line) < len(entryPrefix) || string(line[:len(entryPrefix)]) != entryPrefix {
		return nil, false
	}
	rest := line[len(entryPrefix):]
	const head = leafBase64Len + len(entryMiddle)
	if len(rest) < head+2 || string(rest[leafBase64Len:head]) != entryMiddle || rest[len(rest)-1] != '}' {
		return nil, false
	}
	var buf [hashSize + 1]byte // 44 base64 characters decode to at most 33 bytes
	n, err := strictBase64.Decode(buf[:], rest[:leafBase64Len])
	if err != nil || n != hashSize {
		return nil, false
	}
	copy(leaf[:], buf[:n])
	return rest[head : len(rest)-1], true
}

// entryIndex reads the "index" field that opens every canonical entry:
// {"index":N, with N in canonical decimal.
func entryIndex(body []byte) (uint64, bool) {
	const p = `{"index":`
	if len(body) < len(p)+2 || string(body[:len(p)]) != p {
		return 0, false
	}
	digits := body[len(p):]
	var n uint64
	i := 0
	for ; i < len(digits) && '0' <= digits[i] && digits[i] <= '9'; i++ {
		d := uint64(digits[i] - '0')
		if n > (^uint64(0)-d)/10 {
			return 0, false // overflow
		}
		n = n*10 + d
	}
	switch {
	case i == 0 || i == len(digits):
		return 0, false
	case i > 1 && digits[0] == '0':
		return 0, false // leading zero: not what Encode writes
	case digits[i] != ',' && digits[i] != '}':
		return 0, false
	}
	return n, true
}
