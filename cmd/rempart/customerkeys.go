package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/keys"
	"github.com/rempart/rempart/keys/hsm"
	"github.com/rempart/rempart/keys/kms"
)

// customerKeyOpener opens tenants' own keys, within what the operator allows:
// the kinds of source (customer-key-sources) and, for PKCS#11, the module
// libraries (customer-key-pkcs11-modules) — a tenant must never make the
// server load a library of its choosing. A PIN given in the URI is refused:
// it would be a secret stored in the database.
func customerKeyOpener(sources, modules []string) keys.CustomerOpener {
	bad := func(format string, args ...any) error { return rempart.Errorf(rempart.EINVALID, format, args...) }
	return func(ctx context.Context, uri string) (keys.CustomerSource, io.Closer, error) {
		scheme := uri
		if i := strings.Index(uri, ":"); i > 0 {
			scheme = uri[:i]
		}
		if !slices.Contains(sources, scheme) {
			return nil, nil, bad("Keys of kind %q are not accepted here (the operator allows: %s).", scheme, strings.Join(sources, ", "))
		}
		if scheme == "pkcs11" {
			_, query, _ := strings.Cut(uri, "?")
			q, err := url.ParseQuery(query)
			if err != nil {
				return nil, nil, bad("The PKCS#11 URI's query is malformed.")
			}
			if q.Has("pin-value") {
				return nil, nil, bad("A PKCS#11 URI for a tenant's key must read its PIN from a file (pin-source), not carry it.")
			}
			mod := filepath.Clean(q.Get("module-path"))
			if !slices.Contains(modules, mod) {
				return nil, nil, bad("The PKCS#11 module %q is not one the operator allows.", q.Get("module-path"))
			}
			src, err := hsm.Open(uri)
			if err != nil {
				// Not for the tenant: it may tell of the server's
				// files (a pin-source that cannot be read).
				return nil, nil, fmt.Errorf("open PKCS#11 key: %w", err)
			}
			return present(ctx, src)
		}
		src, err := kms.Open(ctx, uri)
		if err != nil {
			return nil, nil, fmt.Errorf("open KMS key: %w", err)
		}
		return present(ctx, src)
	}
}

// present returns the source if it holds a version, and closes it otherwise
// (an open PKCS#11 source keeps its module loaded).
func present(ctx context.Context, src interface {
	keys.RootKeys
	io.Closer
}) (keys.CustomerSource, io.Closer, error) {
	ids, err := src.Versions(ctx)
	if err == nil && len(ids) == 0 {
		err = keys.ErrNoRootKey
	}
	if err != nil {
		src.Close()
		return nil, nil, fmt.Errorf("the key is not there: %w", err)
	}
	return src, src, nil
}
