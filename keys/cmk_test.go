package keys_test

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/internal/softhsm"
	"github.com/rempart/rempart/internal/testclock"
	"github.com/rempart/rempart/keys"
	"github.com/rempart/rempart/keys/hsm"
	"github.com/rempart/rempart/vault"
)

// TestCustomerManagedKey lets a tenant bring its own key, on a real PKCS#11
// token (SoftHSM2): its KEKs are re-wrapped under it, new ones (after a
// rotation) too, a root rotation leaves them alone; when the tenant destroys
// its key, its data stops decrypting within the cache time, with a clear,
// audited error, while the other tenant goes on (GOV-5).
func TestCustomerManagedKey(t *testing.T) {
	ctx := context.Background()
	tok := softhsm.New(t)
	cmkURI := tok.URIWith("acme-cmk", "pin-source=file:"+tok.PINFile)
	tenantSrc, err := hsm.Open(cmkURI)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tenantSrc.Close() })
	cmk, err := tenantSrc.Create(ctx) // the tenant makes its key on its token
	if err != nil {
		t.Fatal(err)
	}

	d := freshDB(t, "sqlite")
	src := keys.NewLocalKeys(filepath.Join(t.TempDir(), "root.key"))
	root, _ := src.Create(ctx)
	clock := testclock.New(time.Now())
	kr := keys.NewKeyring(root, 100)
	kr.SetSource(src)
	kr.SetClock(clock.Now)
	opened := 0
	customer := keys.NewCustomer(d, func(ctx context.Context, uri string) (keys.CustomerSource, io.Closer, error) {
		opened++
		s, err := hsm.Open(uri)
		if err != nil {
			return nil, nil, err
		}
		return s, s, nil
	})
	t.Cleanup(func() { customer.Close() })
	kr.SetCustomerKeys(customer, time.Minute)
	v := vault.New(d, kr, clock, vault.Config{})
	jobs := &fakeJobs{}
	k := vault.NewKeys(v, jobs)
	escrowed := 0
	k.SetCustomerKeys(customer, func(context.Context) { escrowed++ })

	admin := rempart.Caller{Principal: rempart.Principal{ID: "sa_admin", Role: rempart.RoleSystemAdmin}}
	a, _ := v.CreateTenant(ctx, admin, "Acme")
	b, _ := v.CreateTenant(ctx, admin, "Globex")
	wa := rempart.Caller{Principal: rempart.Principal{ID: "sa_a", TenantID: a.ID, Role: rempart.RoleAdmin}}
	wb := rempart.Caller{Principal: rempart.Principal{ID: "sa_b", TenantID: b.ID, Role: rempart.RoleWriter}}
	ra, _, _ := v.CreateRecord(ctx, wa, a.ID, "calls", []byte(`{"a":1}`), "")
	rb, _, _ := v.CreateRecord(ctx, wb, b.ID, "calls", []byte(`{"b":1}`), "")

	if _, err := k.SetCustomerKey(ctx, wb, a.ID, cmkURI); rempart.ErrorCode(err) != rempart.ENOTFOUND {
		t.Fatalf("another tenant's writer sets A's key: got %v, want not_found", err)
	}
	inv, err := k.SetCustomerKey(ctx, wa, a.ID, cmkURI)
	if err != nil {
		t.Fatal(err)
	}
	wrapper := keys.CustomerPrefix + cmk.KeyID()
	if len(inv.KEKs) != 1 || inv.KEKs[0].Wrapper != wrapper || escrowed != 1 {
		t.Fatalf("after setting the key: KEKs %+v, escrow rewrites %d", inv.KEKs, escrowed)
	}
	if got, err := v.GetRecord(ctx, wa, a.ID, "calls", ra.ID); err != nil || string(got.Data) != `{"a":1}` {
		t.Fatalf("read under the tenant's key: %s, %v", got.Data, err)
	}
	// A rotation wraps the new KEK under the tenant's key too; a root
	// rotation leaves the tenant's KEKs to it.
	if _, err := k.Rotate(ctx, wa, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := k.Reencrypt(ctx, a.ID, nil); err != nil {
		t.Fatal(err)
	}
	rot := keys.NewRotator(d, kr, src, nil, nil)
	if _, err := rot.Start(ctx, admin); err != nil {
		t.Fatal(err)
	}
	if err := rot.Rewrap(ctx, nil); err != nil {
		t.Fatal(err)
	}
	inv, _ = k.Inventory(ctx, wa, a.ID)
	for _, kek := range inv.KEKs {
		if kek.Wrapper != wrapper {
			t.Fatalf("KEK %s of the tenant is under %s, want its own key", kek.ID, kek.Wrapper)
		}
	}
	if got, err := v.GetRecord(ctx, wa, a.ID, "calls", ra.ID); err != nil || string(got.Data) != `{"a":1}` {
		t.Fatalf("read after the rotations: %s, %v", got.Data, err)
	}
	// The tenant revokes its key.
	if err := tenantSrc.Destroy(ctx, cmk.KeyID()); err != nil {
		t.Fatal(err)
	}
	if _, err := v.GetRecord(ctx, wa, a.ID, "calls", ra.ID); err != nil {
		t.Fatalf("within the cache time the read still works: %v", err)
	}
	clock.Advance(2 * time.Minute)
	_, err = v.GetRecord(ctx, wa, a.ID, "calls", ra.ID)
	if rempart.ErrorCode(err) != rempart.EUNAVAILABLE || !strings.Contains(rempart.ErrorMessage(err), "own key") {
		t.Fatalf("read after the tenant revoked its key: got %v, want unavailable naming its own key", err)
	}
	if _, _, err := v.CreateRecord(ctx, wa, a.ID, "calls", []byte(`{"a":2}`), ""); rempart.ErrorCode(err) != rempart.EUNAVAILABLE {
		t.Fatalf("write after the tenant revoked its key: got %v, want unavailable", err)
	}
	if got, err := v.GetRecord(ctx, wb, b.ID, "calls", rb.ID); err != nil || string(got.Data) != `{"b":1}` {
		t.Fatalf("the other tenant after the revocation: %s, %v", got.Data, err)
	}
	es, _ := d.AuditLog(ctx, audit.Query{Limit: 1000, Action: "record.read"})
	failed := false
	for _, e := range es {
		failed = failed || e.TenantID == a.ID && e.Outcome == rempart.OutcomeFailure && e.Reason == rempart.EUNAVAILABLE
	}
	if !failed {
		t.Fatal("the refused read is not in the audit log")
	}
}
