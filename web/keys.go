package web

import (
	"net/http"

	"github.com/rempart/rempart"
)

// Keys: the inventory (never key material, ENC-3) and rotation.

type keysPage struct {
	view
	Inventory rempart.KeyInventory
	Names     map[string]string // tenant ID → name
}

// keys shows the root key's versions and every tenant's keys to the system
// administrator; anyone else goes to their own tenant's keys.
func (s *server) keys(w http.ResponseWriter, r *http.Request, v *visit) error {
	if v.caller.Principal.Role != rempart.RoleSystemAdmin && v.caller.Principal.TenantID != "" {
		http.Redirect(w, r, "/tenants/"+v.caller.Principal.TenantID+"/keys", http.StatusSeeOther)
		return nil
	}
	inv, err := s.cfg.Keys.Inventory(r.Context(), v.caller)
	if err != nil {
		return err
	}
	ts, err := s.cfg.Tenants.Tenants(r.Context(), v.caller)
	if err != nil {
		return err
	}
	p := keysPage{view: s.view(r, v, "Keys", "keys"), Inventory: inv, Names: map[string]string{}}
	for _, t := range ts {
		p.Names[t.ID] = t.Name
	}
	s.render(w, r, http.StatusOK, "keys", p)
	return nil
}

type tenantKeysPage struct {
	view
	Tenant rempart.Tenant
	Keys   rempart.TenantKeys
}

func (s *server) tenantKeys(w http.ResponseWriter, r *http.Request, v *visit) error {
	t, err := s.cfg.Tenants.Tenant(r.Context(), v.caller, r.PathValue("tenant"))
	if err != nil {
		return err
	}
	k, err := s.cfg.TenantKeys.Inventory(r.Context(), v.caller, t.ID)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "tenant-keys", tenantKeysPage{view: s.view(r, v, t.Name+": keys", "keys"), Tenant: t, Keys: k})
	return nil
}

func (s *server) rotateRoot(w http.ResponseWriter, r *http.Request, v *visit) error {
	if _, err := s.cfg.Keys.RotateRoot(r.Context(), v.caller); err != nil {
		return err
	}
	redirect(w, r, "/keys", "root-rotating")
	return nil
}

func (s *server) rotateTenant(w http.ResponseWriter, r *http.Request, v *visit) error {
	tenant := r.PathValue("tenant")
	if _, err := s.cfg.TenantKeys.Rotate(r.Context(), v.caller, tenant); err != nil {
		return err
	}
	back := "/tenants/" + tenant + "/keys"
	if v.caller.Principal.Role == rempart.RoleSystemAdmin {
		back = "/keys"
	}
	redirect(w, r, back, "tenant-rotating")
	return nil
}
