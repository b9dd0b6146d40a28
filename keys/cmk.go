package keys

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/rempart/rempart"
)

// Customer-managed keys (GOV-5): a tenant may bring its own key — a key on
// its HSM or in its KMS — which then wraps its key-encryption keys instead of
// the deployment's root key. If the tenant revokes it, its data can no longer
// be unwrapped: requests fail with ErrCustomerKey, audited, while other
// tenants go on. The keyring caches data keys unwrapped through a tenant's
// own key only briefly (SetCustomerKeys), so that a revocation takes effect
// within that time.

// ErrCustomerKey is the answer when a tenant's own key does not unwrap: it
// was revoked, disabled or cannot be reached.
var ErrCustomerKey = &rempart.Error{Code: rempart.EUNAVAILABLE, Message: "This tenant's own key did not unwrap its data: it was revoked, disabled or cannot be reached. Nothing of this tenant can be read or written until it is restored."}

// CustomerKeyStore says which key a customer wrapper ID names.
type CustomerKeyStore interface {
	// CustomerKeyURI returns the URI of the tenant key that wrapper names.
	CustomerKeyURI(ctx context.Context, wrapper string) (string, error)
}

// CustomerOpener opens the key at uri; the closer (may be nil) releases
// what opening it took (an HSM session, a KMS client).
type CustomerOpener func(ctx context.Context, uri string) (Provider, io.Closer, error)

// Customer opens tenants' own keys through opener (which knows the PKCS#11
// and KMS sources and the operator's allowlist), keeping each open until
// Close.
type Customer struct {
	store  CustomerKeyStore
	opener CustomerOpener

	mu      sync.Mutex
	byURI   map[string]Provider
	closers []io.Closer
}

// NewCustomer returns the customer key opener.
func NewCustomer(store CustomerKeyStore, opener CustomerOpener) *Customer {
	return &Customer{store: store, opener: opener, byURI: map[string]Provider{}}
}

// Close releases every key opened.
func (c *Customer) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, cl := range c.closers {
		errs = append(errs, cl.Close())
	}
	c.closers, c.byURI = nil, map[string]Provider{}
	return errors.Join(errs...)
}

// Open returns the tenant key wrapper names.
func (c *Customer) Open(ctx context.Context, wrapper string) (Provider, error) {
	uri, err := c.store.CustomerKeyURI(ctx, wrapper)
	if err != nil {
		return nil, fmt.Errorf("%w (%s: %v)", ErrCustomerKey, wrapper, err)
	}
	p, err := c.Provider(ctx, uri)
	if err != nil {
		return nil, err
	}
	if CustomerPrefix+p.KeyID() != wrapper {
		return nil, fmt.Errorf("%w (%s now opens %s)", ErrCustomerKey, wrapper, p.KeyID())
	}
	return customerProvider{p}, nil
}

// Provider opens (or returns the open) key at uri.
func (c *Customer) Provider(ctx context.Context, uri string) (Provider, error) {
	c.mu.Lock()
	p, ok := c.byURI[uri]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	p, closer, err := c.opener(ctx, uri)
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrCustomerKey, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if q, ok := c.byURI[uri]; ok { // opened meanwhile by another request
		if closer != nil {
			closer.Close()
		}
		return q, nil
	}
	c.byURI[uri] = p
	if closer != nil {
		c.closers = append(c.closers, closer)
	}
	return p, nil
}

// customerProvider turns every failure of a tenant's own key into
// ErrCustomerKey, whatever the source said.
type customerProvider struct{ Provider }

func (p customerProvider) Wrap(ctx context.Context, key, ad []byte) ([]byte, error) {
	w, err := p.Provider.Wrap(ctx, key, ad)
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrCustomerKey, err)
	}
	return w, nil
}

func (p customerProvider) Unwrap(ctx context.Context, wrapped, ad []byte) ([]byte, error) {
	k, err := p.Provider.Unwrap(ctx, wrapped, ad)
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrCustomerKey, err)
	}
	return k, nil
}

// IsCustomer reports whether a wrapper ID names a tenant's own key.
func IsCustomer(wrapper string) bool { return strings.HasPrefix(wrapper, CustomerPrefix) }
