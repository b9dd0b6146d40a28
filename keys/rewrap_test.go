package keys_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/rempart/rempart/keys"
)

// keepingProvider wraps with inner and keeps the plaintext slices it was
// given, to see what became of them.
type keepingProvider struct {
	keys.Provider
	given [][]byte
}

func (p *keepingProvider) Wrap(ctx context.Context, key, ad []byte) ([]byte, error) {
	p.given = append(p.given, key)
	return p.Provider.Wrap(ctx, key, ad)
}

// TestRewrapClearsPlaintext: re-wrapping a KEK or a backup key moves it
// from one wrapper to another, leaving no plaintext copy in memory (ENC-3).
func TestRewrapClearsPlaintext(t *testing.T) {
	ctx := context.Background()
	src := keys.NewLocalKeys(filepath.Join(t.TempDir(), "root.key"))
	v1, _ := src.Create(ctx)
	v2, _ := src.Create(ctx)
	kr := keys.NewKeyring(v1, 10)
	kr.SetSource(src)
	secret := bytes.Repeat([]byte{7}, 32)
	for _, w := range []keys.Wrapped{
		{Kind: "kek", Owner: "ten_a", ID: "kek_1", Wrapper: v1.KeyID()},
		{Kind: "backup", ID: "bk_1", Wrapper: v1.KeyID()},
	} {
		ad := keys.AD("rempart/kek/v1", w.Owner)
		if w.Kind == "backup" {
			ad = keys.AD("rempart/backup-key/v1", w.ID)
		}
		var err error
		if w.Data, err = v1.Wrap(ctx, secret, ad); err != nil {
			t.Fatal(err)
		}
		to := &keepingProvider{Provider: v2}
		out, err := kr.Rewrap(ctx, w, to)
		if err != nil {
			t.Fatalf("%s: %v", w.Kind, err)
		}
		if got, err := v2.Unwrap(ctx, out, ad); err != nil || !bytes.Equal(got, secret) {
			t.Fatalf("%s re-wrapped: %v", w.Kind, err)
		}
		if len(to.given) != 1 || !bytes.Equal(to.given[0], make([]byte, 32)) {
			t.Fatalf("%s: plaintext left after the re-wrap: %x", w.Kind, to.given)
		}
	}
}
