package web

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/rempart/rempart"
)

// Single sign-on providers (IAM-5): a tenant's admins configure theirs at
// /tenants/{tenant}/sso, the staff admins the staff's at /staff/sso. The
// client secret is a write-only field: never shown, never written back into
// the form. A SAML identity provider is added with its metadata pasted; the
// page shows what to register at it (entity ID, metadata and assertion
// consumer service URLs).

// SSOProviderService configures single sign-on providers
// (identity.Service); tenant "" is the staff.
type SSOProviderService interface {
	SSOProviders(ctx context.Context, c rempart.Caller, tenant string) ([]rempart.SSOProvider, error)
	CreateSSOProvider(ctx context.Context, c rempart.Caller, tenant string, in rempart.SSOProviderInput) (rempart.SSOProvider, error)
	DeleteSSOProvider(ctx context.Context, c rempart.Caller, tenant, id string) error
}

func init() {
	notices["sso-created"] = "Single sign-on provider added."
	notices["sso-deleted"] = "Single sign-on provider removed."
}

type ssoProvidersPage struct {
	view
	Base      string // /tenants/{tenant}/sso or /staff/sso
	Tenant    string
	Providers []rempart.SSOProvider
	Roles     []string
	Callback  string
	// SAMLEntityID and SAMLACS are the service provider's, to register at
	// a SAML identity provider; its metadata is at the entity ID.
	SAMLEntityID, SAMLACS string
	Form, SAMLForm        ssoForm
}

// ssoForm is a create form's values, kept on error (but the secret).
type ssoForm struct {
	Name, Issuer, ClientID, Domains, RoleClaim, RoleMap, DefaultRole string
	MetadataXML, EmailAttribute                                      string
	JIT, Enabled                                                     bool
}

func ssoBase(tenant string) string {
	if tenant == "" {
		return "/staff/sso"
	}
	return "/tenants/" + tenant + "/sso"
}

func (s *server) ssoProviders(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.showSSOProviders(w, r, v, http.StatusOK, "", "", ssoForm{Enabled: true})
}

// showSSOProviders shows the page; f is the values of the form of protocol
// after a refusal.
func (s *server) showSSOProviders(w http.ResponseWriter, r *http.Request, v *visit, status int, alert, protocol string, f ssoForm) error {
	if s.cfg.SSOAdmin == nil {
		return errNotFound
	}
	tenant := r.PathValue("tenant")
	ps, err := s.cfg.SSOAdmin.SSOProviders(r.Context(), v.caller, tenant)
	if err != nil {
		return err
	}
	roles := rempart.TenantRoles
	title := "Single sign-on"
	if tenant == "" {
		roles, title = rempart.StaffRoles, "Staff single sign-on"
	}
	p := ssoProvidersPage{view: s.view(r, v, title, "sso"), Base: ssoBase(tenant), Tenant: tenant, Providers: ps, Roles: roles,
		Form: ssoForm{Enabled: true}, SAMLForm: ssoForm{Enabled: true}, Callback: s.cfg.SSOCallbackURL, SAMLEntityID: s.cfg.SAMLEntityID, SAMLACS: s.cfg.SAMLACSURL}
	if protocol == rempart.SSOProtocolSAML {
		p.SAMLForm = f
	} else {
		p.Form = f
	}
	p.Alert = alert
	s.render(w, r, status, "sso-providers", p)
	return nil
}

// parseRoleMap reads "claim value = role" lines.
func parseRoleMap(text string) (map[string]string, error) {
	out := map[string]string{}
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		// Roles have no "=", values may (an LDAP group's DN in a SAML
		// attribute): the last one separates them.
		i := strings.LastIndex(line, "=")
		k, v, ok := line[:max(i, 0)], line[i+1:], i >= 0
		if !ok {
			return nil, rempart.Errorf(rempart.EINVALID, "Role mapping: write one \"claim value = role\" per line.")
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

func (s *server) createSSOProvider(w http.ResponseWriter, r *http.Request, v *visit) error {
	if s.cfg.SSOAdmin == nil {
		return errNotFound
	}
	tenant := r.PathValue("tenant")
	protocol := rempart.SSOProtocolOIDC
	if r.PostFormValue("protocol") == rempart.SSOProtocolSAML {
		protocol = rempart.SSOProtocolSAML
	}
	f := ssoForm{Name: r.PostFormValue("name"), Issuer: strings.TrimSpace(r.PostFormValue("issuer")), ClientID: strings.TrimSpace(r.PostFormValue("client_id")),
		Domains: r.PostFormValue("email_domains"), RoleClaim: strings.TrimSpace(r.PostFormValue("role_claim")), RoleMap: r.PostFormValue("role_map"),
		DefaultRole: r.PostFormValue("default_role"), JIT: r.PostFormValue("jit") == "on", Enabled: r.PostFormValue("enabled") == "on",
		MetadataXML: r.PostFormValue("idp_metadata_xml"), EmailAttribute: strings.TrimSpace(r.PostFormValue("email_attribute"))}
	roleMap, err := parseRoleMap(f.RoleMap)
	if err != nil {
		return s.showSSOProviders(w, r, v, http.StatusBadRequest, rempart.ErrorMessage(err), protocol, f)
	}
	in := rempart.SSOProviderInput{Name: f.Name, Protocol: protocol, Issuer: f.Issuer, ClientID: f.ClientID, ClientSecret: r.PostFormValue("client_secret"),
		IDPMetadataXML: f.MetadataXML, EmailAttribute: f.EmailAttribute,
		EmailDomains:    slices.DeleteFunc(strings.FieldsFunc(f.Domains, func(c rune) bool { return c == ',' || c == ' ' || c == '\n' || c == '\r' }), func(s string) bool { return s == "" }),
		JITProvisioning: f.JIT, RoleClaim: f.RoleClaim, RoleMap: roleMap, DefaultRole: f.DefaultRole, Enabled: f.Enabled}
	if _, err := s.cfg.SSOAdmin.CreateSSOProvider(r.Context(), v.caller, tenant, in); err != nil {
		if formError(err) {
			return s.showSSOProviders(w, r, v, s.status(w, r, err), rempart.ErrorMessage(err), protocol, f)
		}
		return err
	}
	redirect(w, r, ssoBase(tenant), "sso-created")
	return nil
}

func (s *server) deleteSSOProvider(w http.ResponseWriter, r *http.Request, v *visit) error {
	if s.cfg.SSOAdmin == nil {
		return errNotFound
	}
	tenant := r.PathValue("tenant")
	if err := s.cfg.SSOAdmin.DeleteSSOProvider(r.Context(), v.caller, tenant, r.PathValue("provider")); err != nil {
		return err
	}
	redirect(w, r, ssoBase(tenant), "sso-deleted")
	return nil
}
