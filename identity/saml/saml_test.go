package saml_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/rempart/rempart/identity/saml"
)

func newSP(t *testing.T) (*saml.ServiceProvider, []byte) {
	t.Helper()
	key, cert, err := saml.GenerateKey("unit")
	if err != nil {
		t.Fatal(err)
	}
	sp, err := saml.New("https://rempart.example/sso/saml/metadata", "https://rempart.example/sso/saml/acs", key, cert)
	if err != nil {
		t.Fatal(err)
	}
	return sp, cert
}

// idpMetadata is an identity provider's metadata with the given single
// sign-on services and certificate.
func idpMetadata(entityID, sso, cert string) string {
	kd := ""
	if cert != "" {
		kd = `<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>` + cert + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`
	}
	return `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="` + entityID + `">
<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` + kd + sso + `</md:IDPSSODescriptor></md:EntityDescriptor>`
}

const (
	redirectSSO = `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example/sso"/>`
	postSSO     = `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example/sso"/>`
)

// TestParseIdPMetadata: an identity provider's metadata needs an entity ID,
// a single sign-on service with the HTTP-Redirect binding (preferred) or the
// HTTP-POST binding, and a signing certificate (IAM-5).
func TestParseIdPMetadata(t *testing.T) {
	sp, certDER := newSP(t)
	cert := base64.StdEncoding.EncodeToString(certDER)
	idp, err := sp.ParseIdPMetadata([]byte(idpMetadata("https://idp.example/md", redirectSSO+postSSO, cert)))
	if err != nil || idp.EntityID != "https://idp.example/md" || idp.SSOURL != "https://idp.example/sso" {
		t.Fatalf("good metadata: %+v, %v", idp, err)
	}
	idp, err = sp.ParseIdPMetadata([]byte(idpMetadata("https://idp.example/md", strings.Replace(postSSO, "/sso", "/sso-post", 1), cert)))
	if err != nil || idp.SSOURL != "https://idp.example/sso-post" {
		t.Fatalf("metadata with the POST binding only: %+v, %v", idp, err)
	}
	for name, md := range map[string]string{
		"no entity ID":              idpMetadata("", redirectSSO, cert),
		"no single sign-on service": idpMetadata("https://idp.example/md", "", cert),
		"an artifact binding only":  idpMetadata("https://idp.example/md", strings.Replace(redirectSSO, "HTTP-Redirect", "HTTP-Artifact", 1), cert),
		"no certificate":            idpMetadata("https://idp.example/md", redirectSSO, ""),
		"a broken certificate":      idpMetadata("https://idp.example/md", redirectSSO, "bm90IGEgY2VydGlmaWNhdGU="),
		"not XML":                   "{}",
		"empty":                     "",
		"too large":                 strings.Repeat(" ", saml.MaxMetadata+1),
	} {
		if _, err := sp.ParseIdPMetadata([]byte(md)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestServiceProviderMetadata: the service provider's metadata offers its
// signing certificate and no encryption key, the assertion consumer service
// with the HTTP-POST binding only, signed requests, signed assertions.
func TestServiceProviderMetadata(t *testing.T) {
	sp, certDER := newSP(t)
	b, err := sp.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	for _, want := range []string{`entityID="https://rempart.example/sso/saml/metadata"`, `AuthnRequestsSigned="true"`, `WantAssertionsSigned="true"`,
		`use="signing"`, base64.StdEncoding.EncodeToString(certDER), `Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://rempart.example/sso/saml/acs"`} {
		if !strings.Contains(md, want) {
			t.Errorf("metadata lacks %s:\n%s", want, md)
		}
	}
	for _, not := range []string{`use="encryption"`, "HTTP-Artifact", "PRIVATE"} {
		if strings.Contains(md, not) {
			t.Errorf("metadata has %s:\n%s", not, md)
		}
	}
}

// TestVerifyRefusesWithoutRequest: a response is verified only as the
// answer to a request, and only if it is one.
func TestVerifyRefusesWithoutRequest(t *testing.T) {
	sp, certDER := newSP(t)
	md := []byte(idpMetadata("https://idp.example/md", redirectSSO, base64.StdEncoding.EncodeToString(certDER)))
	resp := base64.StdEncoding.EncodeToString([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="r1" Destination="https://rempart.example/sso/saml/acs" Version="2.0"/>`))
	if _, err := sp.Verify(md, resp, ""); err == nil {
		t.Fatal("unsolicited response verified")
	}
	if _, err := sp.Verify(md, resp, "id-1"); err == nil {
		t.Fatal("a response to no request verified")
	}
	if id, err := sp.InResponseTo(resp); err != nil || id != "" {
		t.Fatalf("InResponseTo of an unsolicited response: %q, %v", id, err)
	}
	if _, err := sp.InResponseTo(base64.StdEncoding.EncodeToString([]byte(`<x/>`))); err == nil {
		t.Fatal("not a response: accepted")
	}
}
