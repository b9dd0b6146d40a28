package oidctest_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/xml"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/rempart/rempart/internal/oidctest"
)

// The harness runs a SAML identity provider that answers a signed
// authentication request (HTTP-Redirect binding) with a signed response
// (HTTP-POST binding) that crewjam/saml's service provider accepts, carrying
// the user's email as NameID and the mail and groups attributes.
func TestSAMLIdentityProvider(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sp"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	acs, _ := url.Parse("http://127.0.0.1:9/sso/saml/acs")
	md, _ := url.Parse("http://127.0.0.1:9/sso/saml/metadata")
	sp := &saml.ServiceProvider{EntityID: md.String(), Key: key, Certificate: cert, AcsURL: *acs, MetadataURL: *md,
		AuthnNameIDFormat: saml.EmailAddressNameIDFormat, SignatureMethod: dsig.RSASHA256SignatureMethod}
	spXML, err := xml.Marshal(sp.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	p := oidctest.StartSAML(t, string(spXML))
	ctx := context.Background()
	idpXML, err := p.SAMLMetadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sp.IDPMetadata = new(saml.EntityDescriptor)
	if err := xml.Unmarshal(idpXML, sp.IDPMetadata); err != nil {
		t.Fatal(err)
	}
	req, err := sp.MakeAuthenticationRequest(sp.GetSSOBindingLocation(saml.HTTPRedirectBinding), saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		t.Fatal(err)
	}
	redirect, err := req.Redirect("r3lay", sp)
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	to, form, err := p.LogInSAML(ctx, &http.Client{Jar: jar}, redirect.String(), "dwho", "dwho")
	if err != nil {
		t.Fatal(err)
	}
	if to.String() != acs.String() || form.Get("RelayState") != "r3lay" {
		t.Fatalf("posted to %s with relay state %q", to, form.Get("RelayState"))
	}
	raw, err := base64.StdEncoding.DecodeString(form.Get("SAMLResponse"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := sp.ParseXMLResponse(raw, []string{req.ID}, *acs)
	if err != nil {
		if ire, ok := err.(*saml.InvalidResponseError); ok {
			t.Fatal(ire.PrivateErr)
		}
		t.Fatal(err)
	}
	var groups []string
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			if at.Name == "groups" {
				for _, v := range at.Values {
					groups = append(groups, v.Value)
				}
			}
		}
	}
	if a.Subject.NameID.Value != "dwho@badwolf.org" || !slices.Contains(groups, "timelords") {
		t.Fatalf("name ID %+v groups %q", a.Subject.NameID, groups)
	}
	// Another request ID (a response not asked for) is refused.
	if _, err := sp.ParseXMLResponse(raw, []string{"id-other"}, *acs); err == nil {
		t.Fatal("response accepted for another request")
	}
}
