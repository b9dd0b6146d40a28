package oidctest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"html"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// InstallSAML is the command that installs the provider with its SAML 2.0
// identity provider (LemonLDAP::NG's SAML issuer needs Lasso's Perl binding and XML::Simple).
const InstallSAML = Install + " liblasso-perl libxml-simple-perl"

var lassoOnce = sync.OnceValue(func() bool {
	return exec.Command("perl", "-MLasso", "-e", "1").Run() == nil
})

// SAMLAvailable reports whether the SAML identity provider can be run here.
func SAMLAvailable() bool { return Available() && lassoOnce() }

// StartSAML runs a provider whose SAML 2.0 issuer (identity provider) is on,
// for the service providers whose metadata documents are given, and stops it
// when the test ends. Each service provider receives the NameID in the email
// format (the user's mail) and the attributes mail and groups (one value per
// group), in signed responses with signed assertions; it must sign its
// authentication requests, and unsolicited (IdP-initiated) responses are off.
// The identity provider's metadata is at p.SAMLMetadataURL(). Without the
// provider or Lasso the test is skipped, or fails under CI.
func StartSAML(t testing.TB, spMetadata ...string) *Provider {
	t.Helper()
	if !SAMLAvailable() {
		if os.Getenv("CI") != "" {
			t.Fatalf("the SAML identity provider (LemonLDAP::NG portal, plackup, Lasso) is required under CI; install it with: %s", InstallSAML)
		}
		t.Skipf("no SAML identity provider (LemonLDAP::NG portal, plackup, Lasso); install it with: %s", InstallSAML)
	}
	if len(spMetadata) == 0 {
		t.Fatal("StartSAML needs at least one service provider")
	}
	return start(t, nil, spMetadata)
}

// SAMLMetadataURL is where the identity provider publishes its metadata.
func (p *Provider) SAMLMetadataURL() string { return p.Issuer + "/saml/metadata" }

// SAMLMetadata fetches the identity provider's metadata document.
func (p *Provider) SAMLMetadata(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.SAMLMetadataURL(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(b, []byte("IDPSSODescriptor")) {
		return nil, fmt.Errorf("identity provider metadata: %s %.300s", resp.Status, b)
	}
	return b, nil
}

// samlConfig turns the SAML issuer on in conf for the service providers.
func samlConfig(conf map[string]any, sps []string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "oidctest SAML identity provider"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	xmls, attrs, options := map[string]any{}, map[string]any{}, map[string]any{}
	const basic = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
	for i, md := range sps {
		name := fmt.Sprintf("sp%d", i+1)
		xmls[name] = map[string]any{"samlSPMetaDataXML": md}
		attrs[name] = map[string]any{"mail": "1;mail;" + basic, "groups": "0;groups;" + basic}
		options[name] = map[string]any{
			"samlSPMetaDataOptionsNameIDFormat":             "email",
			"samlSPMetaDataOptionsSignSSOMessage":           1,
			"samlSPMetaDataOptionsCheckSSOMessageSignature": 1,
			"samlSPMetaDataOptionsEnableIDPInitiatedURL":    0,
			"samlSPMetaDataOptionsEncryptionMode":           "none",
			"samlSPMetaDataOptionsSignatureMethod":          "RSA_SHA256",
			"samlSPMetaDataOptionsNotOnOrAfterTimeout":      300,
			"samlSPMetaDataOptionsForceUTF8":                1,
		}
	}
	conf["issuerDBSAMLActivation"] = 1
	conf["issuerDBSAMLPath"] = "^/saml/"
	conf["samlServicePrivateKeySig"] = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	conf["samlServicePublicKeySig"] = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	conf["samlServiceUseCertificateInResponse"] = 1
	conf["samlServiceSignatureMethod"] = "RSA_SHA256"
	conf["samlSPMetaDataXML"] = xmls
	conf["samlSPMetaDataExportedAttributes"] = attrs
	conf["samlSPMetaDataOptions"] = options
	conf["samlSPMetaDataMacros"] = map[string]any{}
	conf["samlStorage"] = ""
	// With its SAML issuer on, LemonLDAP::NG makes its cookies
	// SameSite=None, which a browser refuses on plain http: Lax suffices,
	// the service provider's requests being top-level redirects.
	conf["sameSite"] = "Lax"
	return nil
}

var (
	samlInputRE = regexp.MustCompile(`(?is)<input[^>]*name="(SAMLResponse|RelayState)"[^>]*>`)
	valueRE     = regexp.MustCompile(`(?is)value="([^"]*)"`)
)

// LogInSAML follows authURL (the service provider's authentication request,
// HTTP-Redirect binding) with client, signs in at the provider's login form
// as user with password, and returns what the provider then has the browser
// post to the service provider (HTTP-POST binding): the form's action (the
// assertion consumer service) and its SAMLResponse and RelayState, which it
// does not post. client needs a cookie jar.
func (p *Provider) LogInSAML(ctx context.Context, client *http.Client, authURL, user, password string) (*url.URL, url.Values, error) {
	return p.LogInSAMLPost(ctx, client, authURL, nil, user, password)
}

// LogInSAMLPost is LogInSAML for a request by the HTTP-POST binding: it
// posts request (SAMLRequest) to ssoURL first.
func (p *Provider) LogInSAMLPost(ctx context.Context, client *http.Client, ssoURL string, request url.Values, user, password string) (*url.URL, url.Values, error) {
	_, page, err := p.logIn(ctx, client, ssoURL, request, user, password)
	if err != nil {
		return nil, nil, err
	}
	if page == nil {
		return nil, nil, errors.New("provider redirected instead of posting a SAML response")
	}
	f := formRE.Find(page.body)
	if f == nil {
		return nil, nil, fmt.Errorf("provider answered without a form: %.400s", page.body)
	}
	form := url.Values{}
	for _, m := range samlInputRE.FindAllSubmatch(f, -1) {
		if v := valueRE.FindSubmatch(m[0]); v != nil {
			form.Set(string(m[1]), html.UnescapeString(string(v[1])))
		}
	}
	if form.Get("SAMLResponse") == "" {
		return nil, nil, fmt.Errorf("provider answered without a SAML response: %.400s", page.body)
	}
	a := actionRE.FindSubmatch(f)
	if a == nil {
		return nil, nil, errors.New("SAML response form without an action")
	}
	acs, err := page.url.Parse(strings.TrimSpace(html.UnescapeString(string(a[1]))))
	if err != nil {
		return nil, nil, err
	}
	return acs, form, nil
}

// Logs is what the provider has logged so far, to explain a failure.
func (p *Provider) Logs() string { return p.logs.String() }
