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

// CustomerSource is a tenant's own key: its versions, as a root key source
// has them (an HSM key object per version, or one KMS key).
type CustomerSource interface {
	// Open returns the version with this ID (Provider.KeyID).
	Open(ctx context.Context, id string) (Provider, error)
	// Latest returns the newest version.
	Latest(ctx context.Context) (Provider, error)
}

// CustomerOpener opens the key at uri; the closer (may be nil) releases
// what opening it took (an HSM session, a KMS client). An error that is an
// EINVALID *rempart.Error says, in words fit for the tenant, why the URI is
// refused; any other error is detail for the operator only.
type CustomerOpener func(ctx context.Context, uri string) (CustomerSource, io.Closer, error)

// Customer opens tenants' own keys through opener (which knows the PKCS#11
// and KMS sources and the operator's allowlist). A key bound to a tenant
// stays open until Close; a key a tenant only proposes (Try) is released
// at once.
type Customer struct {
	store  CustomerKeyStore
	opener CustomerOpener

	mu        sync.Mutex
	byURI     map[string]CustomerSource // sources of keys bound to tenants
	byWrapper map[string]Provider       // the versions wrappers name
	closers   []io.Closer
}

// NewCustomer returns the customer key opener.
func NewCustomer(store CustomerKeyStore, opener CustomerOpener) *Customer {
	return &Customer{store: store, opener: opener, byURI: map[string]CustomerSource{}, byWrapper: map[string]Provider{}}
}

// Close releases every key opened.
func (c *Customer) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, cl := range c.closers {
		errs = append(errs, cl.Close())
	}
	c.closers, c.byURI, c.byWrapper = nil, map[string]CustomerSource{}, map[string]Provider{}
	return errors.Join(errs...)
}

// Open returns the version of the tenant key that wrapper names — not
// necessarily the newest: a tenant that adds a version to its key keeps
// reading what the earlier one wraps.
func (c *Customer) Open(ctx context.Context, wrapper string) (Provider, error) {
	c.mu.Lock()
	p, ok := c.byWrapper[wrapper]
	c.mu.Unlock()
	if ok {
		return customerProvider{p}, nil
	}
	uri, err := c.store.CustomerKeyURI(ctx, wrapper)
	if err != nil {
		return nil, fmt.Errorf("%w (%s: %v)", ErrCustomerKey, wrapper, err)
	}
	src, err := c.source(ctx, uri)
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrCustomerKey, err)
	}
	p, err = src.Open(ctx, strings.TrimPrefix(wrapper, CustomerPrefix))
	if err != nil {
		return nil, fmt.Errorf("%w (%s: %v)", ErrCustomerKey, wrapper, err)
	}
	if CustomerPrefix+p.KeyID() != wrapper {
		return nil, fmt.Errorf("%w (%s opens %s)", ErrCustomerKey, wrapper, p.KeyID())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byWrapper[wrapper] = p
	return customerProvider{p}, nil
}

// source opens (or returns the open) source of a key bound to a tenant.
func (c *Customer) source(ctx context.Context, uri string) (CustomerSource, error) {
	c.mu.Lock()
	src, ok := c.byURI[uri]
	c.mu.Unlock()
	if ok {
		return src, nil
	}
	src, closer, err := c.opener(ctx, uri)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.byURI[uri]; ok { // opened meanwhile by another request
		if closer != nil {
			closer.Close()
		}
		return s, nil
	}
	c.byURI[uri] = src
	if closer != nil {
		c.closers = append(c.closers, closer)
	}
	return src, nil
}

// Try opens the newest version of the key at uri, which a tenant proposes
// as its own. Nothing is kept: the caller calls release once done with the
// version, whether or not the key is then bound to the tenant (Open opens
// it again from the bound URI). Errors are the opener's, unwrapped: see
// CustomerOpener for which of them the tenant may see.
func (c *Customer) Try(ctx context.Context, uri string) (p Provider, release func(), err error) {
	src, closer, err := c.opener(ctx, uri)
	if err != nil {
		return nil, nil, err
	}
	release = func() {
		if closer != nil {
			closer.Close()
		}
	}
	if p, err = src.Latest(ctx); err != nil {
		release()
		return nil, nil, fmt.Errorf("the key is not there: %w", err)
	}
	return p, release, nil
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
