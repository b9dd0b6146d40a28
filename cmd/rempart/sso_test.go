package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/audit"
	"github.com/rempart/rempart/db"
	"github.com/rempart/rempart/identity/saml"
)

// TestSSOConfig: single sign-on is off without public-url, on with an https
// origin (its callback under it), and refused with anything else (IAM-5).
func TestSSOConfig(t *testing.T) {
	for in, want := range map[string]string{
		"":                                 "",
		"https://rempart.example.com":      "https://rempart.example.com/sso/callback",
		"https://rempart.example.com/":     "https://rempart.example.com/sso/callback",
		"https://rempart.example.com:8443": "https://rempart.example.com:8443/sso/callback",
		"http://rempart.example.com":       "error",
		"https://rempart.example.com/x":    "error",
		"https://rempart.example.com?a=b":  "error",
		"rempart.example.com":              "error",
	} {
		none := ""
		m := &Main{publicURL: &in, ssoAllowedNetworks: &none, Deployment: &deployment{SecretsKey: bytes.Repeat([]byte{9}, 32)}}
		cfg, err := m.ssoConfig()
		switch {
		case want == "error" && err == nil:
			t.Errorf("%q: accepted", in)
		case want != "error" && (err != nil || cfg.RedirectURL != want || (want != "") != (cfg.OIDC != nil && cfg.Secrets != nil)):
			t.Errorf("%q: got %+v, %v; want callback %q", in, cfg.RedirectURL, err, want)
		}
	}
}

// TestSAMLServiceProviderKey: the SAML service provider's signing key is
// made once per deployment, audited, kept sealed under the secrets key (not
// in clear), and the same at the next start; its metadata names the entity
// ID and assertion consumer service under public-url (IAM-5).
func TestSAMLServiceProviderKey(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, db.Config{DSN: "sqlite:" + filepath.Join(t.TempDir(), "r.db"), Clock: rempart.SystemClock{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	public := "https://rempart.example.com"
	start := func() (*saml.ServiceProvider, []byte) {
		t.Helper()
		none := ""
		m := &Main{publicURL: &public, ssoAllowedNetworks: &none, Deployment: &deployment{SecretsKey: bytes.Repeat([]byte{9}, 32)}, DB: d}
		cfg, err := m.ssoConfig()
		if err != nil {
			t.Fatal(err)
		}
		sp, err := m.samlServiceProvider(ctx, cfg.Secrets)
		if err != nil {
			t.Fatal(err)
		}
		md, err := sp.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		return sp, md
	}
	sp, md := start()
	if sp.EntityID() != public+"/sso/saml/metadata" || sp.ACSURL() != public+"/sso/saml/acs" || !strings.Contains(string(md), `Location="`+public+`/sso/saml/acs"`) {
		t.Fatalf("service provider %s %s\n%s", sp.EntityID(), sp.ACSURL(), md)
	}
	stored, err := d.Meta(ctx, "saml_sp_key")
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		SealedKey []byte `json:"sealed_key"`
		Cert      []byte `json:"cert"`
	}
	if err := json.Unmarshal(stored, &k); err != nil || len(k.SealedKey) == 0 {
		t.Fatalf("stored key %s: %v", stored, err)
	}
	cert, err := x509.ParseCertificate(k.Cert)
	if err != nil {
		t.Fatal(err)
	}
	// The private key is not stored in clear: its public key's modulus is
	// in the certificate, and the sealed bytes parse as no key.
	if _, err := x509.ParsePKCS8PrivateKey(k.SealedKey); err == nil {
		t.Fatal("the SAML key is stored in clear")
	}
	if bytes.Contains(md, []byte("PRIVATE")) || !bytes.Contains(md, []byte(base64.StdEncoding.EncodeToString(cert.Raw)[:64])) {
		t.Fatalf("metadata does not carry the stored certificate, or carries a key:\n%s", md)
	}
	es, err := d.AuditLog(ctx, audit.Query{Action: "key.saml_sp.create", Limit: 10})
	if err != nil || len(es) != 1 {
		t.Fatalf("key creation audited %d times: %v", len(es), err)
	}
	// The next start uses the same key.
	_, md2 := start()
	if !bytes.Equal(stripValidUntil(md), stripValidUntil(md2)) {
		t.Fatalf("another key at the next start:\n%s\n%s", md, md2)
	}
	if es, _ := d.AuditLog(ctx, audit.Query{Action: "key.saml_sp.create", Limit: 10}); len(es) != 1 {
		t.Fatalf("key made again: %d creations", len(es))
	}
}

var validUntil = regexp.MustCompile(`validUntil="[^"]*"`)

func stripValidUntil(b []byte) []byte { return validUntil.ReplaceAll(b, nil) }

// TestServeSAMLMetadata: a server with public-url serves its SAML service
// provider's metadata on the console, publicly, with the entity ID and the
// assertion consumer service under public-url and no private key (IAM-5).
func TestServeSAMLMetadata(t *testing.T) {
	m, _ := startMain(t, filepath.Join(t.TempDir(), "data"), "--public-url", "https://rempart.example.com")
	a := newAPI(t, "https://"+m.Server.Addr("https"), "")
	resp, err := a.hc.Get(a.url + "/sso/saml/metadata")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	md := string(b)
	if resp.StatusCode != http.StatusOK || !strings.Contains(md, `entityID="https://rempart.example.com/sso/saml/metadata"`) ||
		!strings.Contains(md, `Location="https://rempart.example.com/sso/saml/acs"`) || strings.Contains(md, "PRIVATE") {
		t.Fatalf("metadata: %s\n%s", resp.Status, md)
	}
}
