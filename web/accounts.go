package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
)

// A tenant's service accounts and their API keys.

type accountsPage struct {
	view
	Tenant   rempart.Tenant
	Accounts []rempart.ServiceAccount
	Roles    []string
	Name     string // the create form's values, kept on error
	Role     string
}

func (s *server) accounts(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.showAccounts(w, r, v, http.StatusOK, "", rempart.ServiceAccountCreate{Role: rempart.RoleReader})
}

func (s *server) showAccounts(w http.ResponseWriter, r *http.Request, v *visit, status int, alert string, in rempart.ServiceAccountCreate) error {
	ctx := r.Context()
	t, err := s.cfg.Tenants.Tenant(ctx, v.caller, r.PathValue("tenant"))
	if err != nil {
		return err
	}
	as, err := s.cfg.Accounts.ServiceAccounts(ctx, v.caller, t.ID)
	if err != nil {
		return err
	}
	p := accountsPage{view: s.view(r, v, t.Name+": service accounts", "accounts"), Tenant: t, Accounts: as,
		Roles: accountRoles(), Name: in.Name, Role: in.Role}
	p.Alert = alert
	s.render(w, r, status, "accounts", p)
	return nil
}

func (s *server) createAccount(w http.ResponseWriter, r *http.Request, v *visit) error {
	tenant := r.PathValue("tenant")
	in := rempart.ServiceAccountCreate{Name: strings.TrimSpace(r.PostFormValue("name")), Role: r.PostFormValue("role")}
	sa, err := s.cfg.Accounts.CreateServiceAccount(r.Context(), v.caller, tenant, in)
	if err != nil {
		if formError(err) {
			return s.showAccounts(w, r, v, s.status(w, r, err), rempart.ErrorMessage(err), in)
		}
		return err
	}
	redirect(w, r, "/tenants/"+tenant+"/service-accounts/"+sa.ID, "account-created")
	return nil
}

type accountPage struct {
	view
	Tenant  rempart.Tenant
	Account rempart.ServiceAccount
	Keys    []rempart.APIKey
	NewKey  *rempart.APIKeyCreated // shown once, right after it is made
	Days    string
}

func (s *server) account(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.showAccount(w, r, v, http.StatusOK, "", nil, "")
}

func (s *server) showAccount(w http.ResponseWriter, r *http.Request, v *visit, status int, alert string, created *rempart.APIKeyCreated, days string) error {
	ctx := r.Context()
	t, err := s.cfg.Tenants.Tenant(ctx, v.caller, r.PathValue("tenant"))
	if err != nil {
		return err
	}
	as, err := s.cfg.Accounts.ServiceAccounts(ctx, v.caller, t.ID)
	if err != nil {
		return err
	}
	p := accountPage{Tenant: t, NewKey: created, Days: days}
	for _, a := range as {
		if a.ID == r.PathValue("account") {
			p.Account = a
		}
	}
	if p.Account.ID == "" {
		return rempart.Errorf(rempart.ENOTFOUND, "There is no such service account.")
	}
	if p.Keys, err = s.cfg.Accounts.APIKeys(ctx, v.caller, t.ID, p.Account.ID); err != nil {
		return err
	}
	p.view = s.view(r, v, p.Account.Name+": API keys", "accounts")
	p.Alert = alert
	s.render(w, r, status, "account", p)
	return nil
}

// createKey makes an API key and shows its secret on the page it answers
// with: the only time it is shown. The secret never travels in a URL.
func (s *server) createKey(w http.ResponseWriter, r *http.Request, v *visit) error {
	days := strings.TrimSpace(r.PostFormValue("expires_in_days"))
	var in rempart.APIKeyCreate
	if days != "" {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 {
			return s.showAccount(w, r, v, http.StatusBadRequest, "The lifetime is a whole number of days, 1 or more.", nil, days)
		}
		in.ExpiresInDays = n
	}
	k, err := s.cfg.Accounts.CreateAPIKey(r.Context(), v.caller, r.PathValue("tenant"), r.PathValue("account"), in)
	if err != nil {
		if formError(err) {
			return s.showAccount(w, r, v, s.status(w, r, err), rempart.ErrorMessage(err), nil, days)
		}
		return err
	}
	return s.showAccount(w, r, v, http.StatusCreated, "", &k, "")
}

func (s *server) revokeKey(w http.ResponseWriter, r *http.Request, v *visit) error {
	tenant, account := r.PathValue("tenant"), r.PathValue("account")
	if err := s.cfg.Accounts.RevokeAPIKey(r.Context(), v.caller, tenant, account, r.PathValue("key")); err != nil {
		return err
	}
	redirect(w, r, "/tenants/"+tenant+"/service-accounts/"+account, "key-revoked")
	return nil
}

// accountRoles are the roles a service account can be created with: not
// the privileged ones, which come only through an approved role change
// (IAM-10).
func accountRoles() []string {
	var out []string
	for _, r := range rempart.TenantRoles {
		if !guard.Privileged(r) {
			out = append(out, r)
		}
	}
	return out
}
