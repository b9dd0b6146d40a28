//go:build cgo

package hsm_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/rempart/rempart/internal/softhsm"
	"github.com/rempart/rempart/keys"
	"github.com/rempart/rempart/keys/hsm"
)

func TestConcurrentWrapUnwrap(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	v1, v2 := create(t, s), create(t, s)
	const goroutines, rounds = 64, 20
	errs := make(chan error, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := []keys.Provider{v1, v2}[g%2]
			for i := range rounds {
				key := bytes.Repeat([]byte{byte(g), byte(i)}, 16)
				ad := keys.AD("test", fmt.Sprint(g), fmt.Sprint(i))
				w, err := p.Wrap(ctx, key, ad)
				if err != nil {
					errs <- fmt.Errorf("goroutine %d wrap: %w", g, err)
					return
				}
				got, err := p.Unwrap(ctx, w, ad)
				if err != nil || !bytes.Equal(got, key) {
					errs <- fmt.Errorf("goroutine %d unwrap: got %x, %v, want %x", g, got, err, key)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// BenchmarkWrapUnwrap measures one Wrap and one Unwrap of a 32-byte key
// inside SoftHSM2, from one goroutine and from GOMAXPROCS goroutines.
func BenchmarkWrapUnwrap(b *testing.B) {
	tk := softhsm.New(b)
	s, err := hsm.Open(tk.URI)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	p, err := s.Create(ctx)
	if err != nil {
		b.Fatal(err)
	}
	key, ad := bytes.Repeat([]byte{9}, 32), keys.AD("rempart/kek/v1", "ten_bench")
	round := func() error {
		w, err := p.Wrap(ctx, key, ad)
		if err != nil {
			return err
		}
		_, err = p.Unwrap(ctx, w, ad)
		return err
	}
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if err := round(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := round(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
