package main

import (
	"fmt"
	"net/url"

	"github.com/rempart/rempart/identity"
	"github.com/rempart/rempart/identity/oidc"
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
	sealer, err := keys.NewSealer(m.Deployment.SecretsKey)
	if err != nil {
		return identity.SSOConfig{}, err
	}
	return identity.SSOConfig{OIDC: &oidc.Client{}, Secrets: sealer, RedirectURL: m.ssoCallback}, nil
}
