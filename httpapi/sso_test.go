package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/client"
	"github.com/rempart/rempart/identity"
	"github.com/rempart/rempart/identity/oidc"
	"github.com/rempart/rempart/identity/saml"
	"github.com/rempart/rempart/internal/oidctest"
)

// TestSSOProvidersAPI configures a staff provider through the API against a
// real OpenID provider (IAM-5): the discovery is checked, the client secret
// is accepted and never comes back (responses, audit trail), an update
// without a secret keeps it, and a tenant's admin cannot see the staff's.
func TestSSOProvidersAPI(t *testing.T) {
	const secret = "api-Client-Secret-7f3a"
	op := oidctest.Start(t, oidctest.Client{ID: "rempart", Secret: secret, RedirectURI: "https://rempart.example/sso/callback"})
	ctx := context.Background()
	st := newStackWith(t, identity.Config{SSO: identity.SSOConfig{OIDC: &oidc.Client{}, RedirectURL: "https://rempart.example/sso/callback", LoopbackHTTP: true}})
	d, id, srv := st.db, st.identity, st.srv
	tok, err := id.EnsureBootstrap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := id.Bootstrap(ctx, rempart.Caller{}, tok)
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(srv.URL, client.WithAPIKey(b.Key.Secret))

	in := rempart.SSOProviderInput{Name: "Staff login", Issuer: op.Issuer, ClientID: "rempart", ClientSecret: secret,
		EmailDomains: []string{"badwolf.org"}, DefaultRole: rempart.RoleAuditor, Enabled: true}
	for _, iss := range []string{"ftp://login.example.com", "http://login.example.com", "https://login.example.com/?a=b", op.Issuer + "/nothing-here"} {
		bad := in
		bad.Issuer = iss
		if _, err := c.CreateSSOProvider(ctx, "", bad); rempart.ErrorCode(err) != rempart.EINVALID {
			t.Fatalf("issuer %s: %v", iss, err)
		}
	}
	p, err := c.CreateSSOProvider(ctx, "", in)
	if err != nil {
		t.Fatal(err)
	}
	in.ClientSecret, in.Name = "", "Renamed"
	p2, err := c.UpdateSSOProvider(ctx, "", p.ID, in)
	if err != nil || p2.Name != "Renamed" || !p2.ClientSecretSet {
		t.Fatalf("update: %+v, %v", p2, err)
	}
	// The stored secret still opens to the one given at creation.
	row, err := d.SSOProvider(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := st.sealer.Open(ctx, row.SealedSecret, []byte("rempart sso client secret v1\x00"+p.ID)); err != nil || string(got) != secret {
		t.Fatalf("the secret after an update without one: %q, %v", got, err)
	}
	list, err := c.SSOProviders(ctx, "")
	if err != nil || len(list) != 1 || list[0].ID != p.ID {
		t.Fatalf("list: %+v, %v", list, err)
	}
	es, err := d.AuditLog(ctx, audit.Query{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var created bool
	for _, e := range es {
		if strings.Contains(e.Reason+e.Resource, secret) {
			t.Fatalf("the client secret is in an audit entry: %+v", e)
		}
		created = created || e.Action == "sso.provider.create" && e.Outcome == rempart.OutcomeSuccess
	}
	if !created {
		t.Fatal("the creation is not audited")
	}
	if err := c.DeleteSSOProvider(ctx, "", p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SSOProvider(ctx, "", p.ID); rempart.ErrorCode(err) != rempart.ENOTFOUND {
		t.Fatalf("after deletion: %v", err)
	}
}

// TestSAMLProvidersAPI configures a SAML identity provider through the API
// against a real one (IAM-5): the metadata is pasted or fetched from its
// URL and checked, the provider comes back with its protocol, entity ID and
// single sign-on service, an update without metadata keeps it, and a
// protocol other than oidc or saml is refused.
func TestSAMLProvidersAPI(t *testing.T) {
	ctx := context.Background()
	key, cert, err := saml.GenerateKey("api test")
	if err != nil {
		t.Fatal(err)
	}
	sp, err := saml.New("https://rempart.example/sso/saml/metadata", "https://rempart.example/sso/saml/acs", key, cert)
	if err != nil {
		t.Fatal(err)
	}
	spMD, err := sp.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	idp := oidctest.StartSAML(t, string(spMD))
	idpMD, err := idp.SAMLMetadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st := newStackWith(t, identity.Config{SSO: identity.SSOConfig{OIDC: &oidc.Client{}, RedirectURL: "https://rempart.example/sso/callback", SAML: sp, LoopbackHTTP: true}})
	tok, err := st.identity.EnsureBootstrap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.identity.Bootstrap(ctx, rempart.Caller{}, tok)
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(st.srv.URL, client.WithAPIKey(b.Key.Secret))
	in := rempart.SSOProviderInput{Name: "Staff SAML", Protocol: rempart.SSOProtocolSAML, IDPMetadataXML: string(idpMD),
		EmailDomains: []string{"badwolf.org"}, RoleClaim: "groups", RoleMap: map[string]string{"timelords": rempart.RoleSystemAdmin}, Enabled: true}
	for name, edit := range map[string]func(*rempart.SSOProviderInput){
		"another protocol":      func(b *rempart.SSOProviderInput) { b.Protocol = "ws-fed" },
		"an OpenID issuer":      func(b *rempart.SSOProviderInput) { b.Issuer = idp.Issuer },
		"metadata of no IdP":    func(b *rempart.SSOProviderInput) { b.IDPMetadataXML = string(spMD) },
		"a metadata URL of ftp": func(b *rempart.SSOProviderInput) { b.IDPMetadataXML, b.IDPMetadataURL = "", "ftp://idp.example/md" },
	} {
		bad := in
		edit(&bad)
		if _, err := c.CreateSSOProvider(ctx, "", bad); rempart.ErrorCode(err) != rempart.EINVALID {
			t.Fatalf("%s: got %v, want invalid", name, err)
		}
	}
	p, err := c.CreateSSOProvider(ctx, "", in)
	if err != nil {
		t.Fatal(err)
	}
	if p.Protocol != rempart.SSOProtocolSAML || p.Issuer != idp.SAMLMetadataURL() || p.IDPSSOURL != idp.Issuer+"/saml/singleSignOn" || p.ClientSecretSet || p.ClientID != "" {
		t.Fatalf("created: %+v", p)
	}
	in.IDPMetadataXML, in.Name = "", "Renamed"
	if p2, err := c.UpdateSSOProvider(ctx, "", p.ID, in); err != nil || p2.Name != "Renamed" || p2.Issuer != p.Issuer || p2.IDPSSOURL != p.IDPSSOURL {
		t.Fatalf("update keeping the metadata: %+v, %v", p2, err)
	}
	in.IDPMetadataURL = idp.SAMLMetadataURL()
	if p3, err := c.UpdateSSOProvider(ctx, "", p.ID, in); err != nil || p3.IDPMetadataURL != idp.SAMLMetadataURL() || p3.Issuer != p.Issuer {
		t.Fatalf("update from the metadata URL: %+v, %v", p3, err)
	}
	// A provider's protocol does not change.
	oidcIn := rempart.SSOProviderInput{Name: "x", Issuer: idp.Issuer, ClientID: "c", ClientSecret: "s", EmailDomains: []string{"badwolf.org"}, DefaultRole: rempart.RoleAuditor}
	if _, err := c.UpdateSSOProvider(ctx, "", p.ID, oidcIn); rempart.ErrorCode(err) != rempart.EINVALID {
		t.Fatalf("changing the protocol: %v", err)
	}
	if got, err := c.SSOProvider(ctx, "", p.ID); err != nil || got.Protocol != rempart.SSOProtocolSAML || got.IDPMetadataURL != idp.SAMLMetadataURL() {
		t.Fatalf("read: %+v, %v", got, err)
	}
}
