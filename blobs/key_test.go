package blobs_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/rempart/rempart/blobs"
)

func TestValidateKey(t *testing.T) {
	valid := []string{
		"a", "0", "tenant_1/att_5x3k", "t/bk/2030-01-01.v1", "a-b_c.d", "x.tmp1", "x.tmpl/y",
		strings.Repeat("a", blobs.MaxSegmentLen),
		strings.Repeat("abcdefgh/", blobs.MaxKeyLen/9) + "abcdefgh", // exactly MaxKeyLen
	}
	for _, key := range valid {
		if err := blobs.ValidateKey(key); err != nil {
			t.Errorf("validate %.40q: got %v, want nil", key, err)
		}
	}
	for _, key := range invalidKeys {
		err := blobs.ValidateKey(key)
		if !errors.Is(err, blobs.ErrInvalidKey) {
			t.Errorf("validate %.40q: got %v, want ErrInvalidKey", key, err)
		}
		if err != nil && len(err.Error()) > 200 {
			t.Errorf("validate %.40q: got a %d-byte error, want a short one", key, len(err.Error()))
		}
	}
}
