package vault

import (
	"context"
	"strings"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
)

// CreateTenant creates a tenant with its own keys (TEN-2).
func (s *Service) CreateTenant(ctx context.Context, c rempart.Caller, name string) (rempart.Tenant, error) {
	id := rempart.NewID("ten")
	e := newEntry(c, id, "tenant.create", "tenants/"+id)
	if err := guard.AuthorizeSystem(c, guard.TenantsManage); err != nil {
		return rempart.Tenant{}, s.deny(ctx, e, err)
	}
	name = strings.TrimSpace(name)
	if !tenantNameRE.MatchString(name) {
		return rempart.Tenant{}, s.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "A tenant name is 1 to 100 characters: letters, digits, spaces and . _ & ' -, starting with a letter or digit."))
	}
	now := s.clock.Now()
	t := rempart.Tenant{ID: id, Name: name, Status: rempart.TenantActive, CreatedAt: now, UpdatedAt: now}
	k, err := s.keys.NewTenantKeys(ctx, id)
	if err != nil {
		return rempart.Tenant{}, err
	}
	if _, err := s.store.CreateTenant(ctx, e, t, k); err != nil {
		return rempart.Tenant{}, err
	}
	return t, nil
}

// Tenants lists every tenant (system principals only).
func (s *Service) Tenants(ctx context.Context, c rempart.Caller) ([]rempart.Tenant, error) {
	e := newEntry(c, "", "tenant.list", "tenants")
	if err := guard.AuthorizeSystem(c, guard.TenantsManage); err != nil {
		return nil, s.deny(ctx, e, err)
	}
	ts, err := s.store.Tenants(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := s.store.Audit(ctx, e); err != nil {
		return nil, err
	}
	return ts, nil
}

// Tenant returns one tenant to its own principals and to system admins.
func (s *Service) Tenant(ctx context.Context, c rempart.Caller, id string) (rempart.Tenant, error) {
	e := newEntry(c, id, "tenant.read", "tenants/"+id)
	if _, err := s.authorize(ctx, c, id, guard.TenantRead, &e); err != nil {
		return rempart.Tenant{}, err
	}
	t, err := s.store.Tenant(ctx, id)
	if err != nil {
		return t, err
	}
	if _, err := s.store.Audit(ctx, e); err != nil {
		return rempart.Tenant{}, err
	}
	return t, nil
}

// SetTenantStatus suspends (TenantSuspended) or resumes (TenantActive) a
// tenant. A suspended tenant's principals are refused everything.
func (s *Service) SetTenantStatus(ctx context.Context, c rempart.Caller, id, status string) (rempart.Tenant, error) {
	action := "tenant.suspend"
	if status == rempart.TenantActive {
		action = "tenant.resume"
	}
	e := newEntry(c, id, action, "tenants/"+id)
	if status != rempart.TenantActive && status != rempart.TenantSuspended {
		return rempart.Tenant{}, s.deny(ctx, e, rempart.Errorf(rempart.EINVALID, "Unknown tenant status %q.", status))
	}
	scope, err := s.authorize(ctx, c, id, guard.TenantsManage, &e)
	if err != nil {
		return rempart.Tenant{}, err
	}
	return s.store.SetTenantStatus(ctx, scope, e, status)
}

// DeleteTenant removes a tenant, destroys its keys and deletes its
// attachments' objects (GOV-5).
func (s *Service) DeleteTenant(ctx context.Context, c rempart.Caller, id string) error {
	e := newEntry(c, id, "tenant.delete", "tenants/"+id)
	scope, err := s.authorize(ctx, c, id, guard.TenantsManage, &e)
	if err != nil {
		return err
	}
	if err := s.store.DeleteTenant(ctx, scope, e); err != nil {
		return err
	}
	s.keys.Forget(id)
	if s.objects != nil {
		// The tenant's attachments are unreadable now that its keys are
		// gone; their objects go too. If the store fails, the tenant stays
		// on the list that the purge job works through.
		bg := context.WithoutCancel(ctx)
		if err := s.purgeTenantObjects(bg, id); err != nil {
			f := newEntry(c, id, "attachment.purge", "tenants/"+id+"/attachments")
			f.Outcome, f.Reason = rempart.OutcomeFailure, "object store: retried by the purge job"
			s.store.Audit(bg, f)
		}
	}
	if s.onDeleted != nil {
		s.onDeleted(ctx, id)
	}
	return nil
}
