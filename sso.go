package rempart

import "time"

// Single sign-on (IAM-5): OpenID Connect providers and SAML 2.0 identity
// providers that a tenant's admins (or the staff admins, for staff)
// configure, through which their people sign in to the console.

// Protocols of a single sign-on provider.
const (
	SSOProtocolOIDC = "oidc"
	SSOProtocolSAML = "saml"
)

// SSOProvider is an OpenID provider or a SAML identity provider of a
// tenant, or of the staff when TenantID is empty. An OpenID client secret is
// stored encrypted and never returned: ClientSecretSet says whether one is
// held.
type SSOProvider struct {
	ID       string `json:"id"`
	TenantID string `json:"tenant_id,omitempty"`
	Name     string `json:"name"`
	// Protocol is SSOProtocolOIDC or SSOProtocolSAML.
	Protocol string `json:"protocol"`
	// Issuer is the OpenID issuer URL, or the SAML identity provider's
	// entity ID (taken from its metadata).
	Issuer          string `json:"issuer"`
	ClientID        string `json:"client_id,omitempty"`
	ClientSecretSet bool   `json:"client_secret_set"`
	// IDPMetadataURL is where a SAML identity provider's metadata was
	// fetched from when the provider was saved ("" when pasted);
	// IDPSSOURL is its single sign-on service that the browser is sent to
	// (HTTP-Redirect binding, else HTTP-POST).
	IDPMetadataURL string `json:"idp_metadata_url,omitempty"`
	IDPSSOURL      string `json:"idp_sso_url,omitempty"`
	// EmailAttribute names the SAML attribute holding the email; empty,
	// the NameID (in the emailAddress format) is the email.
	EmailAttribute string `json:"email_attribute,omitempty"`
	// EmailDomains are the domains whose people sign in through this
	// provider; an ID token's email must be in one of them. A domain belongs
	// to one provider of the deployment.
	EmailDomains []string `json:"email_domains"`
	// JITProvisioning creates an account on a first sign-in by someone
	// who has none.
	JITProvisioning bool `json:"jit_provisioning"`
	// RoleClaim names the ID token claim (a string or a list of strings,
	// such as "groups"), or the SAML attribute, whose values RoleMap maps
	// to roles; the first value in RoleMap wins, in the claim's order. DefaultRole applies when none
	// maps; without one, such a sign-in is refused.
	RoleClaim   string            `json:"role_claim,omitempty"`
	RoleMap     map[string]string `json:"role_map,omitempty"`
	DefaultRole string            `json:"default_role,omitempty"`
	Enabled     bool              `json:"enabled"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
}

// SSOProviderInput is the body of POST and PUT …/sso/providers. On PUT an
// empty ClientSecret keeps the stored one. A SAML provider (Protocol
// "saml") gives its identity provider's metadata, pasted (IDPMetadataXML)
// or fetched once from an https URL (IDPMetadataURL), instead of an issuer
// and a client; on PUT, neither keeps the stored metadata.
type SSOProviderInput struct {
	Name            string            `json:"name"`
	Protocol        string            `json:"protocol,omitempty"`
	Issuer          string            `json:"issuer,omitempty"`
	ClientID        string            `json:"client_id,omitempty"`
	ClientSecret    string            `json:"client_secret,omitempty"`
	IDPMetadataXML  string            `json:"idp_metadata_xml,omitempty"`
	IDPMetadataURL  string            `json:"idp_metadata_url,omitempty"`
	EmailAttribute  string            `json:"email_attribute,omitempty"`
	EmailDomains    []string          `json:"email_domains"`
	JITProvisioning bool              `json:"jit_provisioning,omitempty"`
	RoleClaim       string            `json:"role_claim,omitempty"`
	RoleMap         map[string]string `json:"role_map,omitempty"`
	DefaultRole     string            `json:"default_role,omitempty"`
	Enabled         bool              `json:"enabled,omitempty"`
}

// SSOProviderList is a tenant's (or the staff's) providers.
type SSOProviderList struct {
	Providers []SSOProvider `json:"providers"`
}
