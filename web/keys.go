package web

import (
	"net/http"
	"strings"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/keys"
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
	// Customer is the tenant's own key when one wraps its active
	// key-encryption key (GOV-5); zero otherwise.
	Customer customerKey
	URI      string // the customer key form's value, kept on error
}

// customerKey names a tenant's own key as the inventory does: by the wrapper
// ID of the tenant's active KEK, which says the kind of key and where it is
// (a token and object label, or a KMS URL without its query), never the URI
// the tenant gave nor anything secret.
type customerKey struct{ Kind, Key string }

func customerKeyOf(k rempart.TenantKeys) customerKey {
	for _, kek := range k.KEKs {
		if !kek.Active || !keys.IsCustomer(kek.Wrapper) {
			continue
		}
		id := strings.TrimPrefix(kek.Wrapper, keys.CustomerPrefix)
		if rest, ok := strings.CutPrefix(id, "pkcs11:"); ok {
			return customerKey{Kind: "PKCS#11 key (HSM)", Key: rest}
		}
		if rest, ok := strings.CutPrefix(id, "kms:"); ok {
			return customerKey{Kind: "KMS key", Key: rest}
		}
		return customerKey{Kind: "Key", Key: id}
	}
	return customerKey{}
}

func (s *server) tenantKeys(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.showTenantKeys(w, r, v, http.StatusOK, "", "")
}

func (s *server) showTenantKeys(w http.ResponseWriter, r *http.Request, v *visit, status int, alert, uri string) error {
	t, err := s.cfg.Tenants.Tenant(r.Context(), v.caller, r.PathValue("tenant"))
	if err != nil {
		return err
	}
	k, err := s.cfg.TenantKeys.Inventory(r.Context(), v.caller, t.ID)
	if err != nil {
		return err
	}
	p := tenantKeysPage{view: s.view(r, v, t.Name+": keys", "keys"), Tenant: t, Keys: k, Customer: customerKeyOf(k), URI: uri}
	p.Alert = alert
	s.render(w, r, status, "tenant-keys", p)
	return nil
}

// setCustomerKey makes the tenant's own key wrap its key-encryption keys,
// once the person has ticked that they understand what revoking it does.
func (s *server) setCustomerKey(w http.ResponseWriter, r *http.Request, v *visit) error {
	tenant := r.PathValue("tenant")
	uri := strings.TrimSpace(r.PostFormValue("uri"))
	if r.PostFormValue("understood") != "yes" {
		return s.showTenantKeys(w, r, v, http.StatusBadRequest,
			"Tick the box to confirm that you understand that revoking this key makes the tenant's data unreadable.", keptURI(uri))
	}
	if _, err := s.cfg.TenantKeys.SetCustomerKey(r.Context(), v.caller, tenant, uri); err != nil {
		if formError(err) {
			return s.showTenantKeys(w, r, v, s.status(w, r, err), rempart.ErrorMessage(err), keptURI(uri))
		}
		return err
	}
	redirect(w, r, "/tenants/"+tenant+"/keys", "customer-key-set")
	return nil
}

func (s *server) removeCustomerKey(w http.ResponseWriter, r *http.Request, v *visit) error {
	tenant := r.PathValue("tenant")
	if _, err := s.cfg.TenantKeys.RemoveCustomerKey(r.Context(), v.caller, tenant); err != nil {
		if formError(err) {
			return s.showTenantKeys(w, r, v, s.status(w, r, err), rempart.ErrorMessage(err), "")
		}
		return err
	}
	redirect(w, r, "/tenants/"+tenant+"/keys", "customer-key-removed")
	return nil
}

// keptURI is the key URI to show again in the form after an error, unless
// it carries a secret — a PIN (pin-value) or, in a base64key URL, the key
// itself — which is never sent back to the browser.
func keptURI(uri string) string {
	l := strings.ToLower(uri)
	if strings.Contains(l, "pin-value") || strings.HasPrefix(l, "base64key:") || len(uri) > maxKeyURI {
		return ""
	}
	return uri
}

// maxKeyURI is the longest key URI the service takes.
const maxKeyURI = 1024

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
