package web

import (
	"net/http"
	"strings"

	"github.com/rempart/rempart"
)

// Tenants: list, create, suspend and resume, delete (system administrators).

type tenantsPage struct {
	view
	Tenants []rempart.Tenant
	Name    string // the create form's value, kept on error
}

func (s *server) tenants(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.showTenants(w, r, v, http.StatusOK, "", "")
}

func (s *server) showTenants(w http.ResponseWriter, r *http.Request, v *visit, status int, alert, name string) error {
	ts, err := s.cfg.Tenants.Tenants(r.Context(), v.caller)
	if err != nil {
		return err
	}
	p := tenantsPage{view: s.view(r, v, "Tenants", "tenants"), Tenants: ts, Name: name}
	p.Alert = alert
	s.render(w, r, status, "tenants", p)
	return nil
}

func (s *server) createTenant(w http.ResponseWriter, r *http.Request, v *visit) error {
	name := strings.TrimSpace(r.PostFormValue("name"))
	if _, err := s.cfg.Tenants.CreateTenant(r.Context(), v.caller, name); err != nil {
		if formError(err) {
			return s.showTenants(w, r, v, s.status(w, r, err), rempart.ErrorMessage(err), name)
		}
		return err
	}
	redirect(w, r, "/tenants", "tenant-created")
	return nil
}

func (s *server) suspendTenant(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.setTenantStatus(w, r, v, rempart.TenantSuspended, "tenant-suspended")
}

func (s *server) resumeTenant(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.setTenantStatus(w, r, v, rempart.TenantActive, "tenant-resumed")
}

func (s *server) setTenantStatus(w http.ResponseWriter, r *http.Request, v *visit, status, done string) error {
	if _, err := s.cfg.Tenants.SetTenantStatus(r.Context(), v.caller, r.PathValue("tenant"), status); err != nil {
		return err
	}
	redirect(w, r, "/tenants", done)
	return nil
}

type deleteTenantPage struct {
	view
	Tenant  rempart.Tenant
	Confirm string
}

// confirmDeleteTenant asks for the tenant's name before deleting it: the
// deletion destroys its keys, so its data cannot be read again.
func (s *server) confirmDeleteTenant(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.showDeleteTenant(w, r, v, http.StatusOK, "", "")
}

func (s *server) showDeleteTenant(w http.ResponseWriter, r *http.Request, v *visit, status int, alert, confirm string) error {
	t, err := s.managedTenant(r, v)
	if err != nil {
		return err
	}
	p := deleteTenantPage{view: s.view(r, v, "Delete "+t.Name, "tenants"), Tenant: t, Confirm: confirm}
	p.Alert = alert
	s.render(w, r, status, "tenant-delete", p)
	return nil
}

func (s *server) deleteTenant(w http.ResponseWriter, r *http.Request, v *visit) error {
	t, err := s.managedTenant(r, v)
	if err != nil {
		return err
	}
	confirm := r.PostFormValue("confirm")
	if strings.TrimSpace(confirm) != t.Name {
		return s.showDeleteTenant(w, r, v, http.StatusBadRequest, "Type the tenant's name exactly to confirm the deletion.", confirm)
	}
	if err := s.cfg.Tenants.DeleteTenant(r.Context(), v.caller, t.ID); err != nil {
		return err
	}
	redirect(w, r, "/tenants", "tenant-deleted")
	return nil
}

// managedTenant returns the tenant the URL names among those the caller
// manages (guard.TenantsManage, which the list of tenants requires).
// Deletion is tenant management: a tenant's own people, who may read their
// tenant, get no deletion form, and their posts are refused (and audited)
// before the typed name is even looked at.
func (s *server) managedTenant(r *http.Request, v *visit) (rempart.Tenant, error) {
	ts, err := s.cfg.Tenants.Tenants(r.Context(), v.caller)
	if err != nil {
		return rempart.Tenant{}, err
	}
	for _, t := range ts {
		if t.ID == r.PathValue("tenant") {
			return t, nil
		}
	}
	return rempart.Tenant{}, rempart.Errorf(rempart.ENOTFOUND, "There is no such tenant.")
}

// formError reports whether err is about what the person typed (and so
// belongs next to the form) rather than about their access.
func formError(err error) bool {
	switch rempart.ErrorCode(err) {
	case rempart.EINVALID, rempart.ECONFLICT, rempart.ERATELIMIT:
		return true
	}
	return false
}
