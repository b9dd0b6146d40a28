package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/rempart/rempart"
)

// reader is a tenant principal whose role may read but not manage keys or
// retention.
var reader = rempart.Caller{Principal: rempart.Principal{ID: "usr_rd", Name: "Rita Reader", TenantID: "ten_acme", Role: rempart.RoleReader}, CredentialID: "ses_3"}

func withReader(c *console) {
	c.sessions.mu.Lock()
	c.sessions.sessions["tok-reader"] = reader
	c.sessions.mu.Unlock()
}

// The tenant's own key (GOV-5) from the tenant keys page: set it, see which
// key wraps the tenant's KEK, remove it; errors are shown next to the form,
// which keeps what was typed unless it holds a secret; the service decides
// who may.
func TestCustomerKeyForms(t *testing.T) {
	c := newConsole(t)
	withReader(c)
	const page = "/tenants/ten_acme/keys"
	uri := "pkcs11:token=acme;object=acme-cmk?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/rempart/acme.pin"

	r := c.get(page, "tok-tenant")
	wantBody(t, r, []string{"wrapped by the deployment's root key", "makes all of this tenant's data unreadable", "crypto-shredding",
		`action="/tenants/ten_acme/keys/customer"`, `name="understood"`}, []string{`action="/tenants/ten_acme/keys/customer/delete"`})

	// Without the acknowledgement nothing changes, and the URI is kept.
	r = c.post(page+"/customer", "tok-tenant", url.Values{"uri": {uri}})
	wantStatus(t, r, http.StatusBadRequest)
	wantBody(t, r, []string{`role="alert"`, "Tick the box", `value="pkcs11:token=acme;object=acme-cmk?module-path=/usr/lib/softhsm/libsofthsm2.so&amp;pin-source=file:/etc/rempart/acme.pin"`}, nil)
	if c.tenantKeys.customer["ten_acme"] != "" {
		t.Fatal("the key was set without the acknowledgement")
	}

	// The service's refusal is shown as it wrote it; a URI carrying a PIN
	// is not sent back.
	r = c.post(page+"/customer", "tok-tenant", url.Values{"uri": {"pkcs11:token=acme;object=acme-cmk?pin-value=123456"}, "understood": {"yes"}})
	wantStatus(t, r, http.StatusBadRequest)
	wantBody(t, r, []string{`role="alert"`, "must read its PIN from a file", `id="uri" name="uri" required maxlength="1024" autocomplete="off" spellcheck="false" value=""`}, []string{"123456"})
	r = c.post(page+"/customer", "tok-tenant", url.Values{"uri": {"gcpkms://projects/p/keys/k"}, "understood": {"yes"}})
	wantStatus(t, r, http.StatusBadRequest)
	wantBody(t, r, []string{"could not be opened", `value="gcpkms://projects/p/keys/k"`}, nil)

	// A reader may not; another tenant's admin does not see the tenant.
	wantStatus(t, c.post(page+"/customer", "tok-reader", url.Values{"uri": {uri}, "understood": {"yes"}}), http.StatusForbidden)
	wantStatus(t, c.post("/tenants/ten_globex/keys/customer", "tok-tenant", url.Values{"uri": {uri}, "understood": {"yes"}}), http.StatusNotFound)
	if len(c.tenantKeys.customer) != 0 {
		t.Fatalf("a refused change went through: %v", c.tenantKeys.customer)
	}

	r = c.post(page+"/customer", "tok-tenant", url.Values{"uri": {uri}, "understood": {"yes"}})
	wantLocation(t, r, page+"?done=customer-key-set")
	if got := c.tenantKeys.customer["ten_acme"]; got != "cmk:pkcs11:acme/acme-cmk-1" {
		t.Fatalf("customer key: got %q", got)
	}
	r = c.get(page+"?done=customer-key-set", "tok-tenant")
	wantBody(t, r, []string{"own key now wraps its key-encryption keys", "PKCS#11 key (HSM) <code>acme/acme-cmk-1</code>",
		`action="/tenants/ten_acme/keys/customer/delete"`}, []string{"/etc/rempart/acme.pin"})

	// A KMS key is named by its URL without the query.
	c.post(page+"/customer", "tok-admin", url.Values{"uri": {"awskms://alias/acme?region=eu-west-1"}, "understood": {"yes"}})
	wantBody(t, c.get(page, "tok-admin"), []string{"KMS key <code>awskms://alias/acme</code>"}, []string{"eu-west-1"})

	wantStatus(t, c.post(page+"/customer/delete", "tok-reader", nil), http.StatusForbidden)
	r = c.post(page+"/customer/delete", "tok-tenant", nil)
	wantLocation(t, r, page+"?done=customer-key-removed")
	if got := c.tenantKeys.customer["ten_acme"]; got != "" {
		t.Fatalf("customer key after removal: %q", got)
	}
	wantBody(t, c.get(page, "tok-tenant"), []string{"wrapped by the deployment's root key"}, []string{`/keys/customer/delete"`})
	// Removing a key the tenant does not have is the service's 404.
	wantStatus(t, c.post(page+"/customer/delete", "tok-tenant", nil), http.StatusNotFound)

	// When the service asks for a recent second factor, the console asks
	// for a code and offers to repeat the change; nothing is changed.
	c.tenantKeys.stepUp = true
	r = c.post(page+"/customer", "tok-tenant", url.Values{"uri": {uri}, "understood": {"yes"}})
	wantStatus(t, r, http.StatusForbidden)
	wantBody(t, r, []string{`action="/mfa/verify"`, `name="action" value="/tenants/ten_acme/keys/customer"`}, nil)
	if got := c.tenantKeys.customer["ten_acme"]; got != "" {
		t.Fatalf("customer key set without the second factor: %q", got)
	}
}

// Retention rules (GOV-5) from the tenant's retention page: the default and
// per-collection rules, set and deleted; bad numbers and bad collection names
// are refused next to the form that keeps them; the service decides who may.
func TestRetentionForms(t *testing.T) {
	c := newConsole(t)
	withReader(c)
	const page = "/tenants/ten_acme/retention"

	r := c.get(page, "tok-tenant")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, []string{"restorable for 30 days", "the deployment's retention", `action="/tenants/ten_acme/retention/default"`,
		`action="/tenants/ten_acme/retention/rules"`, `href="/tenants/ten_acme/retention" aria-current="page"`, "No collection has a rule"},
		[]string{`/retention/default/delete"`})

	// The default.
	r = c.post(page+"/default", "tok-tenant", url.Values{"restorable_days": {"14"}, "max_age_days": {""}})
	wantLocation(t, r, page+"?done=retention-default-set")
	if d, ok := c.retention.rule("ten_acme", ""); !ok || d.RestorableDays != 14 || d.MaxAgeDays != 0 {
		t.Fatalf("default: %+v, %v", d, ok)
	}
	wantBody(t, c.get(page+"?done=retention-default-set", "tok-tenant"), []string{"Default retention saved", "restorable for 14 days",
		"the tenant's default", `/retention/default/delete"`}, nil)

	// A collection's rule.
	r = c.post(page+"/rules", "tok-tenant", url.Values{"collection": {"calls"}, "restorable_days": {" 7 "}, "max_age_days": {"1095"}})
	wantLocation(t, r, page+"?done=retention-rule-set")
	if rl, ok := c.retention.rule("ten_acme", "calls"); !ok || rl.RestorableDays != 7 || rl.MaxAgeDays != 1095 {
		t.Fatalf("rule: %+v, %v", rl, ok)
	}
	r = c.get(page, "tok-tenant")
	wantBody(t, r, []string{"<code>calls</code>", "1095 days", `action="/tenants/ten_acme/retention/rules/calls/delete"`, `role="img"`}, nil)

	// Validation: each refusal keeps what was typed and changes nothing.
	for _, tc := range []struct {
		name, path string
		form       url.Values
		message    string
		kept       []string
	}{
		{"days not a number", "/default", url.Values{"restorable_days": {"two weeks"}}, "Restorable for: give a whole number of days", []string{`value="two weeks"`}},
		{"negative days", "/default", url.Values{"restorable_days": {"-3"}}, "Restorable for: give a whole number of days", []string{`value="-3"`}},
		{"days out of bounds", "/rules", url.Values{"collection": {"calls"}, "restorable_days": {"0"}}, "between 1 and 3650", []string{`value="calls"`, `value="0"`}},
		{"max age not a number", "/rules", url.Values{"collection": {"calls"}, "restorable_days": {"7"}, "max_age_days": {"3y"}}, "Maximum age: give a whole number of days", []string{`value="3y"`}},
		{"bad collection name", "/rules", url.Values{"collection": {"Calls<b>"}, "restorable_days": {"7"}}, "Collection names are 1 to 63 characters", []string{`value="Calls&lt;b&gt;"`}},
		{"no collection", "/rules", url.Values{"restorable_days": {"7"}}, "Collection names are 1 to 63 characters", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := c.post(page+tc.path, "tok-tenant", tc.form)
			wantStatus(t, r, http.StatusBadRequest)
			wantBody(t, r, append([]string{`role="alert"`, tc.message}, tc.kept...), []string{"<b>"})
		})
	}
	if d, _ := c.retention.rule("ten_acme", ""); d.RestorableDays != 14 {
		t.Fatalf("a refused default changed it: %+v", d)
	}
	if rl, _ := c.retention.rule("ten_acme", "calls"); rl.RestorableDays != 7 || rl.MaxAgeDays != 1095 {
		t.Fatalf("a refused rule changed it: %+v", rl)
	}

	// A reader may not; another tenant's admin does not see the tenant.
	wantStatus(t, c.get(page, "tok-reader"), http.StatusForbidden)
	wantStatus(t, c.post(page+"/rules", "tok-reader", url.Values{"collection": {"notes"}, "restorable_days": {"7"}}), http.StatusForbidden)
	wantStatus(t, c.post(page+"/rules/calls/delete", "tok-reader", nil), http.StatusForbidden)
	wantStatus(t, c.post("/tenants/ten_globex/retention/default", "tok-tenant", url.Values{"restorable_days": {"7"}}), http.StatusNotFound)
	wantStatus(t, c.get("/tenants/ten_globex/retention", "tok-tenant"), http.StatusNotFound)
	if _, ok := c.retention.rule("ten_acme", "notes"); ok {
		t.Fatal("a reader set a rule")
	}
	if _, ok := c.retention.rule("ten_globex", ""); ok {
		t.Fatal("another tenant's admin set its default")
	}

	// Deleting.
	wantLocation(t, c.post(page+"/rules/calls/delete", "tok-tenant", nil), page+"?done=retention-rule-deleted")
	if _, ok := c.retention.rule("ten_acme", "calls"); ok {
		t.Fatal("the rule is still there")
	}
	wantStatus(t, c.post(page+"/rules/calls/delete", "tok-tenant", nil), http.StatusNotFound)
	wantLocation(t, c.post(page+"/default/delete", "tok-admin", nil), page+"?done=retention-default-deleted")
	if _, ok := c.retention.rule("ten_acme", ""); ok {
		t.Fatal("the default is still there")
	}
}
