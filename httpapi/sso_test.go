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
