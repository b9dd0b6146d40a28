package keys_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/internal/softhsm"
	"github.com/rempart/rempart/internal/testclock"
	"github.com/rempart/rempart/keys"
	"github.com/rempart/rempart/keys/hsm"
	"github.com/rempart/rempart/vault"
)

// countingCloser counts the sources still open.
type countingCloser struct {
	io.Closer
	open *atomic.Int64
}

func (c countingCloser) Close() error { c.open.Add(-1); return c.Closer.Close() }

// cmkFixture is a data plane whose tenants may bring keys on SoftHSM2, with
// root as the deployment's root key source and open counting the customer
// key sources held open.
type cmkFixture struct {
	v     *vault.Service
	k     *vault.Keys
	kr    *keys.Keyring
	clock *testclock.Clock
	open  *atomic.Int64
	log   *bytes.Buffer
	d     *db.DB
}

func newCMKFixture(t *testing.T, root keys.RootKeys) *cmkFixture {
	t.Helper()
	ctx := context.Background()
	d := freshDB(t, "sqlite")
	v1, err := root.Latest(ctx)
	if err != nil {
		if v1, err = root.Create(ctx); err != nil {
			t.Fatal(err)
		}
	}
	f := &cmkFixture{clock: testclock.New(time.Now()), open: &atomic.Int64{}, log: &bytes.Buffer{}, d: d}
	f.kr = keys.NewKeyring(v1, 100)
	f.kr.SetSource(root)
	customer := keys.NewCustomer(d, func(ctx context.Context, uri string) (keys.CustomerSource, io.Closer, error) {
		s, err := hsm.Open(uri)
		if err != nil {
			return nil, nil, err
		}
		f.open.Add(1)
		return s, countingCloser{s, f.open}, nil
	})
	t.Cleanup(func() { customer.Close() })
	f.kr.SetCustomerKeys(customer, time.Minute)
	f.v = vault.New(d, f.kr, f.clock, vault.Config{})
	f.k = vault.NewKeys(f.v, &fakeJobs{})
	f.k.SetCustomerKeys(customer, nil)
	f.k.SetLogger(slog.New(slog.NewTextHandler(f.log, nil)))
	return f
}

// TestCustomerKeyNewVersion: a tenant that makes a second version of its
// own key keeps reading and writing — every KEK is opened with the version
// its wrapper names, not the key's newest (GOV-5).
func TestCustomerKeyNewVersion(t *testing.T) {
	ctx := context.Background()
	tok := softhsm.New(t)
	cmkURI := tok.URIWith("acme-cmk", "pin-source=file:"+tok.PINFile)
	tenantSrc, err := hsm.Open(cmkURI)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tenantSrc.Close() })
	first, err := tenantSrc.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f := newCMKFixture(t, keys.NewLocalKeys(filepath.Join(t.TempDir(), "root.key")))
	admin := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", Role: rempart.RoleSystemAdmin}}
	a, _ := f.v.CreateTenant(ctx, admin, "Acme")
	wa := rempart.Caller{Principal: rempart.Principal{ID: "sa_a", TenantID: a.ID, Role: rempart.RoleAdmin}}
	r1, _, err := f.v.CreateRecord(ctx, wa, a.ID, "calls", []byte(`{"n":1}`), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.k.SetCustomerKey(ctx, wa, a.ID, cmkURI); err != nil {
		t.Fatal(err)
	}
	second, err := tenantSrc.Create(ctx) // the tenant adds a version to its key
	if err != nil {
		t.Fatal(err)
	}
	if second.KeyID() == first.KeyID() {
		t.Fatalf("second version %s, want a new one", second.KeyID())
	}
	f.kr.Forget(a.ID)
	f.clock.Advance(2 * time.Minute) // past the cache of unwrapped keys
	if got, err := f.v.GetRecord(ctx, wa, a.ID, "calls", r1.ID); err != nil || string(got.Data) != `{"n":1}` {
		t.Fatalf("read after the tenant added a version: %s, %v", got.Data, err)
	}
	// A rotation wraps the new KEK under the version the tenant's wrapper
	// names, and everything still reads.
	if _, err := f.k.Rotate(ctx, wa, a.ID); err != nil {
		t.Fatal(err)
	}
	r2, _, err := f.v.CreateRecord(ctx, wa, a.ID, "calls", []byte(`{"n":2}`), "")
	if err != nil {
		t.Fatalf("write after the rotation: %v", err)
	}
	if err := f.k.Reencrypt(ctx, a.ID, nil); err != nil {
		t.Fatal(err)
	}
	f.kr.Forget(a.ID)
	for id, want := range map[string]string{r1.ID: `{"n":1}`, r2.ID: `{"n":2}`} {
		if got, err := f.v.GetRecord(ctx, wa, a.ID, "calls", id); err != nil || string(got.Data) != want {
			t.Fatalf("record %s after the rotation: %s, %v", id, got.Data, err)
		}
	}
}

// TestCustomerKeyRefusals: a proposed key that cannot be opened is refused
// with a fixed message that tells nothing of the server (the detail goes to
// the operator's log), the deployment's own root key is refused as a
// tenant's key, and a refused key is not kept open (GOV-5).
func TestCustomerKeyRefusals(t *testing.T) {
	ctx := context.Background()
	tok := softhsm.New(t)
	rootURI := tok.URIWith("deployment-root", "pin-source=file:"+tok.PINFile)
	rootSrc, err := hsm.Open(rootURI)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rootSrc.Close() })
	f := newCMKFixture(t, rootSrc)
	admin := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", Role: rempart.RoleSystemAdmin}}
	a, _ := f.v.CreateTenant(ctx, admin, "Acme")
	wa := rempart.Caller{Principal: rempart.Principal{ID: "sa_a", TenantID: a.ID, Role: rempart.RoleAdmin}}

	secret := filepath.Join(t.TempDir(), "private", "no-such-pin")
	if err := os.MkdirAll(filepath.Dir(secret), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, uri, want, wantLog string }{
		{"a pin-source the server cannot read", tok.URIWith("acme", "pin-source=file:"+secret), "could not be opened", "no-such-pin"},
		{"the deployment's root key", rootURI, "this deployment's own root key", ""},
	} {
		f.log.Reset()
		_, err := f.k.SetCustomerKey(ctx, wa, a.ID, c.uri)
		if rempart.ErrorCode(err) != rempart.EINVALID || !strings.Contains(rempart.ErrorMessage(err), c.want) {
			t.Fatalf("%s: got %v, want invalid saying %q", c.name, err, c.want)
		}
		if msg := rempart.ErrorMessage(err); strings.Contains(msg, secret) || strings.Contains(msg, "no-such-pin") || strings.Contains(msg, tok.PINFile) {
			t.Fatalf("%s: the answer tells of the server's files: %s", c.name, msg)
		}
		if c.wantLog != "" && !strings.Contains(f.log.String(), c.wantLog) {
			t.Fatalf("%s: the operator's log lacks the detail: %q", c.name, f.log.String())
		}
		if n := f.open.Load(); n != 0 {
			t.Fatalf("%s: %d customer key sources left open after the refusal, want 0", c.name, n)
		}
	}
	inv, err := f.k.Inventory(ctx, wa, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, kek := range inv.KEKs {
		if keys.IsCustomer(kek.Wrapper) {
			t.Fatalf("KEK %s under %s after refusals, want the root key", kek.ID, kek.Wrapper)
		}
	}
	es, err := f.d.AuditLog(ctx, audit.Query{Limit: 100, Action: "key.tenant.customer_key.set"})
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, e := range es {
		if e.Outcome == rempart.OutcomeFailure && e.TenantID == a.ID {
			refused++
		}
	}
	if refused != 2 {
		t.Fatalf("audited refusals: got %d, want 2", refused)
	}
}
