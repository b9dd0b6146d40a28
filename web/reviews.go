package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/rempart/rempart"
	"github.com/rempart/rempart/reviews"
)

// Role changes (IAM-10) and access reviews (IAM-9), for the staff under
// /staff and for a tenant under /tenants/{tenant}.

// ReviewService is role changes and access reviews (reviews.Service).
type ReviewService interface {
	Accounts(ctx context.Context, c rempart.Caller, tenant string) ([]reviews.Account, error)
	RoleChanges(ctx context.Context, c rempart.Caller, tenant string) ([]rempart.RoleChange, error)
	RequestRoleChange(ctx context.Context, c rempart.Caller, tenant string, in rempart.RoleChangeCreate) (rempart.RoleChange, error)
	ApproveRoleChange(ctx context.Context, c rempart.Caller, tenant, id string, in rempart.RoleChangeDecision) (rempart.RoleChange, error)
	RejectRoleChange(ctx context.Context, c rempart.Caller, tenant, id string, in rempart.RoleChangeDecision) (rempart.RoleChange, error)
	Campaigns(ctx context.Context, c rempart.Caller, tenant string) ([]rempart.Campaign, error)
	CreateCampaign(ctx context.Context, c rempart.Caller, tenant string, in rempart.CampaignCreate) (rempart.Campaign, error)
	Campaign(ctx context.Context, c rempart.Caller, tenant, id string) (rempart.CampaignDetail, error)
	Decide(ctx context.Context, c rempart.Caller, tenant, campaignID, principalID string, in rempart.ReviewDecision) (rempart.ReviewDecided, error)
	Export(ctx context.Context, c rempart.Caller, tenant, id, format string) ([]byte, string, string, error)
}

func init() {
	for k, v := range map[string]string{
		"role-change-requested": "Role change requested; another person must approve it.",
		"role-change-approved":  "Role change approved: the new role applies now.",
		"role-change-rejected":  "Role change rejected.",
		"campaign-created":      "Access review campaign opened.",
		"decided":               "Decision recorded.",
		"campaign-closed":       "Every account is decided: the campaign is closed and its evidence can be exported.",
	} {
		notices[k] = v
	}
}

// scope is the scope of a review page: its tenant ("" staff), its path
// prefix and a name to show.
type scope struct {
	Tenant, Base, Label string
}

func (s *server) scope(r *http.Request, v *visit) (scope, error) {
	t := r.PathValue("tenant")
	if t == "" {
		return scope{Base: "/staff", Label: "staff"}, nil
	}
	ten, err := s.cfg.Tenants.Tenant(r.Context(), v.caller, t)
	if err != nil {
		return scope{}, err
	}
	return scope{Tenant: t, Base: "/tenants/" + t, Label: ten.Name}, nil
}

type roleChangesPage struct {
	view
	Scope    scope
	Changes  []rempart.RoleChange
	Accounts []reviews.Account
	Roles    []string
	Form     rempart.RoleChangeCreate
}

func (s *server) roleChanges(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.showRoleChanges(w, r, v, http.StatusOK, "", rempart.RoleChangeCreate{})
}

func (s *server) showRoleChanges(w http.ResponseWriter, r *http.Request, v *visit, status int, alert string, form rempart.RoleChangeCreate) error {
	sc, err := s.scope(r, v)
	if err != nil {
		return err
	}
	ctx := r.Context()
	p := roleChangesPage{Scope: sc, Form: form, Roles: rempart.TenantRoles}
	if sc.Tenant == "" {
		p.Roles = rempart.StaffRoles
	}
	if p.Changes, err = s.cfg.Reviews.RoleChanges(ctx, v.caller, sc.Tenant); err != nil {
		return err
	}
	if p.Accounts, err = s.cfg.Reviews.Accounts(ctx, v.caller, sc.Tenant); err != nil {
		return err
	}
	p.view = s.view(r, v, "Role changes: "+sc.Label, "reviews")
	p.Alert = alert
	s.render(w, r, status, "role-changes", p)
	return nil
}

func (s *server) requestRoleChange(w http.ResponseWriter, r *http.Request, v *visit) error {
	in := rempart.RoleChangeCreate{PrincipalID: r.PostFormValue("principal_id"), Role: r.PostFormValue("role"), Reason: r.PostFormValue("reason")}
	tenant := r.PathValue("tenant")
	if _, err := s.cfg.Reviews.RequestRoleChange(r.Context(), v.caller, tenant, in); err != nil {
		if formError(err) || rempart.ErrorCode(err) == rempart.ENOTFOUND && in.PrincipalID != "" {
			return s.showRoleChanges(w, r, v, s.status(w, r, err), rempart.ErrorMessage(err), in)
		}
		return err
	}
	redirect(w, r, scopeBase(tenant)+"/role-changes", "role-change-requested")
	return nil
}

func scopeBase(tenant string) string {
	if tenant == "" {
		return "/staff"
	}
	return "/tenants/" + tenant
}

func (s *server) approveRoleChange(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.decideRoleChange(w, r, v, true)
}

func (s *server) rejectRoleChange(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.decideRoleChange(w, r, v, false)
}

func (s *server) decideRoleChange(w http.ResponseWriter, r *http.Request, v *visit, approve bool) error {
	tenant := r.PathValue("tenant")
	decide, done := s.cfg.Reviews.RejectRoleChange, "role-change-rejected"
	if approve {
		decide, done = s.cfg.Reviews.ApproveRoleChange, "role-change-approved"
	}
	if _, err := decide(r.Context(), v.caller, tenant, r.PathValue("change"), rempart.RoleChangeDecision{Note: r.PostFormValue("note")}); err != nil {
		if formError(err) || rempart.ErrorCode(err) == rempart.EFORBIDDEN {
			return s.showRoleChanges(w, r, v, s.status(w, r, err), rempart.ErrorMessage(err), rempart.RoleChangeCreate{})
		}
		return err
	}
	redirect(w, r, scopeBase(tenant)+"/role-changes", done)
	return nil
}

type campaignsPage struct {
	view
	Scope     scope
	Campaigns []rempart.Campaign
	Tenants   []rempart.Tenant // on the staff's page: every tenant, whose reviews a system administrator runs too
	Name      string
	Days      string
}

func (s *server) campaigns(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.showCampaigns(w, r, v, http.StatusOK, "", "", "")
}

func (s *server) showCampaigns(w http.ResponseWriter, r *http.Request, v *visit, status int, alert, name, days string) error {
	sc, err := s.scope(r, v)
	if err != nil {
		return err
	}
	p := campaignsPage{Scope: sc, Name: name, Days: days}
	if p.Campaigns, err = s.cfg.Reviews.Campaigns(r.Context(), v.caller, sc.Tenant); err != nil {
		return err
	}
	if sc.Tenant == "" {
		if p.Tenants, err = s.cfg.Tenants.Tenants(r.Context(), v.caller); err != nil {
			return err
		}
	}
	p.view = s.view(r, v, "Access reviews: "+sc.Label, "reviews")
	p.Alert = alert
	s.render(w, r, status, "access-reviews", p)
	return nil
}

func (s *server) createCampaign(w http.ResponseWriter, r *http.Request, v *visit) error {
	tenant := r.PathValue("tenant")
	name, days := strings.TrimSpace(r.PostFormValue("name")), strings.TrimSpace(r.PostFormValue("due_in_days"))
	in := rempart.CampaignCreate{Name: name}
	if days != "" {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 {
			return s.showCampaigns(w, r, v, http.StatusBadRequest, "The time to review is a whole number of days, 1 or more.", name, days)
		}
		in.DueInDays = n
	}
	cp, err := s.cfg.Reviews.CreateCampaign(r.Context(), v.caller, tenant, in)
	if err != nil {
		if formError(err) {
			return s.showCampaigns(w, r, v, s.status(w, r, err), rempart.ErrorMessage(err), name, days)
		}
		return err
	}
	redirect(w, r, scopeBase(tenant)+"/access-reviews/"+cp.ID, "campaign-created")
	return nil
}

type campaignPage struct {
	view
	Scope    scope
	Campaign rempart.CampaignDetail
	Overdue  bool
	Roles    []string
}

func (s *server) campaign(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.showCampaign(w, r, v, http.StatusOK, "")
}

func (s *server) showCampaign(w http.ResponseWriter, r *http.Request, v *visit, status int, alert string) error {
	sc, err := s.scope(r, v)
	if err != nil {
		return err
	}
	cp, err := s.cfg.Reviews.Campaign(r.Context(), v.caller, sc.Tenant, r.PathValue("campaign"))
	if err != nil {
		return err
	}
	p := campaignPage{Scope: sc, Campaign: cp, Roles: rempart.TenantRoles}
	if sc.Tenant == "" {
		p.Roles = rempart.StaffRoles
	}
	p.Overdue = cp.ClosedAt == nil && len(cp.Reminders) > 0
	p.view = s.view(r, v, cp.Name, "reviews")
	p.Alert = alert
	s.render(w, r, status, "access-review", p)
	return nil
}

func (s *server) decide(w http.ResponseWriter, r *http.Request, v *visit) error {
	tenant, id := r.PathValue("tenant"), r.PathValue("campaign")
	in := rempart.ReviewDecision{Decision: r.PostFormValue("decision"), Note: r.PostFormValue("note")}
	if in.Decision == rempart.DecisionChangeRole {
		in.Role = r.PostFormValue("role")
	}
	out, err := s.cfg.Reviews.Decide(r.Context(), v.caller, tenant, id, r.PathValue("principal"), in)
	if err != nil {
		if formError(err) || rempart.ErrorCode(err) == rempart.EFORBIDDEN {
			return s.showCampaign(w, r, v, s.status(w, r, err), rempart.ErrorMessage(err))
		}
		return err
	}
	done := "decided"
	if out.Campaign.ClosedAt != nil {
		done = "campaign-closed"
	}
	redirect(w, r, scopeBase(tenant)+"/access-reviews/"+id, done)
	return nil
}

// exportCampaign downloads a closed campaign's evidence.
func (s *server) exportCampaign(w http.ResponseWriter, r *http.Request, v *visit) error {
	body, ctype, name, err := s.cfg.Reviews.Export(r.Context(), v.caller, r.PathValue("tenant"), r.PathValue("campaign"), r.URL.Query().Get("format"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
	return nil
}
