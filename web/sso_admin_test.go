package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/web"
)

// fakeSSOAdmin keeps providers in memory and checks the caller's tenant the
// way the identity service would: a tenant's admin for that tenant, a
// system admin for staff ("").
type fakeSSOAdmin struct {
	providers []rempart.SSOProvider
	last      rempart.SSOProviderInput
}

func (f *fakeSSOAdmin) allowed(c rempart.Caller, tenant string) error {
	if tenant == "" && c.Principal.Role == rempart.RoleSystemAdmin || tenant != "" && c.Principal.TenantID == tenant && c.Principal.Role == rempart.RoleAdmin {
		return nil
	}
	return rempart.Errorf(rempart.ENOTFOUND, "Tenant not found.")
}

func (f *fakeSSOAdmin) SSOProviders(_ context.Context, c rempart.Caller, tenant string) ([]rempart.SSOProvider, error) {
	if err := f.allowed(c, tenant); err != nil {
		return nil, err
	}
	var out []rempart.SSOProvider
	for _, p := range f.providers {
		if p.TenantID == tenant {
			out = append(out, p)
		}
	}
	return out, nil
}

func (f *fakeSSOAdmin) CreateSSOProvider(_ context.Context, c rempart.Caller, tenant string, in rempart.SSOProviderInput) (rempart.SSOProvider, error) {
	if err := f.allowed(c, tenant); err != nil {
		return rempart.SSOProvider{}, err
	}
	f.last = in
	issuer := in.Issuer
	if in.Protocol == rempart.SSOProtocolSAML {
		if !strings.Contains(in.IDPMetadataXML, "<md:EntityDescriptor") {
			return rempart.SSOProvider{}, rempart.Errorf(rempart.EINVALID, "The identity provider's metadata was refused.")
		}
		issuer = "https://idp.acme.example/saml"
	} else if !strings.HasPrefix(in.Issuer, "https://") {
		return rempart.SSOProvider{}, rempart.Errorf(rempart.EINVALID, "issuer must be an https URL without query or fragment, such as https://login.example.com.")
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p := rempart.SSOProvider{ID: fmt.Sprintf("sso_%d", len(f.providers)+1), TenantID: tenant, Name: in.Name, Protocol: in.Protocol, Issuer: issuer, ClientID: in.ClientID,
		ClientSecretSet: in.ClientSecret != "", EmailDomains: in.EmailDomains, JITProvisioning: in.JITProvisioning, RoleClaim: in.RoleClaim, RoleMap: in.RoleMap,
		DefaultRole: in.DefaultRole, Enabled: in.Enabled, CreatedAt: t0, UpdatedAt: t0}
	f.providers = append(f.providers, p)
	return p, nil
}

func (f *fakeSSOAdmin) DeleteSSOProvider(_ context.Context, c rempart.Caller, tenant, id string) error {
	if err := f.allowed(c, tenant); err != nil {
		return err
	}
	for i, p := range f.providers {
		if p.ID == id && p.TenantID == tenant {
			f.providers = append(f.providers[:i], f.providers[i+1:]...)
			return nil
		}
	}
	return rempart.Errorf(rempart.ENOTFOUND, "Single sign-on provider not found.")
}

// TestSSOAdminPages: a tenant's admin adds a provider from the console
// (IAM-5): the form's values reach the service (domains split, role map
// parsed, checkboxes), the secret is never written back into a page, an
// invalid form keeps what was typed, the page matches its golden file, and
// another tenant's page is not found.
func TestSSOAdminPages(t *testing.T) {
	c := &console{t: t, sessions: newFakeSessions(), tenants: newFakeTenants(), accounts: newFakeAccounts(),
		audit: &fakeAudit{}, keys: &fakeKeys{}, tenantKeys: &fakeTenantKeys{}, backups: &fakeBackups{}}
	admin := &fakeSSOAdmin{}
	c.h = web.New(web.Config{Sessions: c.sessions, Tenants: c.tenants, Accounts: c.accounts, Audit: c.audit,
		Keys: c.keys, TenantKeys: c.tenantKeys, Backups: c.backups, Jobs: fakeJobs{}, SSOAdmin: admin,
		SSOCallbackURL: "https://rempart.example/sso/callback", SAMLEntityID: "https://rempart.example/sso/saml/metadata",
		SAMLACSURL: "https://rempart.example/sso/saml/acs", CSRFKey: []byte("0123456789abcdef0123456789abcdef")})

	form := url.Values{"name": {"Acme login"}, "issuer": {"http://login.acme.example"}, "client_id": {"rempart"}, "client_secret": {"s3cret-value"},
		"email_domains": {"acme.example, acme.test"}, "role_claim": {"groups"}, "role_map": {"admins = admin\r\nstaff = writer\r\n"},
		"default_role": {""}, "jit": {"on"}, "enabled": {"on"}}
	r := c.post("/tenants/ten_acme/sso", "tok-tenant", form)
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.body, "issuer must be an https URL") ||
		!strings.Contains(r.body, `value="http://login.acme.example"`) || strings.Contains(r.body, "s3cret-value") {
		t.Fatalf("invalid form: %d\n%s", r.StatusCode, r.body)
	}
	form.Set("issuer", "https://login.acme.example")
	r = c.post("/tenants/ten_acme/sso", "tok-tenant", form)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/tenants/ten_acme/sso?done=sso-created" {
		t.Fatalf("create: %d %s\n%s", r.StatusCode, r.Header.Get("Location"), r.body)
	}
	want := rempart.SSOProviderInput{Name: "Acme login", Protocol: rempart.SSOProtocolOIDC, Issuer: "https://login.acme.example", ClientID: "rempart", ClientSecret: "s3cret-value",
		EmailDomains: []string{"acme.example", "acme.test"}, JITProvisioning: true, RoleClaim: "groups",
		RoleMap: map[string]string{"admins": "admin", "staff": "writer"}, Enabled: true}
	if diff := cmp.Diff(want, admin.last); diff != "" {
		t.Fatalf("the service got (-want +got):\n%s", diff)
	}
	// A SAML identity provider: its metadata pasted, kept in the form
	// when refused.
	saml := url.Values{"protocol": {"saml"}, "name": {"Acme SAML"}, "idp_metadata_xml": {"<html>not metadata</html>"}, "email_attribute": {"mail"},
		"email_domains": {"acme.org"}, "role_claim": {"memberOf"}, "role_map": {"cn=admins = admin"}, "default_role": {"reader"}, "enabled": {"on"}}
	r = c.post("/tenants/ten_acme/sso", "tok-tenant", saml)
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(r.body, "metadata was refused") || !strings.Contains(r.body, "&lt;html&gt;not metadata&lt;/html&gt;</textarea>") {
		t.Fatalf("invalid SAML form: %d\n%s", r.StatusCode, r.body)
	}
	const md = `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.acme.example/saml"/>`
	saml.Set("idp_metadata_xml", md)
	if r = c.post("/tenants/ten_acme/sso", "tok-tenant", saml); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("create SAML: %d\n%s", r.StatusCode, r.body)
	}
	want = rempart.SSOProviderInput{Name: "Acme SAML", Protocol: rempart.SSOProtocolSAML, IDPMetadataXML: md, EmailAttribute: "mail",
		EmailDomains: []string{"acme.org"}, RoleClaim: "memberOf", RoleMap: map[string]string{"cn=admins": "admin"}, DefaultRole: "reader", Enabled: true}
	if diff := cmp.Diff(want, admin.last); diff != "" {
		t.Fatalf("the service got (-want +got):\n%s", diff)
	}
	r = c.get("/tenants/ten_acme/sso?done=sso-created", "tok-tenant")
	if r.StatusCode != http.StatusOK || strings.Contains(r.body, "s3cret-value") || !strings.Contains(r.body, "<code>https://rempart.example/sso/saml/acs</code>") {
		t.Fatalf("page: %d\n%s", r.StatusCode, r.body)
	}
	path := filepath.Join("testdata", "sso-providers.html")
	if *update {
		if err := os.WriteFile(path, []byte(r.body), 0o644); err != nil {
			t.Fatal(err)
		}
	} else if golden, err := os.ReadFile(path); err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	} else if diff := cmp.Diff(string(golden), r.body); diff != "" {
		t.Errorf("differs from %s (-want +got):\n%s", path, diff)
	}
	if r := c.get("/tenants/ten_globex/sso", "tok-tenant"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("another tenant's page: %d", r.StatusCode)
	}
	if r := c.post("/tenants/ten_acme/sso/sso_1/delete", "tok-tenant", nil); r.StatusCode != http.StatusSeeOther || len(admin.providers) != 1 {
		t.Fatalf("delete: %d, %d left", r.StatusCode, len(admin.providers))
	}
	if r := c.get("/staff/sso", "tok-admin"); r.StatusCode != http.StatusOK || !strings.Contains(r.body, `<option value="auditor">`) {
		t.Fatalf("staff page: %d\n%s", r.StatusCode, r.body)
	}
}
