package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/guard"
)

// Staff access grants (IAM-7): staff ask for, approve, deny and revoke them
// on /grants; a tenant's admins see every grant on their tenant with every
// access made under it (access transparency), approve when the tenant
// requires it, deny, revoke, and set that rule on /tenants/{tenant}/grants.
// Which buttons a page shows follows the permission matrix; the grants
// service authorises and audits every action on its own.

// GrantService is the staff access grants (grants.Service).
type GrantService interface {
	Request(ctx context.Context, c rempart.Caller, in rempart.GrantCreate) (rempart.Grant, error)
	List(ctx context.Context, c rempart.Caller, tenant string) ([]rempart.Grant, error)
	Approve(ctx context.Context, c rempart.Caller, id string) (rempart.Grant, error)
	Deny(ctx context.Context, c rempart.Caller, id string) (rempart.Grant, error)
	Revoke(ctx context.Context, c rempart.Caller, id string) (rempart.Grant, error)
	TenantGrants(ctx context.Context, c rempart.Caller, tenant string) ([]rempart.Grant, error)
	TenantGrant(ctx context.Context, c rempart.Caller, tenant, id string) (rempart.GrantDetail, error)
	TenantApprove(ctx context.Context, c rempart.Caller, tenant, id string) (rempart.Grant, error)
	TenantDeny(ctx context.Context, c rempart.Caller, tenant, id string) (rempart.Grant, error)
	TenantRevoke(ctx context.Context, c rempart.Caller, tenant, id string) (rempart.Grant, error)
	Settings(ctx context.Context, c rempart.Caller, tenant string) (rempart.GrantSettings, error)
	SetSettings(ctx context.Context, c rempart.Caller, tenant string, in rempart.GrantSettings) (rempart.GrantSettings, error)
}

func init() {
	// The grants pages' notices, beside the others of render.go.
	for k, v := range map[string]string{
		"grant-requested":       "Access requested; a security admin must approve it.",
		"grant-approved":        "Grant approved.",
		"grant-denied":          "Grant denied.",
		"grant-revoked":         "Grant revoked: access under it has stopped.",
		"grant-settings-saved":  "Rule saved: it applies to grants requested from now on.",
		"grant-tenant-approved": "Grant approved for your tenant.",
	} {
		notices[k] = v
	}
}

// grantsAvailable refuses the grants pages of a console wired without the
// service.
func (s *server) grantsAvailable() error {
	if s.cfg.Grants == nil {
		return errNotFound
	}
	return nil
}

// grantRow is a grant with the actions the signed-in person may take on it.
type grantRow struct {
	rempart.Grant
	CanApprove, CanDeny, CanRevoke bool
}

type grantsPage struct {
	view
	Grants      []grantRow
	CanRequest  bool
	Scopes      []string
	TenantID    string // the request form's values, kept on error
	Reason      string
	Scope       string
	Duration    string
	ReasonMin   int
	ReasonMax   int
	DurationMin int
	DurationMax int
}

func (s *server) grants(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.showGrants(w, r, v, http.StatusOK, "", rempart.GrantCreate{Scope: rempart.GrantRead, DurationMinutes: 60})
}

func (s *server) showGrants(w http.ResponseWriter, r *http.Request, v *visit, status int, alert string, in rempart.GrantCreate) error {
	if err := s.grantsAvailable(); err != nil {
		return err
	}
	gs, err := s.cfg.Grants.List(r.Context(), v.caller, "")
	if err != nil {
		return err
	}
	me := v.caller.Principal
	approver := guard.Has(me.Role, guard.GrantsApprove)
	p := grantsPage{view: s.view(r, v, "Access grants", "grants"), CanRequest: guard.Has(me.Role, guard.GrantsRequest),
		TenantID: in.TenantID, Reason: in.Reason, Scope: in.Scope, Duration: strconv.Itoa(in.DurationMinutes),
		ReasonMin: rempart.GrantReasonMin, ReasonMax: rempart.GrantReasonMax,
		DurationMin: int(rempart.GrantMinDuration.Minutes()), DurationMax: int(rempart.GrantMaxDuration.Minutes())}
	for _, sc := range []string{rempart.GrantRead, rempart.GrantWrite} {
		if guard.Has(me.Role, guard.RequestPermission(sc)) {
			p.Scopes = append(p.Scopes, sc)
		}
	}
	for _, g := range gs {
		open := g.Status == rempart.GrantPending || g.Status == rempart.GrantActive
		p.Grants = append(p.Grants, grantRow{Grant: g,
			CanApprove: approver && g.Status == rempart.GrantPending && g.ApprovedAt == nil && g.RequesterID != me.ID,
			CanDeny:    approver && g.Status == rempart.GrantPending,
			CanRevoke:  open && (approver || g.RequesterID == me.ID)})
	}
	p.Alert = alert
	s.render(w, r, status, "grants", p)
	return nil
}

func (s *server) requestGrant(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := s.grantsAvailable(); err != nil {
		return err
	}
	in := rempart.GrantCreate{TenantID: strings.TrimSpace(r.PostFormValue("tenant_id")), Reason: r.PostFormValue("reason"), Scope: r.PostFormValue("scope")}
	d, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("duration_minutes")))
	if err != nil {
		return s.showGrants(w, r, v, http.StatusBadRequest, "The duration is a whole number of minutes.", in)
	}
	in.DurationMinutes = d
	if _, err := s.cfg.Grants.Request(r.Context(), v.caller, in); err != nil {
		if formError(err) || rempart.ErrorCode(err) == rempart.ENOTFOUND {
			return s.showGrants(w, r, v, s.status(w, r, err), rempart.ErrorMessage(err), in)
		}
		return err
	}
	redirect(w, r, "/grants", "grant-requested")
	return nil
}

// grantStep posts one change of a grant from the staff page.
func (s *server) grantStep(step func(GrantService, context.Context, rempart.Caller, string) (rempart.Grant, error), done string) func(http.ResponseWriter, *http.Request, *visit) error {
	return func(w http.ResponseWriter, r *http.Request, v *visit) error {
		if err := s.grantsAvailable(); err != nil {
			return err
		}
		if _, err := step(s.cfg.Grants, r.Context(), v.caller, r.PathValue("grant")); err != nil {
			if formError(err) {
				return s.showGrants(w, r, v, s.status(w, r, err), rempart.ErrorMessage(err), rempart.GrantCreate{Scope: rempart.GrantRead, DurationMinutes: 60})
			}
			return err
		}
		redirect(w, r, "/grants", done)
		return nil
	}
}

type tenantGrantsPage struct {
	view
	Tenant   rempart.Tenant
	Settings rempart.GrantSettings
	Grants   []grantRow
}

func (s *server) tenantGrants(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.showTenantGrants(w, r, v, http.StatusOK, "")
}

func (s *server) showTenantGrants(w http.ResponseWriter, r *http.Request, v *visit, status int, alert string) error {
	if err := s.grantsAvailable(); err != nil {
		return err
	}
	ctx := r.Context()
	gs, err := s.cfg.Grants.TenantGrants(ctx, v.caller, r.PathValue("tenant"))
	if err != nil {
		return err
	}
	t, err := s.cfg.Tenants.Tenant(ctx, v.caller, r.PathValue("tenant"))
	if err != nil {
		return err
	}
	set, err := s.cfg.Grants.Settings(ctx, v.caller, t.ID)
	if err != nil {
		return err
	}
	p := tenantGrantsPage{view: s.view(r, v, t.Name+": staff access", "grants"), Tenant: t, Settings: set}
	for _, g := range gs {
		pending := g.Status == rempart.GrantPending
		p.Grants = append(p.Grants, grantRow{Grant: g, CanApprove: pending && g.TenantApprovalRequired && g.TenantApprovedAt == nil,
			CanDeny: pending, CanRevoke: pending || g.Status == rempart.GrantActive})
	}
	p.Alert = alert
	s.render(w, r, status, "tenant-grants", p)
	return nil
}

type tenantGrantPage struct {
	view
	Tenant rempart.Tenant
	Detail rempart.GrantDetail
}

func (s *server) tenantGrant(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := s.grantsAvailable(); err != nil {
		return err
	}
	ctx := r.Context()
	d, err := s.cfg.Grants.TenantGrant(ctx, v.caller, r.PathValue("tenant"), r.PathValue("grant"))
	if err != nil {
		return err
	}
	t, err := s.cfg.Tenants.Tenant(ctx, v.caller, r.PathValue("tenant"))
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "tenant-grant", tenantGrantPage{view: s.view(r, v, "Grant "+d.Grant.ID, "grants"), Tenant: t, Detail: d})
	return nil
}

// tenantGrantStep posts one change of a grant from the tenant's page.
func (s *server) tenantGrantStep(step func(GrantService, context.Context, rempart.Caller, string, string) (rempart.Grant, error), done string) func(http.ResponseWriter, *http.Request, *visit) error {
	return func(w http.ResponseWriter, r *http.Request, v *visit) error {
		if err := s.grantsAvailable(); err != nil {
			return err
		}
		tenant := r.PathValue("tenant")
		if _, err := step(s.cfg.Grants, r.Context(), v.caller, tenant, r.PathValue("grant")); err != nil {
			if formError(err) {
				return s.showTenantGrants(w, r, v, s.status(w, r, err), rempart.ErrorMessage(err))
			}
			return err
		}
		redirect(w, r, "/tenants/"+tenant+"/grants", done)
		return nil
	}
}

func (s *server) setGrantSettings(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := s.grantsAvailable(); err != nil {
		return err
	}
	tenant := r.PathValue("tenant")
	in := rempart.GrantSettings{RequireApproval: r.PostFormValue("require_approval") == "on"}
	if _, err := s.cfg.Grants.SetSettings(r.Context(), v.caller, tenant, in); err != nil {
		return err
	}
	redirect(w, r, "/tenants/"+tenant+"/grants", "grant-settings-saved")
	return nil
}
