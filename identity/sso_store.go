package identity

import (
	"context"
	"time"

	"github.com/rempart/rempart"
)

// SSOProviderRow is a single sign-on provider as stored: its client secret
// only sealed under the deployment's root key (see SecretSealer), and a
// SAML identity provider's metadata document.
type SSOProviderRow struct {
	rempart.SSOProvider
	SealedSecret []byte
	IDPMetadata  []byte
}

// SSOLoginRow is a sign-in in progress (IAM-5): the hash of the state sent to
// the provider, the hash of the browser's binding secret (held in an
// HttpOnly cookie; the PKCE verifier and the nonce derive from it, so no
// secret of the flow is stored), the local path to return to, and whether
// the callback has used it.
type SSOLoginRow struct {
	StateHash   []byte
	BindingHash []byte
	ProviderID  string
	ReturnTo    string
	CreatedAt   time.Time
	ExpiresAt   time.Time
	UsedAt      *time.Time
}

// SSOLink ties an identity at a provider, (issuer, subject), to a user.
type SSOLink struct {
	Issuer, Subject string
	UserID          string
	ProviderID      string
	CreatedAt       time.Time
}

// SSOStore is what single sign-on needs from storage. Methods that take a
// tenant ID ("" for staff) are called only after the service authorised the
// caller for that tenant.
type SSOStore interface {
	// CreateSSOProvider stores a provider and claims its email domains;
	// ECONFLICT when another provider holds one of them.
	CreateSSOProvider(ctx context.Context, e rempart.AuditEntry, p SSOProviderRow) error
	// UpdateSSOProvider replaces a provider of a tenant ("" staff) and its
	// domains; ENOTFOUND when there is no such provider, ECONFLICT as above.
	UpdateSSOProvider(ctx context.Context, e rempart.AuditEntry, p SSOProviderRow) error
	// DeleteSSOProvider removes a provider of a tenant ("" staff) with its
	// domains and links; ENOTFOUND when there is none.
	DeleteSSOProvider(ctx context.Context, e rempart.AuditEntry, tenant, id string) error
	// SSOProvider returns a provider by ID, or ENOTFOUND.
	SSOProvider(ctx context.Context, id string) (SSOProviderRow, error)
	// SSOProviders lists a tenant's ("" staff's) providers, oldest first.
	SSOProviders(ctx context.Context, tenant string) ([]SSOProviderRow, error)
	// SSOProviderByDomain returns the provider that claims an email
	// domain, or ENOTFOUND.
	SSOProviderByDomain(ctx context.Context, domain string) (SSOProviderRow, error)

	// CreateSSOLogin stores a sign-in in progress, and forgets those that
	// expired before now.
	CreateSSOLogin(ctx context.Context, l SSOLoginRow, now time.Time) error
	// SSOLogin returns a sign-in in progress by the hash of its state, or
	// ENOTFOUND.
	SSOLogin(ctx context.Context, stateHash []byte) (SSOLoginRow, error)
	// UseSSOLogin marks a sign-in used at now; EUNAUTHORIZED when it was
	// used already or has expired, so that a callback works once.
	UseSSOLogin(ctx context.Context, stateHash []byte, now time.Time) error

	// UserBySSO returns the user linked to (issuer, subject), or ENOTFOUND.
	UserBySSO(ctx context.Context, issuer, subject string) (UserRow, error)
	// LinkSSO links an existing user to (issuer, subject); ECONFLICT when
	// that identity is linked already.
	LinkSSO(ctx context.Context, e rempart.AuditEntry, l SSOLink) error
	// ProvisionSSOUser creates a user without a password, linked to
	// (issuer, subject), in one transaction; ECONFLICT when the email is
	// taken or the identity linked.
	ProvisionSSOUser(ctx context.Context, e rempart.AuditEntry, u UserRow, l SSOLink) error
}

// SecretSealer seals secrets of the deployment that must be used again in
// clear, such as a provider's client secret, under the key hierarchy's root
// key (ENC-3); ad binds a sealed secret to what it belongs to.
type SecretSealer interface {
	Seal(ctx context.Context, secret, ad []byte) ([]byte, error)
	Open(ctx context.Context, sealed, ad []byte) ([]byte, error)
}

// OIDCClient is what a relying party presents to an OpenID provider.
type OIDCClient struct {
	Issuer, ClientID, ClientSecret string
	RedirectURL                    string
}

// OIDCIdentity is what a verified ID token says about who signed in.
type OIDCIdentity struct {
	Issuer, Subject string
	Nonce           string
	Email           string
	// EmailVerified is nil when the provider does not say.
	EmailVerified *bool
	Name          string
	// Claims are all the token's claims, for role mapping.
	Claims map[string]any
}

// OIDC speaks OpenID Connect to providers (package identity/oidc).
type OIDC interface {
	// Check fetches an issuer's discovery document and checks that it
	// names the issuer and offers the authorisation code flow with S256.
	Check(ctx context.Context, issuer string) error
	// AuthCodeURL is the authorisation request to send the browser to,
	// with state, nonce and the S256 challenge of verifier.
	AuthCodeURL(ctx context.Context, c OIDCClient, state, nonce, verifier string) (string, error)
	// Exchange redeems code with verifier and returns the ID token's
	// identity once its signature (by the issuer's discovery JWKS), issuer,
	// audience and expiry are verified. The caller checks the nonce.
	Exchange(ctx context.Context, c OIDCClient, code, verifier string) (OIDCIdentity, error)
}

// SAMLIdentity is what a verified SAML response says about who signed in.
type SAMLIdentity struct {
	// Issuer is the identity provider's entity ID; NameID and its format
	// name the person there.
	Issuer, NameID, NameIDFormat string
	// Attributes are the assertion's attributes by name, for the email and
	// role mapping.
	Attributes map[string][]string
}

// SAMLIdP is a SAML identity provider as its metadata describes it.
type SAMLIdP struct {
	EntityID string
	// SSOURL is its single sign-on service: with the HTTP-Redirect binding
	// when it offers one, else with the HTTP-POST binding.
	SSOURL string
}

// SAMLRequest is an authentication request on its way: the browser goes to
// URL (HTTP-Redirect binding), or posts Form to it (HTTP-POST binding)
// when Form is not nil.
type SAMLRequest struct {
	URL  string
	Form map[string]string
}

// SAML speaks SAML 2.0 as the deployment's service provider (package
// identity/saml): one entity ID, signing key and assertion consumer service.
type SAML interface {
	// ParseIdPMetadata checks an identity provider's metadata: an entity
	// ID, a single sign-on service with the HTTP-Redirect or HTTP-POST
	// binding, and a signing certificate.
	ParseIdPMetadata(metadata []byte) (SAMLIdP, error)
	// FetchIdPMetadata fetches a metadata document from an https URL (http
	// on loopback only when loopbackHTTP).
	FetchIdPMetadata(ctx context.Context, url string, loopbackHTTP bool) ([]byte, error)
	// AuthnRequest is the signed authentication request with ID requestID
	// (HTTP-Redirect binding when the identity provider offers it, else
	// HTTP-POST), asking for the answer at the assertion consumer service
	// (HTTP-POST binding).
	AuthnRequest(metadata []byte, requestID string) (SAMLRequest, error)
	// InResponseTo reads, without verifying anything, the request a
	// posted SAMLResponse answers ("" for an unsolicited one), so that the
	// sign-in it belongs to can be found.
	InResponseTo(samlResponse string) (string, error)
	// Verify checks a posted SAMLResponse against the identity provider
	// whose metadata is given, as the answer to requestID: signature by
	// the provider's certificate (of the response or of the assertion),
	// issuer, destination and recipient (the assertion consumer service),
	// audience (this service provider), validity times, InResponseTo.
	Verify(metadata []byte, samlResponse, requestID string) (SAMLIdentity, error)
}
