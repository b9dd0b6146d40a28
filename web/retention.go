package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/rempart/rempart"
)

// Retention rules (GOV-5, BCK-3): how long a tenant's deleted records stay
// restorable, and how old its live records may grow, per collection and by
// default. The tenant's admins and system administrators; the vault decides.

type retentionPage struct {
	view
	Tenant    rempart.Tenant
	Retention rempart.Retention
	Default   ruleForm // the default's form: the values in force, or those typed
	Rule      ruleForm // the collection form: empty, or what was typed
	Chart     retentionChart
}

// ruleForm is a rule's form as typed: kept as text so that an error shows
// exactly what was sent.
type ruleForm struct{ Collection, Restorable, MaxAge string }

func postedRule(r *http.Request) ruleForm {
	return ruleForm{Collection: strings.TrimSpace(r.PostFormValue("collection")),
		Restorable: strings.TrimSpace(r.PostFormValue("restorable_days")), MaxAge: strings.TrimSpace(r.PostFormValue("max_age_days"))}
}

// read is the rule for the vault's read callback: the vault calls it once
// the caller is authorised, and refuses and audits its error like a value
// out of bounds (which the vault checks itself).
func (f ruleForm) read(in *rempart.RetentionRuleSet) error {
	restorable, ok := wholeDays(f.Restorable)
	if !ok {
		return rempart.Errorf(rempart.EINVALID, "Restorable for: give a whole number of days, such as 30.")
	}
	maxAge := 0
	if f.MaxAge != "" {
		if maxAge, ok = wholeDays(f.MaxAge); !ok {
			return rempart.Errorf(rempart.EINVALID, "Maximum age: give a whole number of days, such as 1095, or leave it empty to keep live records.")
		}
	}
	*in = rempart.RetentionRuleSet{RestorableDays: restorable, MaxAgeDays: maxAge}
	return nil
}

// wholeDays reads a number of days: digits only, at most 9 of them (the
// vault checks the bounds).
func wholeDays(s string) (int, bool) {
	if s == "" || len(s) > 9 || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func daysText(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func (s *server) retention(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.showRetention(w, r, v, http.StatusOK, "", nil, nil)
}

// showRetention renders the page; a non-nil def or rule is a form to show
// again as typed, with alert.
func (s *server) showRetention(w http.ResponseWriter, r *http.Request, v *visit, status int, alert string, def, rule *ruleForm) error {
	t, err := s.cfg.Tenants.Tenant(r.Context(), v.caller, r.PathValue("tenant"))
	if err != nil {
		return err
	}
	ret, err := s.cfg.Retention.Retention(r.Context(), v.caller, t.ID)
	if err != nil {
		return err
	}
	nav := "retention"
	if v.caller.Principal.Role == rempart.RoleSystemAdmin {
		nav = "tenants"
	}
	p := retentionPage{view: s.view(r, v, t.Name+": retention", nav), Tenant: t, Retention: ret,
		Default: ruleForm{Restorable: daysText(ret.Default.RestorableDays), MaxAge: daysText(ret.Default.MaxAgeDays)},
		Chart:   newRetentionChart(ret)}
	if def != nil {
		p.Default = *def
	}
	if rule != nil {
		p.Rule = *rule
	}
	p.Alert = alert
	s.render(w, r, status, "retention", p)
	return nil
}

func retentionPath(tenant string) string { return "/tenants/" + tenant + "/retention" }

func (s *server) setRetentionDefault(w http.ResponseWriter, r *http.Request, v *visit) error {
	tenant, f := r.PathValue("tenant"), postedRule(r)
	f.Collection = ""
	if _, err := s.cfg.Retention.SetRetentionDefault(r.Context(), v.caller, tenant, f.read); err != nil {
		if formError(err) {
			return s.showRetention(w, r, v, s.status(w, r, err), rempart.ErrorMessage(err), &f, nil)
		}
		return err
	}
	redirect(w, r, retentionPath(tenant), "retention-default-set")
	return nil
}

func (s *server) deleteRetentionDefault(w http.ResponseWriter, r *http.Request, v *visit) error {
	tenant := r.PathValue("tenant")
	if err := s.cfg.Retention.DeleteRetentionDefault(r.Context(), v.caller, tenant); err != nil {
		return err
	}
	redirect(w, r, retentionPath(tenant), "retention-default-deleted")
	return nil
}

func (s *server) setRetentionRule(w http.ResponseWriter, r *http.Request, v *visit) error {
	tenant, f := r.PathValue("tenant"), postedRule(r)
	if _, err := s.cfg.Retention.SetRetentionRule(r.Context(), v.caller, tenant, f.Collection, f.read); err != nil {
		if formError(err) {
			return s.showRetention(w, r, v, s.status(w, r, err), rempart.ErrorMessage(err), nil, &f)
		}
		return err
	}
	redirect(w, r, retentionPath(tenant), "retention-rule-set")
	return nil
}

func (s *server) deleteRetentionRule(w http.ResponseWriter, r *http.Request, v *visit) error {
	tenant := r.PathValue("tenant")
	if err := s.cfg.Retention.DeleteRetentionRule(r.Context(), v.caller, tenant, r.PathValue("collection")); err != nil {
		return err
	}
	redirect(w, r, retentionPath(tenant), "retention-rule-deleted")
	return nil
}
