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
// the form.

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
	Form      ssoForm
}

// ssoForm is the create form's values, kept on error (but the secret).
type ssoForm struct {
	Name, Issuer, ClientID, Domains, RoleClaim, RoleMap, DefaultRole string
	JIT, Enabled                                                     bool
}

func ssoBase(tenant string) string {
	if tenant == "" {
		return "/staff/sso"
	}
	return "/tenants/" + tenant + "/sso"
}

func (s *server) ssoProviders(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.showSSOProviders(w, r, v, http.StatusOK, "", ssoForm{Enabled: true})
}

func (s *server) showSSOProviders(w http.ResponseWriter, r *http.Request, v *visit, status int, alert string, f ssoForm) error {
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
	p := ssoProvidersPage{view: s.view(r, v, title, "sso"), Base: ssoBase(tenant), Tenant: tenant, Providers: ps, Roles: roles, Form: f,
		Callback: s.cfg.SSOCallbackURL}
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
		k, v, ok := strings.Cut(line, "=")
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
	f := ssoForm{Name: r.PostFormValue("name"), Issuer: strings.TrimSpace(r.PostFormValue("issuer")), ClientID: strings.TrimSpace(r.PostFormValue("client_id")),
		Domains: r.PostFormValue("email_domains"), RoleClaim: strings.TrimSpace(r.PostFormValue("role_claim")), RoleMap: r.PostFormValue("role_map"),
		DefaultRole: r.PostFormValue("default_role"), JIT: r.PostFormValue("jit") == "on", Enabled: r.PostFormValue("enabled") == "on"}
	roleMap, err := parseRoleMap(f.RoleMap)
	if err != nil {
		return s.showSSOProviders(w, r, v, http.StatusBadRequest, rempart.ErrorMessage(err), f)
	}
	in := rempart.SSOProviderInput{Name: f.Name, Issuer: f.Issuer, ClientID: f.ClientID, ClientSecret: r.PostFormValue("client_secret"),
		EmailDomains:    slices.DeleteFunc(strings.FieldsFunc(f.Domains, func(c rune) bool { return c == ',' || c == ' ' || c == '\n' || c == '\r' }), func(s string) bool { return s == "" }),
		JITProvisioning: f.JIT, RoleClaim: f.RoleClaim, RoleMap: roleMap, DefaultRole: f.DefaultRole, Enabled: f.Enabled}
	if _, err := s.cfg.SSOAdmin.CreateSSOProvider(r.Context(), v.caller, tenant, in); err != nil {
		if formError(err) {
			return s.showSSOProviders(w, r, v, s.status(w, r, err), rempart.ErrorMessage(err), f)
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
