package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/identity"
	"github.com/rempart/rempart/identity/oidc"
	"github.com/rempart/rempart/identity/saml"
	"github.com/rempart/rempart/keys"
)

// ssoConfig is single sign-on's configuration (IAM-5): on when public-url
// is set. Client secrets are sealed under the root key.
func (m *Main) ssoConfig() (identity.SSOConfig, error) {
	if *m.publicURL == "" {
		return identity.SSOConfig{}, nil
	}
	u, err := url.Parse(*m.publicURL)
	if err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return identity.SSOConfig{}, fmt.Errorf("public-url must be an https URL without path, such as https://rempart.example.com")
	}
	m.ssoCallback = "https://" + u.Host + "/sso/callback"
	m.samlMetadata, m.samlACS = "https://"+u.Host+"/sso/saml/metadata", "https://"+u.Host+"/sso/saml/acs"
	allowed, err := parsePrefixes("sso-allowed-networks", *m.ssoAllowedNetworks)
	if err != nil {
		return identity.SSOConfig{}, err
	}
	m.ssoHTTP = egressClient(allowed)
	sealer, err := keys.NewSealer(m.Deployment.SecretsKey)
	if err != nil {
		return identity.SSOConfig{}, err
	}
	return identity.SSOConfig{OIDC: &oidc.Client{HTTP: m.ssoHTTP}, Secrets: sealer, RedirectURL: m.ssoCallback}, nil
}

// samlKeyMeta is where the deployment's SAML service provider key is kept:
// the private key sealed like client secrets, the certificate in clear.
const samlKeyMeta = "saml_sp_key"

type samlKey struct {
	SealedKey []byte `json:"sealed_key"`
	Cert      []byte `json:"cert"`
}

// samlAD binds the sealed SAML signing key to its purpose.
var samlAD = []byte("rempart saml service provider key v1")

// samlServiceProvider is the deployment's SAML 2.0 service provider
// (IAM-5), its entity ID the metadata URL under public-url. Its signing key
// is made once per deployment and kept sealed under the secrets key (which
// the root key wraps, so a root rotation re-wraps it); it is never returned.
func (m *Main) samlServiceProvider(ctx context.Context, sealer identity.SecretSealer) (*saml.ServiceProvider, error) {
	var k samlKey
	stored, err := m.DB.Meta(ctx, samlKeyMeta)
	switch {
	case rempart.ErrorCode(err) == rempart.ENOTFOUND:
		der, cert, err := saml.GenerateKey("rempart SAML service provider " + m.samlMetadata)
		if err != nil {
			return nil, err
		}
		if k.SealedKey, err = sealer.Seal(ctx, der, samlAD); err != nil {
			return nil, err
		}
		k.Cert = cert
		b, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		e := rempart.AuditEntry{Action: "key.saml_sp.create", Outcome: rempart.OutcomeSuccess, Resource: "keys/saml-sp"}
		if err := m.DB.PutMeta(ctx, e, samlKeyMeta, b); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	default:
		if err := json.Unmarshal(stored, &k); err != nil {
			return nil, fmt.Errorf("%s: %w", samlKeyMeta, err)
		}
	}
	der, err := sealer.Open(ctx, k.SealedKey, samlAD)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", samlKeyMeta, err)
	}
	sp, err := saml.New(m.samlMetadata, m.samlACS, der, k.Cert)
	if err != nil {
		return nil, err
	}
	sp.HTTP = m.ssoHTTP
	return sp, nil
}
