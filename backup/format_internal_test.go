package backup

import (
	"bytes"
	"context"
	"errors"
	"testing"
)

// TestNothingFollowsTheEnd: a backup whose authenticated contents go on
// after the end frame is rejected as malformed, while one that stops at its
// end frame reads (ENC-4).
func TestNothingFollowsTheEnd(t *testing.T) {
	for _, c := range []struct {
		name  string
		after []byte // frames after the end frame
		ok    bool
	}{
		{"nothing after the end", nil, true},
		{"a frame after the end", []byte{frameEnd}, false},
		{"a partial frame after the end", []byte{frameTable, 0x80}, false},
	} {
		var buf bytes.Buffer
		fw := newFrameWriter(&buf)
		if err := fw.frame(frameEnd, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		if len(c.after) == 1 {
			fw.frame(c.after[0], []byte(`{}`))
		}
		fw.flush()
		if len(c.after) > 1 {
			buf.Write(c.after)
		}
		l := &loader{ctx: context.Background(), tenants: map[string]bool{}}
		err := l.run(newFrameReader(&buf), &Report{})
		if c.ok && err != nil {
			t.Fatalf("%s: got %v, want it read", c.name, err)
		}
		if !c.ok && !errors.Is(err, errFormat) {
			t.Fatalf("%s: got %v, want malformed", c.name, err)
		}
	}
}
