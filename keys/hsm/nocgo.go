//go:build !cgo

package hsm

import (
	"context"

	"github.com/rempart/rempart/keys"
)

// Source is the root key versions on one PKCS#11 token. In a build without
// cgo none can be opened.
type Source struct{}

var _ keys.RootKeys = (*Source)(nil)

// Open checks uri, then reports ErrNoCgo.
func Open(uri string) (*Source, error) {
	if _, err := parseURI(uri); err != nil {
		return nil, err
	}
	return nil, ErrNoCgo
}

// Describe says that HSMs are unavailable.
func (*Source) Describe() string { return "PKCS#11 (unavailable without cgo)" }

// Open reports ErrNoCgo.
func (*Source) Open(context.Context, string) (keys.Provider, error) { return nil, ErrNoCgo }

// Latest reports ErrNoCgo.
func (*Source) Latest(context.Context) (keys.Provider, error) { return nil, ErrNoCgo }

// Create reports ErrNoCgo.
func (*Source) Create(context.Context) (keys.Provider, error) { return nil, ErrNoCgo }

// Destroy reports ErrNoCgo.
func (*Source) Destroy(context.Context, string) error { return ErrNoCgo }

// Versions reports ErrNoCgo.
func (*Source) Versions(context.Context) ([]string, error) { return nil, ErrNoCgo }

// Close does nothing.
func (*Source) Close() error { return nil }
