package rempart

import "time"

// Single sign-on (IAM-5): OpenID Connect providers that a tenant's admins
// (or the staff admins, for staff) configure, through which their people
// sign in to the console.

// SSOProvider is an OpenID provider of a tenant, or of the staff when
// TenantID is empty. Its client secret is stored encrypted and never
// returned: ClientSecretSet says whether one is held.
type SSOProvider struct {
	ID              string `json:"id"`
	TenantID        string `json:"tenant_id,omitempty"`
	Name            string `json:"name"`
	Issuer          string `json:"issuer"`
	ClientID        string `json:"client_id"`
	ClientSecretSet bool   `json:"client_secret_set"`
	// EmailDomains are the domains whose people sign in through this
	// provider; an ID token's email must be in one of them. A domain belongs
	// to one provider of the deployment.
	EmailDomains []string `json:"email_domains"`
	// JITProvisioning creates an account on a first sign-in by someone
	// who has none.
	JITProvisioning bool `json:"jit_provisioning"`
	// RoleClaim names the ID token claim (a string or a list of strings,
	// such as "groups") whose values RoleMap maps to roles; the first value
	// in RoleMap wins, in the claim's order. DefaultRole applies when none
	// maps; without one, such a sign-in is refused.
	RoleClaim   string            `json:"role_claim,omitempty"`
	RoleMap     map[string]string `json:"role_map,omitempty"`
	DefaultRole string            `json:"default_role,omitempty"`
	Enabled     bool              `json:"enabled"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
}

// SSOProviderInput is the body of POST and PUT …/sso/providers. On PUT an
// empty ClientSecret keeps the stored one.
type SSOProviderInput struct {
	Name            string            `json:"name"`
	Issuer          string            `json:"issuer"`
	ClientID        string            `json:"client_id"`
	ClientSecret    string            `json:"client_secret,omitempty"`
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
