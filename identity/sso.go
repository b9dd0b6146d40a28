package identity

import (
	"context"
	"maps"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rempart/rempart"
)

// SSOConfig is what single sign-on needs from the deployment (IAM-5).
type SSOConfig struct {
	// OIDC speaks to providers; Secrets seals their client secrets;
	// RedirectURL is the console's callback (https://…/sso/callback).
	OIDC        OIDC
	Secrets     SecretSealer
	RedirectURL string
	// SAML is the deployment's SAML 2.0 service provider; nil refuses
	// SAML providers.
	SAML SAML
	// LoginLifetime bounds the time between starting a sign-in and its
	// callback; default 10 minutes.
	LoginLifetime time.Duration
	// LoopbackHTTP accepts http issuers on loopback addresses, for tests
	// with a provider on the same host; production issuers are https.
	LoopbackHTTP bool
}

func (c SSOConfig) ready() bool { return c.OIDC != nil && c.Secrets != nil && c.RedirectURL != "" }

var errSSOOff = rempart.Errorf(rempart.EINVALID, "Single sign-on is not configured on this deployment.")

// Limits on a provider's configuration.
const (
	maxSSODomains  = 50
	maxSSORoleMap  = 100
	maxSSOProvider = 2048 // bytes of issuer, client ID or client secret
	// maxSAMLMetadata bounds an identity provider's metadata document.
	maxSAMLMetadata = 256 << 10
)

var (
	domainRE    = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
	claimNameRE = regexp.MustCompile(`^[A-Za-z0-9_:./-]{1,100}$`)
	// samlAttrRE also admits the URIs that name SAML attributes, such as
	// http://schemas.xmlsoap.org/claims/Group or urn:oid:1.3.6.1.4.1.5923.1.5.1.1.
	samlAttrRE = regexp.MustCompile(`^[A-Za-z0-9_:./#?=-]{1,255}$`)
)

// ssoAD binds a provider's sealed client secret to the provider.
func ssoAD(id string) []byte { return []byte("rempart sso client secret v1\x00" + id) }

// validIssuer accepts an https URL (http on loopback only when loopbackHTTP)
// without query or fragment.
func validIssuer(s string, loopbackHTTP bool) (string, error) {
	u, err := url.Parse(s)
	bad := err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || len(s) > maxSSOProvider
	if !bad && u.Scheme != "https" {
		bad = !loopbackHTTP || u.Scheme != "http" || !IsLoopback(u.Hostname())
	}
	if bad {
		return "", rempart.Errorf(rempart.EINVALID, "issuer must be an https URL without query or fragment, such as https://login.example.com.")
	}
	return strings.TrimSuffix(s, "/"), nil
}

// IsLoopback reports whether host (a URL's Hostname) names this machine:
// "localhost" or a loopback address. Plain http is allowed only there.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkProviderInput validates a provider's settings at the edge; roles are
// those of the tenant ("" staff).
func checkProviderInput(tenant string, in *rempart.SSOProviderInput, create, loopbackHTTP bool) error {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || utf8.RuneCountInString(in.Name) > 100 || strings.ContainsAny(in.Name, "\r\n\t") {
		return rempart.Errorf(rempart.EINVALID, "name must be 1 to 100 characters on one line.")
	}
	switch in.Protocol {
	case "", rempart.SSOProtocolOIDC:
		in.Protocol = rempart.SSOProtocolOIDC
		if in.IDPMetadataXML != "" || in.IDPMetadataURL != "" || in.EmailAttribute != "" {
			return rempart.Errorf(rempart.EINVALID, "idp_metadata_xml, idp_metadata_url and email_attribute are for SAML providers (protocol saml).")
		}
		iss, err := validIssuer(in.Issuer, loopbackHTTP)
		if err != nil {
			return err
		}
		in.Issuer = iss
		if in.ClientID == "" || len(in.ClientID) > 255 || strings.ContainsAny(in.ClientID, "\r\n\t ") {
			return rempart.Errorf(rempart.EINVALID, "client_id must be 1 to 255 characters without spaces.")
		}
		if len(in.ClientSecret) > maxSSOProvider || (create && in.ClientSecret == "") {
			return rempart.Errorf(rempart.EINVALID, "client_secret is required (at most %d bytes).", maxSSOProvider)
		}
	case rempart.SSOProtocolSAML:
		if in.Issuer != "" || in.ClientID != "" || in.ClientSecret != "" {
			return rempart.Errorf(rempart.EINVALID, "a SAML provider has no issuer, client_id or client_secret: its metadata names it.")
		}
		if in.IDPMetadataXML != "" && in.IDPMetadataURL != "" {
			return rempart.Errorf(rempart.EINVALID, "give idp_metadata_xml or idp_metadata_url, not both.")
		}
		if create && in.IDPMetadataXML == "" && in.IDPMetadataURL == "" {
			return rempart.Errorf(rempart.EINVALID, "a SAML provider needs its identity provider's metadata: idp_metadata_xml or idp_metadata_url.")
		}
		if len(in.IDPMetadataXML) > maxSAMLMetadata {
			return rempart.Errorf(rempart.EINVALID, "idp_metadata_xml is larger than %d bytes.", maxSAMLMetadata)
		}
		if in.EmailAttribute != "" && !samlAttrRE.MatchString(in.EmailAttribute) {
			return rempart.Errorf(rempart.EINVALID, "email_attribute must be an attribute name such as mail (or empty: the NameID is the email).")
		}
	default:
		return rempart.Errorf(rempart.EINVALID, "protocol must be oidc or saml.")
	}
	if len(in.EmailDomains) == 0 || len(in.EmailDomains) > maxSSODomains {
		return rempart.Errorf(rempart.EINVALID, "email_domains must list 1 to %d domains.", maxSSODomains)
	}
	for i, d := range in.EmailDomains {
		d = strings.ToLower(strings.TrimSpace(d))
		if !domainRE.MatchString(d) || len(d) > 253 {
			return rempart.Errorf(rempart.EINVALID, "email_domains: %q is not a domain name such as example.com.", d)
		}
		in.EmailDomains[i] = d
	}
	slices.Sort(in.EmailDomains)
	in.EmailDomains = slices.Compact(in.EmailDomains)
	roles := rempart.TenantRoles
	if tenant == "" {
		roles = rempart.StaffRoles
	}
	if in.RoleClaim != "" && (!claimNameRE.MatchString(in.RoleClaim) && (in.Protocol != rempart.SSOProtocolSAML || !samlAttrRE.MatchString(in.RoleClaim))) {
		return rempart.Errorf(rempart.EINVALID, "role_claim must be a claim (or SAML attribute) name such as groups.")
	}
	if len(in.RoleMap) > maxSSORoleMap || (len(in.RoleMap) > 0 && in.RoleClaim == "") {
		return rempart.Errorf(rempart.EINVALID, "role_map needs a role_claim and holds at most %d values.", maxSSORoleMap)
	}
	for v, r := range in.RoleMap {
		if v == "" || len(v) > 255 || !slices.Contains(roles, r) {
			return rempart.Errorf(rempart.EINVALID, "role_map: each claim value (1 to 255 bytes) must map to one of %s.", strings.Join(roles, ", "))
		}
	}
	if in.DefaultRole != "" && !slices.Contains(roles, in.DefaultRole) {
		return rempart.Errorf(rempart.EINVALID, "default_role must be empty (refuse) or one of %s.", strings.Join(roles, ", "))
	}
	if in.DefaultRole == "" && len(in.RoleMap) == 0 {
		return rempart.Errorf(rempart.EINVALID, "give a role_map, a default_role or both: without either no one could sign in.")
	}
	return nil
}

func ssoPath(tenant, id string) string {
	p := peoplePath(tenant) + "/sso/providers"
	if id != "" {
		p += "/" + id
	}
	return p
}

// CreateSSOProvider configures an OpenID provider for a tenant ("" for
// staff) (IAM-5). The issuer's discovery document is fetched and checked
// first; the client secret is sealed under the root key and never returned.
func (s *Service) CreateSSOProvider(ctx context.Context, c rempart.Caller, tenant string, in rempart.SSOProviderInput) (rempart.SSOProvider, error) {
	id := rempart.NewID("sso")
	e := c.Entry(tenant, "sso.provider.create", ssoPath(tenant, id))
	if err := s.authorizePeopleChange(ctx, c, tenant, e); err != nil {
		return rempart.SSOProvider{}, err
	}
	row, err := s.providerRow(ctx, tenant, id, in, nil, &e)
	if err != nil {
		return rempart.SSOProvider{}, err
	}
	if err := s.store.CreateSSOProvider(ctx, e, row); err != nil {
		if rempart.ErrorCode(err) == rempart.ECONFLICT {
			return rempart.SSOProvider{}, s.reject(ctx, e, err)
		}
		return rempart.SSOProvider{}, err
	}
	return row.SSOProvider, nil
}

// UpdateSSOProvider replaces a provider's settings; an empty client secret
// keeps the stored one.
func (s *Service) UpdateSSOProvider(ctx context.Context, c rempart.Caller, tenant, id string, in rempart.SSOProviderInput) (rempart.SSOProvider, error) {
	e := c.Entry(tenant, "sso.provider.update", ssoPath(tenant, id))
	if err := s.authorizePeopleChange(ctx, c, tenant, e); err != nil {
		return rempart.SSOProvider{}, err
	}
	old, err := s.tenantProvider(ctx, tenant, id, e)
	if err != nil {
		return rempart.SSOProvider{}, err
	}
	row, err := s.providerRow(ctx, tenant, id, in, &old, &e)
	if err != nil {
		return rempart.SSOProvider{}, err
	}
	if err := s.store.UpdateSSOProvider(ctx, e, row); err != nil {
		if rempart.ErrorCode(err) == rempart.ECONFLICT {
			return rempart.SSOProvider{}, s.reject(ctx, e, err)
		}
		return rempart.SSOProvider{}, err
	}
	return row.SSOProvider, nil
}

// providerRow validates in, checks the issuer's discovery (OpenID) or the
// identity provider's metadata (SAML), and seals the secret; old is the
// stored provider on update.
func (s *Service) providerRow(ctx context.Context, tenant, id string, in rempart.SSOProviderInput, old *SSOProviderRow, e *rempart.AuditEntry) (SSOProviderRow, error) {
	if !s.cfg.SSO.ready() {
		return SSOProviderRow{}, s.reject(ctx, *e, errSSOOff)
	}
	if err := checkProviderInput(tenant, &in, old == nil, s.cfg.SSO.LoopbackHTTP); err != nil {
		return SSOProviderRow{}, s.reject(ctx, *e, err)
	}
	if old != nil && old.Protocol != in.Protocol {
		return SSOProviderRow{}, s.reject(ctx, *e, rempart.Errorf(rempart.EINVALID, "A provider's protocol cannot change: add another provider."))
	}
	now := s.clock.Now()
	row := SSOProviderRow{SSOProvider: rempart.SSOProvider{ID: id, TenantID: tenant, Name: in.Name, Protocol: in.Protocol, Issuer: in.Issuer, ClientID: in.ClientID,
		EmailDomains: in.EmailDomains, JITProvisioning: in.JITProvisioning, RoleClaim: in.RoleClaim,
		RoleMap: maps.Clone(in.RoleMap), DefaultRole: in.DefaultRole, Enabled: in.Enabled, CreatedAt: now, UpdatedAt: now}}
	if old != nil {
		row.CreatedAt = old.CreatedAt
	}
	if in.Protocol == rempart.SSOProtocolSAML {
		if err := s.samlProvider(ctx, &row, in, old, e); err != nil {
			return SSOProviderRow{}, err
		}
		e.Reason = "SAML identity provider " + row.Issuer + ", domains " + strings.Join(in.EmailDomains, " ")
		return row, nil
	}
	if err := s.cfg.SSO.OIDC.Check(ctx, in.Issuer); err != nil {
		e.Reason = "discovery failed"
		return SSOProviderRow{}, s.reject(ctx, *e, rempart.Errorf(rempart.EINVALID, "The issuer's discovery document could not be fetched, or does not name this issuer, or lacks the authorization code flow with PKCE (S256)."))
	}
	row.ClientSecretSet = true
	if old != nil {
		row.SealedSecret = old.SealedSecret
	}
	if in.ClientSecret != "" {
		sealed, err := s.cfg.SSO.Secrets.Seal(ctx, []byte(in.ClientSecret), ssoAD(id))
		if err != nil {
			return SSOProviderRow{}, err
		}
		row.SealedSecret = sealed
	}
	e.Reason = "issuer " + in.Issuer + ", domains " + strings.Join(in.EmailDomains, " ")
	return row, nil
}

// samlProvider fills row with the identity provider's metadata: pasted, or
// fetched once from its URL, or on update the stored one; it must name an
// entity ID, a single sign-on service (HTTP-Redirect or HTTP-POST) and a signing
// certificate.
func (s *Service) samlProvider(ctx context.Context, row *SSOProviderRow, in rempart.SSOProviderInput, old *SSOProviderRow, e *rempart.AuditEntry) error {
	if s.cfg.SSO.SAML == nil {
		return s.reject(ctx, *e, rempart.Errorf(rempart.EINVALID, "SAML single sign-on is not configured on this deployment."))
	}
	md := []byte(in.IDPMetadataXML)
	switch {
	case in.IDPMetadataURL != "":
		b, err := s.cfg.SSO.SAML.FetchIdPMetadata(ctx, in.IDPMetadataURL, s.cfg.SSO.LoopbackHTTP)
		if err != nil {
			e.Reason = "metadata fetch failed"
			return s.reject(ctx, *e, rempart.Errorf(rempart.EINVALID, "idp_metadata_url: %s.", err.Error()))
		}
		md, row.IDPMetadataURL = b, in.IDPMetadataURL
	case len(md) == 0 && old != nil:
		md, row.IDPMetadataURL = old.IDPMetadata, old.IDPMetadataURL
	}
	idp, err := s.cfg.SSO.SAML.ParseIdPMetadata(md)
	if err != nil {
		e.Reason = "metadata refused"
		return s.reject(ctx, *e, rempart.Errorf(rempart.EINVALID, "The identity provider's metadata was refused: %s.", err.Error()))
	}
	// The browser is sent to the single sign-on service: https only (http
	// on loopback for tests, as for OpenID issuers).
	if u, err := url.Parse(idp.SSOURL); err != nil || u.User != nil || (u.Scheme != "https" && !(s.cfg.SSO.LoopbackHTTP && u.Scheme == "http" && IsLoopback(u.Hostname()))) {
		e.Reason = "metadata refused"
		return s.reject(ctx, *e, rempart.Errorf(rempart.EINVALID, "The identity provider's single sign-on service must be an https URL."))
	}
	row.Issuer, row.IDPSSOURL, row.IDPMetadata, row.EmailAttribute = idp.EntityID, idp.SSOURL, md, in.EmailAttribute
	row.SealedSecret = []byte{}
	return nil
}

// tenantProvider returns a provider of tenant ("" staff), or a denied
// ENOTFOUND.
func (s *Service) tenantProvider(ctx context.Context, tenant, id string, e rempart.AuditEntry) (SSOProviderRow, error) {
	p, err := s.store.SSOProvider(ctx, id)
	if rempart.ErrorCode(err) == rempart.ENOTFOUND || err == nil && p.TenantID != tenant {
		return SSOProviderRow{}, s.deny(ctx, e, rempart.Errorf(rempart.ENOTFOUND, "Single sign-on provider not found."))
	}
	return p, err
}

// SSOProvider returns one provider of a tenant ("" staff).
func (s *Service) SSOProvider(ctx context.Context, c rempart.Caller, tenant, id string) (rempart.SSOProvider, error) {
	e := c.Entry(tenant, "sso.provider.read", ssoPath(tenant, id))
	if err := s.authorizePeople(ctx, c, tenant, e); err != nil {
		return rempart.SSOProvider{}, err
	}
	p, err := s.tenantProvider(ctx, tenant, id, e)
	if err != nil {
		return rempart.SSOProvider{}, err
	}
	_, err = s.store.Audit(ctx, e)
	return p.SSOProvider, err
}

// SSOProviders lists the providers of a tenant ("" staff).
func (s *Service) SSOProviders(ctx context.Context, c rempart.Caller, tenant string) ([]rempart.SSOProvider, error) {
	e := c.Entry(tenant, "sso.provider.list", ssoPath(tenant, ""))
	if err := s.authorizePeople(ctx, c, tenant, e); err != nil {
		return nil, err
	}
	rows, err := s.store.SSOProviders(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := make([]rempart.SSOProvider, len(rows))
	for i, r := range rows {
		out[i] = r.SSOProvider
	}
	_, err = s.store.Audit(ctx, e)
	return out, err
}

// DeleteSSOProvider removes a provider with its links; its people keep
// their accounts.
func (s *Service) DeleteSSOProvider(ctx context.Context, c rempart.Caller, tenant, id string) error {
	e := c.Entry(tenant, "sso.provider.delete", ssoPath(tenant, id))
	if err := s.authorizePeopleChange(ctx, c, tenant, e); err != nil {
		return err
	}
	if _, err := s.tenantProvider(ctx, tenant, id, e); err != nil {
		return err
	}
	return s.store.DeleteSSOProvider(ctx, e, tenant, id)
}

const defaultSSOLogin = 10 * time.Minute

// reject records a refused change of a provider: a failure for invalid or
// conflicting settings, a denial otherwise (AUD-1).
func (s *Service) reject(ctx context.Context, e rempart.AuditEntry, err error) error {
	if code := rempart.ErrorCode(err); code != rempart.EINVALID && code != rempart.ECONFLICT {
		return s.deny(ctx, e, err)
	}
	e.Outcome = rempart.OutcomeFailure
	if e.Reason == "" {
		e.Reason = rempart.ErrorCode(err)
	}
	if _, aerr := s.store.Audit(ctx, e); aerr != nil {
		return aerr
	}
	return err
}
