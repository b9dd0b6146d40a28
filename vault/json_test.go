package vault

import (
	"encoding/json"
	"testing"

	"github.com/rempart/rempart"
)

// FuzzCheckData: a record body is either refused with a clear client error or
// accepted as a compact JSON object within the limits.
func FuzzCheckData(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,{"b":"\"}"}]}`, `[]`, `"x"`, `{"a":`, `{"a":"\u00e9"}`, ` {"a" : 1 } `} {
		f.Add([]byte(s))
	}
	l := Limits{MaxRecordBytes: 4096, MaxDepth: 8}.withDefaults()
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := l.checkData(data)
		if err != nil {
			if c := rempart.ErrorCode(err); c != rempart.EINVALID && c != rempart.ETOOLARGE {
				t.Fatalf("got code %s, want invalid or too_large", c)
			}
			return
		}
		var m map[string]any
		if json.Unmarshal(out, &m) != nil || m == nil {
			t.Fatalf("accepted %q as %q, not a JSON object", data, out)
		}
		if len(out) > l.MaxRecordBytes || depth(out) > l.MaxDepth {
			t.Fatalf("accepted %q beyond the limits", out)
		}
	})
}

func TestMergePatch(t *testing.T) {
	// RFC 7396 appendix A examples that apply to objects.
	cases := []struct{ target, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`{"e":null}`, `{"a":1}`, `{"a":1,"e":null}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
		{`{"n":12345678901234567890}`, `{"m":1}`, `{"m":1,"n":12345678901234567890}`},
	}
	for _, c := range cases {
		got, err := mergePatch([]byte(c.target), []byte(c.patch))
		if err != nil || string(got) != c.want {
			t.Errorf("merge %s with %s: got %s, %v; want %s", c.target, c.patch, got, err, c.want)
		}
	}
	if _, err := mergePatch([]byte(`{}`), []byte(`[1]`)); rempart.ErrorCode(err) != rempart.EINVALID {
		t.Errorf("array patch: got %v, want invalid", err)
	}
}
