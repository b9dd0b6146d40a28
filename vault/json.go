package vault

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/rempart/rempart"
)

// Limits bound what a record may hold (NET-2).
type Limits struct {
	MaxRecordBytes int // default 1 MiB
	MaxDepth       int // default 32
}

func (l Limits) withDefaults() Limits {
	if l.MaxRecordBytes <= 0 {
		l.MaxRecordBytes = 1 << 20
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = 32
	}
	return l
}

// checkData validates a record body and returns it compacted: a JSON object,
// within the size and nesting limits.
func (l Limits) checkData(data []byte) ([]byte, error) {
	if len(data) > l.MaxRecordBytes {
		return nil, &rempart.Error{Code: rempart.ETOOLARGE, Message: "The record is larger than the limit of " + strconv.Itoa(l.MaxRecordBytes) + " bytes."}
	}
	if !json.Valid(data) {
		return nil, rempart.Errorf(rempart.EINVALID, "The record is not valid JSON.")
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, rempart.Errorf(rempart.EINVALID, "A record must be a JSON object.")
	}
	if d := depth(trimmed); d > l.MaxDepth {
		return nil, rempart.Errorf(rempart.EINVALID, "The record nests %d levels deep; the limit is %d.", d, l.MaxDepth)
	}
	var buf bytes.Buffer
	buf.Grow(len(data))
	if err := json.Compact(&buf, data); err != nil {
		return nil, rempart.Errorf(rempart.EINVALID, "The record is not valid JSON.")
	}
	if buf.Len() > l.MaxRecordBytes {
		return nil, &rempart.Error{Code: rempart.ETOOLARGE, Message: "The record is larger than the limit of " + strconv.Itoa(l.MaxRecordBytes) + " bytes."}
	}
	return buf.Bytes(), nil
}

// depth returns the deepest nesting of objects and arrays in valid JSON.
func depth(b []byte) int {
	d, maxd, inStr, esc := 0, 0, false, false
	for _, c := range b {
		switch {
		case esc:
			esc = false
		case inStr:
			if c == '\\' {
				esc = true
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			d++
			maxd = max(maxd, d)
		case c == '}' || c == ']':
			d--
		}
	}
	return maxd
}

// mergePatch applies an RFC 7396 JSON merge patch to a JSON object.
func mergePatch(target, patch []byte) ([]byte, error) {
	var p any
	dec := json.NewDecoder(bytes.NewReader(patch))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return nil, rempart.Errorf(rempart.EINVALID, "The patch is not valid JSON.")
	}
	if _, ok := p.(map[string]any); !ok {
		return nil, rempart.Errorf(rempart.EINVALID, "A merge patch for a record must be a JSON object.")
	}
	var t any
	dec = json.NewDecoder(bytes.NewReader(target))
	dec.UseNumber()
	if err := dec.Decode(&t); err != nil {
		return nil, err
	}
	return json.Marshal(apply(t, p))
}

func apply(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	tm, ok := target.(map[string]any)
	if !ok {
		tm = map[string]any{}
	}
	for k, v := range pm {
		if v == nil {
			delete(tm, k)
		} else {
			tm[k] = apply(tm[k], v)
		}
	}
	return tm
}
