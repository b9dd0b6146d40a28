package httpapi

import (
	"net/http/httptest"
	"testing"

	"github.com/rempart/rempart"
)

// FuzzDecodeStrict: whatever the body, decoding answers nil or a clear
// EINVALID error, never a panic or an internal error (NET-2).
func FuzzDecodeStrict(f *testing.F) {
	for _, s := range []string{`{"name":"Acme"}`, `{"name":1}`, `{"nam":"x"}`, `{}`, ``, `{"name":"a"} x`, `[`, `{"name":"\u0000"}`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v rempart.ServiceAccountCreate
		err := decodeStrict(body, &v)
		if err != nil && rempart.ErrorCode(err) != rempart.EINVALID {
			t.Fatalf("got code %s (%v), want invalid", rempart.ErrorCode(err), err)
		}
		if err != nil && rempart.ErrorMessage(err) == "" {
			t.Fatal("an error without a message")
		}
	})
}

func TestDecodeStrictMessages(t *testing.T) {
	cases := map[string]string{
		`{"name":"x","extra":1}`: `Unknown field "extra".`,
		`{"name":5}`:             `Field "name" must be of type string.`,
		``:                       `The body is empty; a JSON object is expected.`,
		`{"name":"x"}{}`:         `The body holds data after the JSON object.`,
		`{"name":`:               `The body is not valid JSON.`,
	}
	for body, want := range cases {
		var v rempart.ServiceAccountCreate
		if got := rempart.ErrorMessage(decodeStrict([]byte(body), &v)); got != want {
			t.Errorf("%q: got %q, want %q", body, got, want)
		}
	}
}

func TestIfMatch(t *testing.T) {
	cases := []struct {
		h    string
		want int64
		bad  bool
	}{{"", 0, false}, {"*", 0, false}, {`"3"`, 3, false}, {`3`, 0, true}, {`"0"`, 0, true}, {`"x"`, 0, true}, {`W/"3"`, 0, true}}
	for _, c := range cases {
		r := httptest.NewRequest("PUT", "/", nil)
		r.Header.Set("If-Match", c.h)
		got, err := ifMatch(r)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("If-Match %q: got %d, %v; want %d, bad=%v", c.h, got, err, c.want, c.bad)
		}
	}
}
